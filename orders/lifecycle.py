"""An order's life after it is written: paid, or expired, or cancelled; each unit returned once.

Every transition is a guarded change in one transaction: paying needs ``awaiting_payment``
and ``pay_by`` still ahead, expiring needs ``awaiting_payment`` and ``pay_by`` passed, so of a
payment and an expiry that race exactly one wins (the row's lock orders them, and the loser's
condition no longer holds). Nothing extends ``pay_by``.

The lock order: a transition first locks its orders' rows through the primary key alone, in
its order (``_lock``), reads their status there, and then updates them by primary key alone.
An ``UPDATE … WHERE status = … AND pay_by <= …`` lets the optimizer run through the
(status, pay_by) index instead, and on a table with a history it does: it locks an order's
index entry and then waits for the row, while a payment holding that row waits to change the
entry, and InnoDB kills one of them (deadlock 1213: issue 11's pay race lost payers to it;
test_lifecycle_locks reproduces it). Locked by primary key in one order, two transitions on
the same orders only queue. ``atomic_retrying`` runs a deadlock's victim again all the same.

An order that expired or was cancelled gives its unit back to the sale in Redis
(``sales.inventory.return_units``, keyed by the order id: once however often asked),
and ``unit_returned`` records it. The return follows the commit, so a process that dies
in between leaves ``unit_returned`` false, and ``return_units`` finds it and asks again.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from orders.models import Order
from orders.notify import notify_status
from plumbing.transactions import atomic_retrying
from sales import inventory

log = logging.getLogger(__name__)

S = Order.Status
ENDED = (S.EXPIRED, S.CANCELLED)


def _locking(pks: Iterable[int]) -> "QuerySet[Order, tuple[int, str, datetime | None]]":
    """The query that locks these orders' rows in primary-key order and reads (pk, status, pay_by).

    ``pk IN (…)`` is its only condition and the order is the primary key's, so the rows are
    read (and locked) through the primary key, never through an index on status.
    """
    rows = Order.objects.select_for_update().filter(pk__in=list(pks)).order_by("pk")
    return rows.values_list("pk", "status", "pay_by")


def _lock(pks: Iterable[int]) -> list[tuple[int, str, datetime | None]]:
    return list(_locking(pks))


def _set(pks: list[int], **fields) -> int:
    """Update rows this transaction has locked, by primary key alone."""
    return Order.objects.filter(pk__in=pks).update(**fields) if pks else 0


@atomic_retrying()
def mark_paid(order_pk: int, now: datetime) -> tuple[str, bool]:
    """Mark the order paid if it awaits payment and ``pay_by`` is ahead; returns its status after,
    and whether this call paid it (False: it was paid before, or it has ended).

    An order found awaiting payment past ``pay_by`` is expired here (as the worker would),
    so a late payment is never taken for an order that should have expired.
    """
    [(_, status, pay_by)] = _lock([order_pk])
    if status != S.AWAITING_PAYMENT or pay_by is None:
        return status, False
    if pay_by > now:
        _set([order_pk], status=S.PAID, paid_at=now)
        return S.PAID, True
    _set([order_pk], status=S.EXPIRED, ended_at=now)
    return S.EXPIRED, False


def expire(now: datetime | None = None, *, pks: list[int] | None = None, limit: int = 1000) -> int:
    """Expire orders awaiting payment whose ``pay_by`` has passed (of ``pks``, or the oldest
    ``limit`` of all); returns how many. Their units go back with ``return_units``."""
    now = now or timezone.now()
    if pks is None:  # candidates, read without locks: _expire decides on the locked rows
        due = Order.objects.filter(status=S.AWAITING_PAYMENT, pay_by__lte=now).order_by("pay_by")
        pks = list(due.values_list("pk", flat=True)[:limit])
    return _expire(pks, now) if pks else 0


@atomic_retrying()
def _expire(pks: list[int], now: datetime) -> int:
    due = [pk for pk, status, pay_by in _lock(pks) if status == S.AWAITING_PAYMENT and pay_by and pay_by <= now]
    return _set(due, status=S.EXPIRED, ended_at=now)


@atomic_retrying()
def cancel(order_pks: list[int], now: datetime | None = None, *, paid: bool = False) -> int:
    """Cancel orders awaiting payment (or, with ``paid``, paid orders whose payment was refunded);
    returns how many. Their units go back with ``return_units``."""
    now = now or timezone.now()
    status = S.PAID if paid else S.AWAITING_PAYMENT
    chosen = [pk for pk, current, _ in _lock(order_pks) if current == status]
    return _set(chosen, status=S.CANCELLED, ended_at=now)


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
