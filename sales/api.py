"""``GET /api/sales/<id>``: the sale's public view from Redis alone, as a lean ASGI handler
(``seckill_site.hotpath`` routes it ahead of Django: buyers poll it at the start of a sale)."""

from redis.exceptions import RedisError

from plumbing.http import RETRY, bad_request, parse_id, send_json, status_body
from sales.selectors import sale_public


async def sale_detail(scope, send, raw_sale_id: str) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        return await send_json(send, 405, bad_request("use GET"), [(b"allow", b"GET")])
    sale_id = parse_id(raw_sale_id)
    try:
        snapshot = await sale_public(sale_id) if sale_id is not None else None
    except RedisError:
        return await send_json(send, 503, status_body(RETRY))
    if snapshot is None:
        return await send_json(send, 404, status_body("not_found"))
    return await send_json(send, 200, {"status": "ok", **snapshot})
