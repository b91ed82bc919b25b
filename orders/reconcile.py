"""Do Redis, the order rows and the order topic agree? ``manage.py reconcile``.

For each sale: the units Redis counts (in stock, held, of which confirmed), the order
rows, and what the order consumer group still has to read. What must hold:

- ``in stock + held = total`` in Redis (every script moves a unit from one to the other);
  anything else means Redis lost or changed data.
- ``rows = confirmed``, counting the rows that hold their unit (awaiting payment, paid, or
  ended with the return still to do): the consumer confirms a hold, then writes its row in the same
  batch. Fewer rows is work in flight while the group has events to read; more rows
  than confirmations means Redis lost them.
- No hold older than the abandoned-hold bound (``orders.abandoned``): ``--repair``
  gives those back, once the consumer has read past every event that could be theirs.
- The sale's state was checked on this Redis server since it started (``orders.recovery``):
  an unchecked sale sells nothing. ``--repair`` rebuilds it from the rows and the topic,
  and so it does a sale whose counts say Redis lost or changed data (it marks it
  unchecked first, so that it stops selling while the rebuild waits).
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from orders.abandoned import AbandonedHolds, bound_ms
from orders.models import HOLDS_A_UNIT, Order
from orders.recovery import Recovery, Restored
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
    lost_data: bool = False  # Redis lost or changed data: the sale is to be rebuilt


def check(sale_ids: list[int] | None, lag: int) -> list[SaleCheck]:
    """``lag``: events the order consumer group has yet to read (work in flight)."""
    chosen = Sale.objects.order_by("pk")
    if sale_ids:
        chosen = chosen.filter(pk__in=sale_ids)
    sales = list(chosen)
    # rows whose unit Redis counts as confirmed: awaiting payment or paid, and ended ones whose
    # return is not done yet (Redis confirms them until ``orders.lifecycle.return_units`` runs)
    counted = Order.objects.filter(sale_id__in=[sale.pk for sale in sales])
    holding = Q(status__in=HOLDS_A_UNIT) | Q(unit_returned=False)
    tallies = counted.values_list("sale_id").annotate(
        n=Count("pk", filter=holding), firm=Count("pk", filter=Q(status__in=HOLDS_A_UNIT))
    )
    rows = {sale_id: n for sale_id, n, _ in tallies.values_list("sale_id", "n", "firm")}
    firm = {sale_id: f for sale_id, _, f in tallies.values_list("sale_id", "n", "firm")}
    cutoff = inventory.redis_time_ms() - bound_ms()
    unchecked = set(inventory.unchecked([sale.pk for sale in sales]))
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
        if sale.pk in unchecked:
            found.problems.append("not checked on this Redis server since it started: sells nothing until rebuilt")
        if ledger.in_stock + ledger.holds != ledger.total:
            found.problems.append(f"Redis: in stock {ledger.in_stock} + held {ledger.holds} != total {ledger.total}")
            found.lost_data = True
        if firm.get(sale.pk, 0) > ledger.confirmed:
            found.problems.append(f"{firm[sale.pk] - ledger.confirmed} row(s) without a confirmation in Redis")
            found.lost_data = True
        elif n_rows < ledger.confirmed and lag == 0:
            found.problems.append(f"{ledger.confirmed - n_rows} confirmed hold(s) without a row, nothing left to read")
        if abandoned and lag == 0:  # with events left to read, they may be those holds' (work in flight)
            found.problems.append(f"{abandoned} hold(s) older than {bound_ms() / 1000:g} s: abandoned")
        checks.append(found)
    return checks


@dataclass
class Repairs:
    released: list[tuple[int, str]] = field(default_factory=list)  # (sale id, order id) given back
    restored: list[Restored] = field(default_factory=list)
    waiting: bool = False  # something is still to be done: the consumer is behind, or a rebuild's wait


class Repairer:
    """What ``--repair`` does, a round at a time: give back abandoned holds, and rebuild the
    sales that are unchecked (or whose counts say Redis lost data, which it marks unchecked).
    A rebuild waits out the abandoned-hold bound, so a round may leave work for the next."""

    def __init__(self, offsets):
        self.holds = AbandonedHolds(offsets)
        self.recovery = Recovery(offsets)

    def round(self, checks: Sequence[SaleCheck] = ()) -> Repairs:
        for found in checks:
            if found.lost_data:
                inventory.mark_unchecked(found.sale_id)
        done = Repairs()
        done.restored = self.recovery.run()
        sweep = self.holds.sweep()
        done.released = sweep.released or []
        done.waiting = sweep.waiting or bool(self.recovery.pending())
        return done


def repair(offsets, checks: list[SaleCheck], wait_rounds: int = 60) -> Repairs:
    """Rounds of ``Repairer`` until nothing waits (at most ``wait_rounds`` seconds)."""
    repairer, total = Repairer(offsets), Repairs()
    for _ in range(wait_rounds):
        done = repairer.round(checks)
        checks = []
        total.released += done.released
        total.restored += done.restored
        if not done.waiting:
            return total
        time.sleep(1)
    total.waiting = True
    return total
