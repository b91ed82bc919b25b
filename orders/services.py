"""Turning a batch of order events into order rows: the order worker's handler.

``persist_batch`` is a plain function of a batch of decoded events (with where
they came from in Kafka) to what became of each; it needs the database and Redis,
not Kafka (``plumbing.kafka.batches`` feeds it). It is idempotent: every row is keyed by ``order_id`` and an
event seen again changes nothing, so a batch may be retried or redelivered at
will. Before a row is written the reservation is confirmed in Redis, which
settles the race with the buy path giving an unacknowledged reservation back:
a reservation ends either released or confirmed, never both.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

from orders.events import OrderEvent
from orders.models import Order
from plumbing.kafka.batches import Delivered
from sales import inventory
from sales.models import Sale

log = logging.getLogger(__name__)


# An order event with where it came from in Kafka.
Placed = Delivered[OrderEvent]


@dataclass
class BatchResult:
    """What became of each event: a row, nothing (its unit was given back first), or refused for good."""

    written: list[Placed]
    released: list[Placed]
    rejected: list[tuple[Placed, str]]


def _check_references(placed: list[Placed]) -> tuple[dict[int, str], dict[int, timedelta]]:
    """(index -> reason for events whose sale or buyer does not exist, sale id -> its payment window).

    Almost always every buyer exists, so a COUNT settles it; the ids are fetched only
    when it falls short.
    """
    sale_ids = {p.value.sale_id for p in placed}
    buyer_ids = {p.value.buyer_id for p in placed}
    windows = {
        pk: timedelta(seconds=settings.PAYMENT_WINDOW if window is None else window)
        for pk, window in Sale.objects.filter(pk__in=sale_ids).values_list("pk", "payment_window")
    }
    buyers = get_user_model().objects.filter(pk__in=buyer_ids)
    missing_buyers = buyers.count() != len(buyer_ids)
    if len(windows) == len(sale_ids) and not missing_buyers:
        return {}, windows
    buyer_ids = set(buyers.values_list("pk", flat=True)) if missing_buyers else buyer_ids
    problems = {}
    for i, p in enumerate(placed):
        if p.value.sale_id not in windows:
            problems[i] = f"unknown sale {p.value.sale_id}"
        elif p.value.buyer_id not in buyer_ids:
            problems[i] = f"unknown buyer {p.value.buyer_id}"
    return problems, windows


class OrderInsert:
    """``INSERT … ON DUPLICATE KEY UPDATE order_id`` of many order rows, compiled by the ORM once.

    ``Order.objects.bulk_create(rows, update_conflicts=True, update_fields=["order_id"])``
    writes exactly this statement, but compiles it again for every value of every
    row: that was ~45 % of the consumer's CPU (bench/RESULTS.md). Here Django's
    own insert compiler builds the statement for one row once per database; a
    batch repeats its ``VALUES`` group and each value goes through its model
    field's ``get_db_prep_save``, as ``bulk_create`` would do.
    ON DUPLICATE KEY UPDATE order_id = order_id: the duplicate key *is* order_id,
    so a redelivered order changes nothing (not even a status changed since, as
    updating "status" would); unlike INSERT IGNORE, no other error is silenced.
    """

    def __init__(self, using: str):
        self.using = using
        self.fields = [f for f in Order._meta.concrete_fields if not f.primary_key]
        query = InsertQuery(
            Order, on_conflict=OnConflict.UPDATE, update_fields=[Order._meta.get_field("order_id")], unique_fields=[]
        )
        template = Order(reserved_at=datetime.now(UTC), kafka_partition=0, kafka_offset=0)
        query.insert_values(self.fields, [template])
        [(sql, _params)] = query.get_compiler(using=using).as_sql()
        self.row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        head, found, tail = sql.partition(f" VALUES {self.row}")
        if not found or self.row in tail:
            raise RuntimeError(f"unexpected INSERT from the ORM: {sql}")
        self.head, self.tail = f"{head} VALUES ", tail

    def execute(self, rows: list[dict]) -> None:
        """``rows``: field attname -> value (``created_at`` is set here, as ``auto_now_add`` would)."""
        connection = connections[self.using]  # this thread's
        created_at = datetime.now(UTC)
        params = []
        # Values repeat a lot within a batch (sale, price, partition, status):
        # each distinct one is prepared once.
        preparers: list[tuple[str, Callable[..., Any], dict[Any, Any]]]
        preparers = [(f.attname, f.get_db_prep_save, {}) for f in self.fields]
        for row in rows:
            row["created_at"] = created_at
            for attname, prepare, seen in preparers:
                value = row[attname]
                try:
                    params.append(seen[value])
                except KeyError:
                    params.append(seen.setdefault(value, prepare(value, connection)))
        sql = self.head + ", ".join([self.row] * len(rows)) + self.tail
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


_inserts: dict[str, OrderInsert] = {}


def insert_orders(rows: list[dict]) -> None:
    """Write ``rows`` in one statement, in a transaction of the orders' database."""
    using = router.db_for_write(Order)
    if using not in _inserts:
        _inserts[using] = OrderInsert(using)
    with transaction.atomic(using=using):
        _inserts[using].execute(rows)


def persist_batch(placed: list[Placed]) -> BatchResult:
    result = BatchResult(written=[], released=[], rejected=[])
    if not placed:
        return result
    problems, windows = _check_references(placed)
    candidates = []
    for i, p in enumerate(placed):
        if i in problems:
            result.rejected.append((p, problems[i]))
        else:
            candidates.append(p)

    holds = [(p.value.sale_id, str(p.value.order_id)) for p in candidates]
    confirmed = inventory.confirm(holds)
    rows = []
    written_at = datetime.now(UTC)
    for p, hold in zip(candidates, holds, strict=True):
        if confirmed[hold]:
            result.written.append(p)
            rows.append(
                {
                    "order_id": p.value.order_id,
                    "sale_id": p.value.sale_id,
                    "buyer_id": p.value.buyer_id,
                    "price": p.value.price,
                    "status": Order.Status.AWAITING_PAYMENT,
                    "reserved_at": p.value.reserved_at,
                    "pay_by": written_at + windows[p.value.sale_id],
                    "paid_at": None,
                    "ended_at": None,
                    "unit_returned": False,
                    "kafka_partition": p.partition,
                    "kafka_offset": p.offset,
                }
            )
        else:
            log.info(
                "order %s was given back before it was confirmed; no row",
                p.value.order_id,
                extra={"sale_id": p.value.sale_id, "order_id": p.value.order_id, "buyer_id": p.value.buyer_id},
            )
            result.released.append(p)
    if rows:
        insert_orders(rows)
    return result
