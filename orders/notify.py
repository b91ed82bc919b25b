"""Tell buyers their orders are confirmed, over their open websockets."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from orders.models import Order
from orders.services import Placed
from sales import live

log = logging.getLogger(__name__)


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


def notify_confirmed(written: list[Placed]) -> None:
    """Called after the batch is committed: a push never announces an unwritten row."""
    if not written:
        return
    try:
        async_to_sync(_send_all)(written)
    except Exception:
        # Best effort: the row is written either way and the page falls back to polling.
        log.exception("could not push %d order confirmations", len(written))
