"""The load test's payment phase (``--pay-ratio``): winners pay or let their orders expire, the
returned units are bought again, and the books must balance.

1. Each reserved order's buyer pays it (``POST /api/orders/<id>/pay``) with probability
   ``pay_ratio``, retrying while it is still ``pending``; the others do nothing.
2. The site's ``expire_orders`` worker expires the unpaid ones at ``pay_by`` (the sale's
   ``--payment-window``) and gives their units back; this waits for that.
3. The buyers who lost the first round try once more: the returned units sell again (those
   orders are left awaiting payment).
4. ``verify_payments``: paid + awaiting + returned = sold, each returned unit back in stock
   once (the sale's ``returned`` record in Redis = the rows returned), final stock = total -
   paid - awaiting, and no more units held than the total (re-sold units never oversell).
"""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
from django.db import close_old_connections

from loadtest.http import Connection, Target
from loadtest.verify import Check
from orders.lifecycle import ENDED
from orders.models import Order
from sales import inventory

PAY_TRIES = 20  # a pending order (no row yet) is asked again this many times, 0.25 s apart
EXPIRY_MARGIN = 30.0  # seconds past the payment window to wait for the expiry worker


@dataclass
class PaymentPhase:
    answers: Counter = field(default_factory=Counter)  # the pay endpoint's statuses
    paid: int = 0
    let_expire: int = 0
    expired_after: float | None = None  # seconds from the payments to the last unit returned
    resold: int = 0  # units the second round won
    checks: list[Check] = field(default_factory=list)


async def _pay_all(url: str, orders: list[tuple[str, str]], concurrency: int, timeout: float) -> Counter:
    """``orders``: (order id, token). Returns the final statuses. On the generator's own client."""
    answers: Counter = Counter()
    target = Target(url)
    pool = [Connection(target, timeout) for _ in range(max(1, min(concurrency, len(orders))))]
    queue = list(reversed(orders))

    async def worker(connection: Connection) -> None:
        while queue:
            order_id, token = queue.pop()
            request = target.request("POST", f"/api/orders/{order_id}/pay", {"Authorization": f"Bearer {token}"})
            for _ in range(PAY_TRIES):
                try:
                    _, body = await connection.send(request)
                    status = orjson.loads(body).get("status", "error")
                except (OSError, TimeoutError, ValueError):
                    connection.close()
                    status = "error"
                if status not in ("pending", "retry", "error"):
                    break
                await asyncio.sleep(0.25)
            answers[status] += 1

    try:
        await asyncio.gather(*(worker(c) for c in pool))
    finally:
        for connection in pool:
            connection.close()
    return answers


def _wait_returned(sale_id: int, deadline: float) -> bool:
    """Until no order of the sale awaits payment past its window and every ended one is returned."""
    while time.monotonic() < deadline:
        close_old_connections()
        if not Order.objects.filter(sale_id=sale_id, status=Order.Status.AWAITING_PAYMENT).exists() and not (
            Order.objects.filter(sale_id=sale_id, status__in=ENDED, unit_returned=False).exists()
        ):
            return True
        time.sleep(0.25)
    return False


def run_payments(config, sale, reserved: list[tuple[str, int]], buyers: list[tuple[int, str]], resell) -> PaymentPhase:
    """``reserved``: (order id, buyer id) the buyers were told; ``resell(buyers)`` runs a buy round
    for those buyers and returns how many won."""
    tokens = dict(buyers)
    rng = random.Random(sale.sale_id)
    paying = [(order_id, tokens[buyer]) for order_id, buyer in reserved if rng.random() < config.pay_ratio]
    phase = PaymentPhase(let_expire=len(reserved) - len(paying))
    phase.answers = asyncio.run(_pay_all(config.url, paying, config.concurrency, config.timeout))
    phase.paid = phase.answers["paid"]
    began = time.monotonic()
    window = config.payment_window
    if not _wait_returned(sale.sale_id, began + window + EXPIRY_MARGIN):
        phase.checks.append(
            Check("unpaid orders expired and returned", False, "still waiting: is expire_orders running?")
        )
        return phase
    phase.expired_after = time.monotonic() - began
    winners = {buyer for _, buyer in reserved}
    phase.resold = resell([(b, t) for b, t in buyers if b not in winners])
    phase.checks = verify_payments(sale.sale_id, sale.total_stock, phase)
    return phase


def verify_payments(sale_id: int, total: int, phase: PaymentPhase) -> list[Check]:
    close_old_connections()
    counts = Counter(Order.objects.filter(sale_id=sale_id).values_list("status", flat=True))
    returned_rows = Order.objects.filter(sale_id=sale_id, status__in=ENDED, unit_returned=True).count()
    paid, awaiting = counts[Order.Status.PAID], counts[Order.Status.AWAITING_PAYMENT]
    ended = counts[Order.Status.EXPIRED] + counts[Order.Status.CANCELLED]
    sold = sum(counts.values())
    ledger = inventory.ledger(sale_id)
    returned_in_redis = inventory.returned_count(sale_id)
    return [
        Check(
            "paid + awaiting + returned = sold",
            paid + awaiting + returned_rows == sold,
            f"paid {paid} + awaiting {awaiting} + returned {returned_rows} = {paid + awaiting + returned_rows}; "
            f"order rows {sold}",
        ),
        Check(
            "each returned unit back in stock once",
            returned_rows == ended == returned_in_redis,
            f"rows returned {returned_rows}, rows expired or cancelled {ended}, returns recorded in Redis "
            f"{returned_in_redis}",
        ),
        Check(
            "final stock = total - paid - awaiting",
            ledger is not None and ledger.in_stock == total - paid - awaiting and ledger.unconfirmed == 0,
            f"in stock {ledger.in_stock if ledger else '-'}, total {total} - paid {paid} - awaiting {awaiting} = "
            f"{total - paid - awaiting}",
        ),
        Check(
            "re-sold units never oversell",
            paid + awaiting <= total,
            f"units held by orders {paid + awaiting} of {total}; {phase.resold} re-sold after the returns",
        ),
    ]
