"""Tell buyers their orders are confirmed, over their open websockets."""

import asyncio
import logging

from channels.layers import get_channel_layer

from orders.models import Order
from orders.services import Placed
from sales import keys, live
from sales.redis_clients import sync_redis

log = logging.getLogger(__name__)
_loop: asyncio.AbstractEventLoop | None = None


def _run(coroutine):
    """Run on the worker's one event loop for pushes: the channel layer keeps its Redis
    connection there between batches (``async_to_sync`` would start a thread, a loop
    and a connection for every batch)."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coroutine)


async def _send_all(written: list[Placed]) -> None:
    layer = get_channel_layer()
    await asyncio.gather(
        *(
            layer.group_send(
                live.buyer_group(p.event.buyer_id),
                live.group_message(live.order_payload(str(p.event.order_id), Order.Status.CONFIRMED)),
            )
            for p in written
        )
    )


def _watching(written: list[Placed]) -> list[Placed]:
    """The orders whose buyers have a socket open: one HMGET for the batch.

    In a stampede most buyers have no page open, and a publish per order was a
    fifth of the consumer's time (bench/RESULTS.md).
    """
    buyer_ids = list({p.event.buyer_id for p in written})
    counts = sync_redis().hmget(keys.live_buyers(), buyer_ids)
    watching = {b for b, n in zip(buyer_ids, counts, strict=True) if n is not None and int(n) > 0}
    return [p for p in written if p.event.buyer_id in watching]


def notify_confirmed(written: list[Placed]) -> None:
    """Called after the batch is committed: a push never announces an unwritten row."""
    if not written:
        return
    try:
        watched = _watching(written)
        if watched:
            _run(_send_all(watched))
    except Exception:
        # Best effort: the row is written either way and the page falls back to polling.
        log.exception("could not push %d order confirmations", len(written))
