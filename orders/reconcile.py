"""Do Redis, the order rows and the order topic agree? ``manage.py reconcile``.

For each sale: the units Redis counts (in stock, held, of which confirmed), the order
rows, and what the order consumer group still has to read. What must hold:

- ``in stock + held = total`` in Redis (every script moves a unit from one to the other);
  anything else means Redis lost or changed data.
- ``rows = confirmed``: the consumer confirms a hold, then writes its row in the same
  batch. Fewer rows is work in flight while the group has events to read; more rows
  than confirmations means Redis lost them.
- No hold older than the abandoned-hold bound (``orders.abandoned``): ``--repair``
  gives those back, once the consumer has read past every event that could be theirs.
"""

import time
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from orders.abandoned import AbandonedHolds, bound_ms
from orders.models import Order
from sales import inventory
from sales.models import Sale


@dataclass
class SaleCheck:
    sale_id: int
    total: int
    in_stock: int | None  # None: the sale is not in Redis
    held: int
    confirmed: int
    rows: int
    abandoned: int
    problems: list[str] = field(default_factory=list)


def check(sale_ids: list[int] | None, lag: int) -> list[SaleCheck]:
    """``lag``: events the order consumer group has yet to read (work in flight)."""
    sales = Sale.objects.order_by("pk")
    if sale_ids:
        sales = sales.filter(pk__in=sale_ids)
    rows = dict(Order.objects.values_list("sale_id").annotate(n=Count("pk")).values_list("sale_id", "n"))
    cutoff = inventory.redis_time_ms() - bound_ms()
    checks = []
    for sale in sales:
        ledger = inventory.ledger(sale.pk)
        n_rows = rows.get(sale.pk, 0)
        if ledger is None:
            found = SaleCheck(sale.pk, sale.total_stock, None, 0, 0, n_rows, 0)
            if n_rows or sale.ends_at > timezone.now():
                found.problems.append("not in Redis: it sells nothing until its state is rebuilt")
            checks.append(found)
            continue
        abandoned = len(inventory.stale_holds(sale.pk, cutoff))
        found = SaleCheck(sale.pk, ledger.total, ledger.in_stock, ledger.holds, ledger.confirmed, n_rows, abandoned)
        if ledger.in_stock + ledger.holds != ledger.total:
            found.problems.append(f"Redis: in stock {ledger.in_stock} + held {ledger.holds} != total {ledger.total}")
        if n_rows > ledger.confirmed:
            found.problems.append(f"{n_rows - ledger.confirmed} row(s) without a confirmation in Redis")
        elif n_rows < ledger.confirmed and lag == 0:
            found.problems.append(f"{ledger.confirmed - n_rows} confirmed hold(s) without a row, nothing left to read")
        if abandoned:
            found.problems.append(f"{abandoned} hold(s) older than {bound_ms() / 1000:g} s: abandoned")
        checks.append(found)
    return checks


def repair(holds: AbandonedHolds, wait_rounds: int = 30) -> list[tuple[int, str]]:
    """Give back the abandoned holds (waiting up to ``wait_rounds`` sweeps for the consumer)."""
    for _ in range(wait_rounds):
        sweep = holds.sweep()
        if not sweep.waiting:
            return sweep.released or []
        time.sleep(1)
    return []
