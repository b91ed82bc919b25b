"""Read-side queries about sales for pages and admin (synchronous)."""

from sales import keys
from sales.models import Sale
from sales.redis_clients import sync_redis
from sales.state import sale_state, to_ms


def remaining_stock(sale_ids: list[int]) -> dict[int, int | None]:
    """Remaining units per sale from Redis; None where the sale is not loaded."""
    if not sale_ids:
        return {}
    values = sync_redis().mget([keys.stock(sale_id) for sale_id in sale_ids])
    return {sid: (int(v) if v is not None else None) for sid, v in zip(sale_ids, values, strict=True)}


def redis_stock(sale_id: int) -> tuple[int, int] | None:
    """(total, remaining) units of the sale in Redis, read together; None when it is not loaded."""
    total, left = sync_redis().pipeline().hget(keys.meta(sale_id), "total").get(keys.stock(sale_id)).execute()
    if total is None or left is None:
        return None
    return int(total), int(left)


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
