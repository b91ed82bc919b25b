"""An order's life after it is written: paid, or expired, or cancelled; each unit returned once.

Every transition is one guarded ``UPDATE … WHERE status = …`` in a transaction: paying
needs ``awaiting_payment`` and ``pay_by`` still ahead, expiring needs ``awaiting_payment``
and ``pay_by`` passed, so of a payment and an expiry that race exactly one wins (the row's
lock orders them, and the loser's condition no longer holds). Nothing extends ``pay_by``.

An order that expired or was cancelled gives its unit back to the sale in Redis
(``sales.inventory.return_units``, keyed by the order id: once however often asked),
and ``unit_returned`` records it. The return follows the commit, so a process that dies
in between leaves ``unit_returned`` false, and ``return_units`` finds it and asks again.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from orders.models import Order
from orders.notify import notify_status
from sales import inventory

log = logging.getLogger(__name__)

S = Order.Status
ENDED = (S.EXPIRED, S.CANCELLED)


def mark_paid(order_pk: int, now: datetime) -> tuple[str, bool]:
    """Mark the order paid if it awaits payment and ``pay_by`` is ahead; returns its status after,
    and whether this call paid it (False: it was paid before, or it has ended).

    An order found awaiting payment past ``pay_by`` is expired here (as the worker would),
    so a late payment is never taken for an order that should have expired.
    """
    with transaction.atomic():
        if Order.objects.filter(pk=order_pk, status=S.AWAITING_PAYMENT, pay_by__gt=now).update(
            status=S.PAID, paid_at=now
        ):
            return S.PAID, True
        expire(now, pks=[order_pk])
        return Order.objects.values_list("status", flat=True).get(pk=order_pk), False


def expire(now: datetime | None = None, *, pks: list[int] | None = None, limit: int = 1000) -> int:
    """Expire orders awaiting payment whose ``pay_by`` has passed (of ``pks``, or the oldest
    ``limit`` of all); returns how many. Their units go back with ``return_units``."""
    now = now or timezone.now()
    due = Order.objects.filter(status=S.AWAITING_PAYMENT, pay_by__lte=now)
    if pks is None:
        pks = list(due.order_by("pay_by").values_list("pk", flat=True)[:limit])
    if not pks:
        return 0
    with transaction.atomic():
        return due.filter(pk__in=pks).update(status=S.EXPIRED, ended_at=now)


def cancel(order_pks: list[int], now: datetime | None = None, *, paid: bool = False) -> int:
    """Cancel orders awaiting payment (or, with ``paid``, paid orders whose payment was refunded);
    returns how many. Their units go back with ``return_units``."""
    now = now or timezone.now()
    status = S.PAID if paid else S.AWAITING_PAYMENT
    with transaction.atomic():
        return Order.objects.filter(pk__in=order_pks, status=status).update(status=S.CANCELLED, ended_at=now)


def return_units(limit: int = 1000) -> int:
    """Give back the units of orders that expired or were cancelled and whose return is not
    recorded; returns how many went back now. Safe to run anywhere, any number of times."""
    owed = list(
        Order.objects.filter(status__in=ENDED, unit_returned=False)
        .order_by("ended_at")
        .values_list("pk", "sale_id", "buyer_id", "order_id", "status")[:limit]
    )
    if not owed:
        return 0
    done = inventory.return_units((sale_id, buyer_id, str(order_id)) for _, sale_id, buyer_id, order_id, _ in owed)
    settled, now, told = [], 0, []
    for pk, sale_id, buyer_id, order_id, status in owed:
        outcome = done[str(order_id)]
        if outcome is inventory.Returned.UNCHECKED:
            continue  # Redis is rebuilding the sale: the next round asks again
        if outcome is inventory.Returned.NOT_AN_ORDER:
            log.error(
                "sale %s: order %s ended but Redis holds no unit for it; nothing to return",
                sale_id,
                order_id,
                extra={"sale_id": sale_id, "order_id": order_id, "buyer_id": buyer_id},
            )
        now += outcome is inventory.Returned.NOW
        settled.append(pk)
        told.append((buyer_id, str(order_id), status))
    Order.objects.filter(pk__in=settled).update(unit_returned=True)
    notify_status(told)
    return now
