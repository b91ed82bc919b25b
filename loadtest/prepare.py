"""What a run needs before the first request: the sale and the buyers' tokens."""

import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from orders.models import Order
from sales import inventory
from sales.buyers import create_buyers, mint_token
from sales.models import Sale
from sales.services import create_sale
from sales.state import to_ms

# A load-test sale stays open long enough for any run, short enough to be over soon after.
SALE_DURATION = timedelta(hours=1)


@dataclass(frozen=True)
class Baseline:
    """The sale before the run: what is already sold must not count as this run's."""

    order_ids: frozenset[str]
    units_sold: int


@dataclass(frozen=True)
class SaleUnderTest:
    sale_id: int
    total_stock: int
    limit_per_buyer: int
    starts_at_epoch: float
    created: bool
    baseline: Baseline


def make_buyers(count: int) -> list[tuple[int, str]]:
    """``count`` new buyers (bulk-created, no password hashing) and their bearer tokens."""
    return [(buyer_id, mint_token(buyer_id)) for buyer_id in create_buyers(count, prefix="loadtest")]


def units_sold(sale_id: int) -> int:
    stock = inventory.total_and_left(sale_id)
    if stock is None:
        raise LookupError(f"sale {sale_id} is not loaded in Redis")
    total, left = stock
    return total - left


def new_sale(
    stock: int,
    limit_per_buyer: int,
    start_in: float,
    payment_window: int | None = None,
    gate: tuple[int, int] | None = None,
) -> SaleUnderTest:
    """``gate``: (challenge bits, pass multiple) for a sale that requires a purchase pass."""
    starts_at = timezone.now() + timedelta(seconds=start_in)
    sale = create_sale(
        title=f"Load test {time.strftime('%Y-%m-%d %H:%M:%S')}",
        description="Created by manage.py loadtest.",
        stock=stock,
        price=Decimal("1.00"),
        starts_at=starts_at,
        duration=SALE_DURATION,
        limit_per_buyer=limit_per_buyer,
        payment_window=payment_window,
        gate=gate,
    )
    return SaleUnderTest(
        sale_id=sale.pk,
        total_stock=stock,
        limit_per_buyer=limit_per_buyer,
        starts_at_epoch=to_ms(starts_at) / 1000,
        created=True,
        baseline=Baseline(frozenset(), 0),
    )


def existing_sale(sale_id: int) -> SaleUnderTest:
    try:
        sale = Sale.objects.get(pk=sale_id)
    except Sale.DoesNotExist:
        raise LookupError(f"there is no sale {sale_id}") from None
    order_ids = frozenset(str(o) for o in Order.objects.filter(sale_id=sale_id).values_list("order_id", flat=True))
    return SaleUnderTest(
        sale_id=sale.pk,
        total_stock=sale.total_stock,
        limit_per_buyer=sale.limit_per_buyer,
        starts_at_epoch=to_ms(sale.starts_at) / 1000,
        created=False,
        baseline=Baseline(order_ids, units_sold(sale_id)),
    )
