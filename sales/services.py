"""Sale life cycle: create a sale, save changes to it, keep Redis in step.

The database holds the offer; Redis holds the remaining stock while the sale
runs. Every save goes through ``save_sale`` so the two never disagree about
what was offered, and a change of stock never forgets what was already sold.
"""

import math
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sales import inventory
from sales.models import Sale
from sales.state import to_ms


def units_sold(sale: Sale) -> int:
    """Units taken from stock so far (reserved or confirmed), from Redis."""
    stock = inventory.total_and_left(sale.pk)
    if stock is None:
        return sale.orders.count()
    total, left = stock
    return total - left


def _below_sold(sold: int) -> str:
    return f"{sold} units are already sold; the stock cannot go below that."


def offer_of(sale: Sale) -> dict:
    """What Redis holds of the sale's offer, as ``inventory.load`` and ``inventory.rebuild`` take it."""
    return {
        "total": sale.total_stock,
        "starts_ms": to_ms(sale.starts_at),
        "ends_ms": to_ms(sale.ends_at),
        "limit": sale.limit_per_buyer,
        "price": str(sale.price),
        "title": sale.title,
        "gate": (sale.challenge_difficulty, math.ceil(sale.pass_multiple * sale.total_stock))
        if sale.requires_pass
        else None,
    }


def validate_total_stock(sale: Sale, new_total: int) -> None:
    """A running sale cannot offer fewer units than it already sold."""
    if sale.pk is None:
        return
    sold = units_sold(sale)
    if new_total < sold:
        raise ValidationError(_below_sold(sold), code="below_sold")


@transaction.atomic
def save_sale(sale: Sale) -> int:
    """Validate, save and load the sale into Redis; returns the remaining stock.

    The Redis update runs inside the transaction: if Redis refuses (the stock
    would fall below what is sold), the database change is rolled back.
    """
    sale.full_clean()
    fresh = sale._state.adding  # nobody can hold a unit of a sale not saved before
    sale.save()
    try:
        return inventory.load(sale.pk, **offer_of(sale), sold=sale.orders.count(), fresh=fresh)
    except inventory.StockBelowSold as exc:
        raise ValidationError({"total_stock": _below_sold(exc.sold)}) from None


def create_sale(
    *,
    title: str,
    stock: int,
    price: Decimal,
    starts_at: datetime | None = None,
    duration: timedelta = timedelta(hours=1),
    limit_per_buyer: int = 1,
    description: str = "",
    payment_window: int | None = None,
    gate: tuple[int, int] | None = None,
) -> Sale:
    """``gate``: (challenge bits, pass multiple): buys need a purchase pass (``sales.admission``)."""
    starts_at = starts_at or timezone.now()
    sale = Sale(
        title=title,
        description=description,
        price=price,
        total_stock=stock,
        starts_at=starts_at,
        ends_at=starts_at + duration,
        limit_per_buyer=limit_per_buyer,
        payment_window=payment_window,
    )
    if gate is not None:
        sale.requires_pass = True
        sale.challenge_difficulty, sale.pass_multiple = gate
    save_sale(sale)
    return sale


def forget_sale(sale_id: int) -> None:
    """Remove a deleted sale's keys from Redis."""
    inventory.forget(sale_id)
