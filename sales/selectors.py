"""Read-side queries about sales: the public view of a sale, for pages, admin and the API."""

import time
from datetime import datetime

from asgiref.sync import sync_to_async

from sales import inventory
from sales.models import Sale
from sales.state import from_ms, sale_state, to_ms


def sale_snapshot(sale: Sale, remaining: int | None, now_ms: int) -> dict:
    """The public view of a sale, the same shape as ``GET /api/sales/<id>``."""
    left = remaining if remaining is not None else 0
    return {
        "id": sale.pk,
        "title": sale.title,
        "price": str(sale.price),
        "total_stock": sale.total_stock,
        "remaining": left,
        "starts_at": sale.starts_at.isoformat(),
        "ends_at": sale.ends_at.isoformat(),
        "state": sale_state(now_ms, to_ms(sale.starts_at), to_ms(sale.ends_at), left),
    }


async def sale_public(sale_id: int) -> dict | None:
    """``GET /api/sales/<id>`` (and a websocket's first message) from Redis alone; None when unknown."""
    offer = await inventory.offer(sale_id)
    if offer is None:
        return None
    return {
        "id": sale_id,
        "title": offer.title,
        "price": offer.price,
        "total_stock": offer.total,
        "remaining": offer.remaining,
        "starts_at": from_ms(offer.starts_ms).isoformat(),
        "ends_at": from_ms(offer.ends_ms).isoformat(),
        "state": sale_state(int(time.time() * 1000), offer.starts_ms, offer.ends_ms, offer.remaining),
    }


@sync_to_async
def sale_window(sale_id: int) -> tuple[datetime, datetime] | None:
    """(starts at, ends at) of the sale from the database; None when there is no such sale."""
    return Sale.objects.filter(pk=sale_id).values_list("starts_at", "ends_at").first()
