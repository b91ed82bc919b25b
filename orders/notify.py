"""Tell buyers how their orders stand (written, paid, expired, cancelled), over their open websockets."""

import logging

from orders.models import Order
from orders.services import BatchResult
from sales.live import messages, presence, push

log = logging.getLogger(__name__)


def notify_confirmed(result: BatchResult) -> None:
    """Called after the batch is committed: a push never announces an unwritten row.

    Only buyers with a socket open are told (one HMGET for the batch).
    """
    if not result.written:
        return
    try:
        watching = presence.watching(list({d.value.buyer_id for d in result.written}))
        push.to_buyers(
            [
                (d.value.buyer_id, messages.order_payload(str(d.value.order_id), Order.Status.AWAITING_PAYMENT))
                for d in result.written
                if d.value.buyer_id in watching
            ]
        )
    except Exception:
        # Best effort: the row is written either way and the page falls back to polling.
        log.exception("could not push %d order confirmations", len(result.written))


def notify_status(changes: list[tuple[int, str, str]]) -> None:
    """Tell each buyer, of (buyer id, order id, status), the order's new status; after the commit,
    best effort (the My orders page also asks now and then)."""
    if not changes:
        return
    try:
        watching = presence.watching(list({buyer for buyer, _, _ in changes}))
        push.to_buyers(
            [
                (buyer, messages.order_payload(order_id, status))
                for buyer, order_id, status in changes
                if buyer in watching
            ]
        )
    except Exception:
        log.exception("could not push %d order status changes", len(changes))
