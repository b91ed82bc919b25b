"""Abandoned holds: reservations whose buy will never hand an order event to Kafka.

A buy takes its unit in Redis first, then produces the order event. If the web
process dies in between, or its Redis reply is lost, nothing in that process can give
the unit back, and it would stay taken for good. So a sweep looks for holds older
than a bound and gives back those for which no order event can still arrive.

Why that is safe (README, "No abandoned hold", has the state diagram):

1. A web process produces a hold's event only within ``BUY_PRODUCE_WITHIN`` of
   sending its purchase script, else it gives the unit back itself
   (``orders.placing``); librdkafka gives up on a message ``BUY_ACK_TIMEOUT`` after it
   was produced (``message.timeout.ms``). So an event for a hold reserved at ``since``
   is in the topic by ``since + BUY_PRODUCE_WITHIN + BUY_ACK_TIMEOUT`` or never.
   ``HOLD_SLACK`` covers a request the broker is still writing and clock differences.
2. The sweep takes the holds older than ``now - bound`` (Redis's clock, the clock of
   ``since``) and then the topic's end offsets: any event for those holds lies below.
3. It gives them back only once the order consumer group has committed past those
   offsets, i.e. has processed every event that could be theirs; a hold still
   unconfirmed then has no event and never will. The release script checks, inside
   Redis, that the hold is still unconfirmed and still that old.

While the consumer is stopped or behind, the sweep waits: releasing then could
resell a unit whose order is still on its way. A hold that has an order row (its
confirmation was lost with Redis data, see ``orders.recovery``) is confirmed instead,
and the holds of a sale whose state is unchecked are left to its rebuild.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from orders.models import Order
from sales import inventory
from sales.models import Sale

log = logging.getLogger(__name__)

# Sales that ended longer ago than this are not swept any more.
SWEEP_ENDED_FOR = timedelta(days=7)


def bound_ms() -> int:
    """How old a hold must be before it may be abandoned."""
    return int((settings.BUY_PRODUCE_WITHIN + settings.BUY_ACK_TIMEOUT + settings.HOLD_SLACK) * 1000)


@dataclass
class Sweep:
    found: int = 0  # holds older than the bound at the start of the round
    released: list[tuple[int, str]] | None = None  # (sale id, order id) given back; None while waiting
    waiting: bool = False  # the consumer group has not read past the topic's end yet


class AbandonedHolds:
    """One sweeper. A round that finds old holds waits, over as many ``sweep`` calls as it
    takes, for the consumer group to read past the end offsets taken when it found them."""

    def __init__(self, offsets):
        self.offsets = offsets  # plumbing.kafka.offsets.GroupOffsets of the order topic and group
        self._round: tuple[int, dict[int, int], int] | None = None  # cutoff, end offsets, found

    def sweep(self) -> Sweep:
        if self._round is None:
            cutoff = inventory.redis_time_ms() - bound_ms()
            found = sum(len(inventory.stale_holds(s, cutoff)) for s in recent_sales())
            if not found:
                return Sweep()
            self._round = (cutoff, self.offsets.end_offsets(), found)
        cutoff, ends, found = self._round
        if not self.offsets.has_read_past(ends):
            return Sweep(found=found, waiting=True)
        self._round = None
        released = []
        for sale_id in recent_sales():
            holds = _without_rows(sale_id, inventory.stale_holds(sale_id, cutoff))
            for order_id in inventory.release_stale(sale_id, holds, cutoff):
                released.append((sale_id, order_id))
        for sale_id, order_id in released:
            log.warning(
                "sale %s: order %s was abandoned before its event reached Kafka; unit given back",
                sale_id,
                order_id,
                extra={"sale_id": sale_id, "order_id": order_id},
            )
        return Sweep(found=found, released=released)


def _without_rows(sale_id: int, holds: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``holds`` but those with an order row, which are confirmed (they are orders)."""
    if not holds:
        return holds
    rows = {str(o) for o in Order.objects.filter(order_id__in=[o for o, _ in holds]).values_list("order_id", flat=True)}
    if rows:
        log.warning("sale %s: %d unconfirmed hold(s) have rows; confirmed", sale_id, len(rows))
        try:
            inventory.confirm((sale_id, order_id) for order_id in rows)
        except inventory.Unavailable:
            return []  # unchecked: its rebuild settles them
    return [(order_id, buyer_id) for order_id, buyer_id in holds if order_id not in rows]


def recent_sales() -> list[int]:
    """The sales swept and kept checked: those not ended for long."""
    return list(Sale.objects.filter(ends_at__gt=timezone.now() - SWEEP_ENDED_FOR).values_list("pk", flat=True))
