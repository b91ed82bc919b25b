"""Turning a batch of order events into order rows.

``persist_batch`` is idempotent: every row is keyed by ``order_id`` and an
event seen again changes nothing, so a batch may be retried or redelivered at
will. Before a row is written the reservation is confirmed in Redis, which
settles the race with the buy path giving an unacknowledged reservation back:
a reservation ends either released or confirmed, never both.
"""

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from orders.events import OrderEvent
from orders.models import Order
from sales.models import Sale
from sales.redis_clients import sync_redis, sync_scripts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Placed:
    """An event with where it came from in Kafka."""

    event: OrderEvent
    partition: int
    offset: int


@dataclass
class BatchResult:
    written: list[Placed]
    released: list[Placed]
    rejected: list[tuple[Placed, str]]


def _unknown_references(placed: list[Placed]) -> dict[int, str]:
    """Index -> reason for events whose sale or buyer does not exist."""
    sale_ids = {p.event.sale_id for p in placed}
    buyer_ids = {p.event.buyer_id for p in placed}
    sales = set(Sale.objects.filter(pk__in=sale_ids).values_list("pk", flat=True))
    buyers = set(get_user_model().objects.filter(pk__in=buyer_ids).values_list("pk", flat=True))
    problems = {}
    for i, p in enumerate(placed):
        if p.event.sale_id not in sales:
            problems[i] = f"unknown sale {p.event.sale_id}"
        elif p.event.buyer_id not in buyers:
            problems[i] = f"unknown buyer {p.event.buyer_id}"
    return problems


def persist_batch(placed: list[Placed]) -> BatchResult:
    result = BatchResult(written=[], released=[], rejected=[])
    if not placed:
        return result
    problems = _unknown_references(placed)
    candidates = []
    for i, p in enumerate(placed):
        if i in problems:
            result.rejected.append((p, problems[i]))
        else:
            candidates.append(p)

    scripts = sync_scripts()
    pipe = sync_redis().pipeline(transaction=False)
    for p in candidates:
        scripts.confirm(p.event.sale_id, str(p.event.order_id), client=pipe)
    confirmed = pipe.execute() if candidates else []

    rows = []
    for p, ok in zip(candidates, confirmed, strict=True):
        if ok == 1:
            result.written.append(p)
            rows.append(
                Order(
                    order_id=p.event.order_id,
                    sale_id=p.event.sale_id,
                    buyer_id=p.event.buyer_id,
                    price=p.event.price,
                    status=Order.Status.CONFIRMED,
                    reserved_at=p.event.reserved_at,
                    kafka_partition=p.partition,
                    kafka_offset=p.offset,
                )
            )
        else:
            log.info("order %s was given back before it was confirmed; no row", p.event.order_id)
            result.released.append(p)
    if rows:
        with transaction.atomic():
            # ON DUPLICATE KEY UPDATE order_id = VALUES(order_id): the duplicate
            # key *is* order_id, so this sets it to its own value and a
            # redelivered order changes nothing (not even a status changed
            # since, as updating "status" would); unlike INSERT IGNORE no other
            # error is silenced.
            Order.objects.bulk_create(rows, update_conflicts=True, update_fields=["order_id"])
    return result
