"""``GET /api/sales/<id>``: the sale's public view from Redis alone, as a lean ASGI handler
(``seckill_site.hotpath`` routes it ahead of Django: buyers poll it at the start of a sale)."""

from plumbing.http import bad_request, send_json, status_body
from sales.selectors import sale_public


async def sale_detail(scope, send, raw_sale_id: str) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        return await send_json(send, 405, bad_request("use GET"), [(b"allow", b"GET")])
    snapshot = await sale_public(int(raw_sale_id)) if raw_sale_id.isdigit() else None
    if snapshot is None:
        return await send_json(send, 404, status_body("not_found"))
    return await send_json(send, 200, snapshot)
