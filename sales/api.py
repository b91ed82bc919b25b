"""``GET /api/sales/<id>``: the sale's public view from Redis alone, as a lean ASGI handler
(``seckill_site.hotpath`` routes it ahead of Django: buyers poll it at the start of a sale)."""

from django.db import DatabaseError
from redis.exceptions import RedisError

from plumbing.http import RETRY, bad_request, parse_id, send_json, status_body
from sales.selectors import sale_public, sale_window


async def sale_detail(scope, send, raw_sale_id: str) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        return await send_json(send, 405, bad_request("use GET"), [(b"allow", b"GET")])
    sale_id = parse_id(raw_sale_id)
    try:
        snapshot = await sale_public(sale_id) if sale_id is not None else None
        # not in Redis but in the database: Redis lost it and it is being rebuilt (orders.recovery)
        lost = snapshot is None and sale_id is not None and await sale_window(sale_id) is not None
    except (RedisError, DatabaseError):
        return await send_json(send, 503, status_body(RETRY))
    if lost:
        return await send_json(send, 503, status_body(RETRY))
    if snapshot is None:
        return await send_json(send, 404, status_body("not_found"))
    return await send_json(send, 200, {"status": "ok", **snapshot})
