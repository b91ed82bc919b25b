"""Rebuilding a sale's stock in Redis after Redis lost it, from the order rows and the order topic.

Redis can come back without a sale's keys, or with older ones: a restart without its
AOF, or with the last second of an ``appendfsync everysec`` AOF missing, a failover to
a replica that lagged, keys deleted by hand. An older state would sell units again
that are held, and would tell the order consumer that a hold it does not have was
released, so an order a buyer was promised would never be written. Why what follows
is safe (README, "When Redis loses data"):

1. A sale's state carries the run_id of the Redis server it was last checked on, and
   every server start has a new run_id (a promoted replica has its own). Until the
   state is rebuilt on this server, the sale sells nothing (buyers hear ``503 retry``),
   the consumer confirms nothing of it (it waits, committing nothing), and the
   abandoned-hold sweep gives nothing of it back: ``sales.inventory.unchecked``.
2. Every unit a buyer was told they hold is an order row or an order event in the
   topic, or its event is on its way there, for at most the abandoned-hold bound after
   the hold was made (``orders.abandoned``). Holds were made only before the loss, so
   once the bound has passed since the sale was first seen unchecked, every such event
   is in the topic.
3. The rebuilt state holds the sale's rows (confirmed) and the events past the consumer
   group's committed offsets that have no row (held: the consumer has yet to read them,
   and will confirm them). An event behind the committed offsets without a row was
   released before; one past them whose unit its buy gave back (the broker took the
   event but its acknowledgement was lost) becomes an order for a buyer who was told to
   try again: the unit is in an order, never in nobody's hands.

Idempotency keys are not rebuilt; a buyer who holds their limit still hears
``limit_reached`` with their orders.
"""

import logging
import time
from dataclasses import dataclass

from orders import events
from orders.abandoned import bound_ms, recent_sales
from orders.models import HOLDS_A_UNIT, Order
from sales import inventory
from sales.models import Sale
from sales.services import offer_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Restored:
    sale_id: int
    rows: int
    unread: int  # held units restored from events the consumer has yet to read
    remaining: int


def unread_holds(offsets, sale_ids: set[int]) -> dict[int, dict[str, int]]:
    """Sale id -> {order id: buyer id} of the order events the consumer group has yet to read."""
    found: dict[int, dict[str, int]] = {sale_id: {} for sale_id in sale_ids}
    for raw in offsets.unread():
        try:
            event = events.decode(raw)
        except events.InvalidEvent:
            continue  # the consumer dead-letters it
        if event.sale_id in found:
            found[event.sale_id][str(event.order_id)] = event.buyer_id
    return found


def restore(sale: Sale, unread: dict[str, int]) -> Restored:
    """Rebuild one sale's state from its rows and ``unread`` (its events not read yet)."""
    every_row = Order.objects.filter(sale=sale).order_by("pk").values_list("order_id", "buyer_id", "status")
    rows, returned = [], []
    for order_id, buyer_id, status in every_row:
        if status in HOLDS_A_UNIT:
            rows.append((str(order_id), buyer_id))
        else:  # expired or cancelled: its unit is back in stock (return_units then finds it returned)
            returned.append(str(order_id))
    have_rows = {order_id for order_id, _ in rows} | set(returned)
    held = [(order_id, buyer_id) for order_id, buyer_id in unread.items() if order_id not in have_rows]
    rebuilt = inventory.rebuild(
        sale.pk,
        **offer_of(sale),
        confirmed=rows,
        held=held,
        returned=returned,
    )
    if rebuilt.held > sale.total_stock:
        log.error("sale %s: %d units held or ordered, of %d", sale.pk, rebuilt.held, sale.total_stock)
    log.warning(
        "sale %s: stock rebuilt in Redis: %d row(s), %d unread event(s), %d left",
        sale.pk,
        len(rows),
        len(held),
        rebuilt.remaining,
        extra={"sale_id": sale.pk},
    )
    return Restored(sale.pk, len(rows), len(held), rebuilt.remaining)


class Recovery:
    """Finds unchecked sales and rebuilds each once the bound has passed since it was first seen
    unchecked (point 2 above); call ``run`` again and again."""

    def __init__(self, offsets, clock=time.monotonic):
        self.offsets = offsets  # plumbing.kafka.offsets.GroupOffsets of the order topic and group
        self._clock = clock
        self._seen: dict[int, float] = {}  # unchecked sale -> when first seen so

    def pending(self) -> list[int]:
        """The sales found unchecked (rebuilt by a later ``run``)."""
        return sorted(self._seen)

    def run(self) -> list[Restored]:
        unchecked = set(inventory.unchecked(recent_sales()))
        now = self._clock()
        self._seen = {sale_id: self._seen.get(sale_id, now) for sale_id in unchecked}
        due = {sale_id for sale_id, seen in self._seen.items() if now - seen >= bound_ms() / 1000}
        if not due:
            return []
        unread = unread_holds(self.offsets, due)
        restored = [restore(sale, unread[sale.pk]) for sale in Sale.objects.filter(pk__in=due).order_by("pk")]
        for done in restored:
            self._seen.pop(done.sale_id, None)
        return restored
