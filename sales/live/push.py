"""Push messages to buyers' open websockets from synchronous code outside a web process.

Used by the order worker after its batch is committed. Callers send only to
buyers with a socket open (``presence.watching``): in a stampede most buyers
have no page open, and a publish per order was a fifth of the worker's time
(bench/RESULTS.md).
"""

import asyncio

from channels.layers import get_channel_layer

from sales.live import messages

_loop: asyncio.AbstractEventLoop | None = None


def _run(coroutine):
    """Run on the process's one event loop for pushes: the channel layer keeps its Redis
    connection there between calls (``async_to_sync`` would start a thread, a loop
    and a connection every time)."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coroutine)


async def _send_all(to_send: list[tuple[int, dict]]) -> None:
    layer = get_channel_layer()
    await asyncio.gather(
        *(layer.group_send(messages.buyer_group(b), messages.group_message(payload)) for b, payload in to_send)
    )


def to_buyers(payloads: list[tuple[int, dict]]) -> None:
    """Send each ``(buyer id, payload)`` to that buyer's open sockets."""
    if payloads:
        _run(_send_all(payloads))
