"""The Django side of the order API: a buy from a signed-in browser, and where an order stands."""

import uuid

from orders.api import buy_answer, parse_buy_body, parse_idempotency_key
from orders.selectors import order_status
from plumbing.http import bad_request, json_methods, json_response, method_not_allowed, status_body
from sales.buyers import InvalidToken, buyer_from_authorization


async def buy_with_session(request, sale_id: int):
    """``POST /api/sales/<id>/buy`` for a signed-in browser session (CSRF-checked
    by Django's middleware). Token buyers never get here: ``orders.api.buy``
    answers them before Django."""
    if request.method != "POST":
        return method_not_allowed("POST")
    user = await request.auser()
    if not user.is_authenticated:
        return json_response(401, status_body("unauthorized", "sign in or use a bearer token"))
    problem = parse_buy_body(request.body)
    if problem:
        return json_response(400, bad_request(problem))
    try:
        idempotency_key = parse_idempotency_key(request.headers.get("Idempotency-Key"))
    except ValueError as exc:
        return json_response(400, bad_request(str(exc)))
    return json_response(*await buy_answer(sale_id, user.pk, idempotency_key))


def _buyer_id(request) -> int | None:
    header = request.headers.get("Authorization")
    if header:
        return buyer_from_authorization(header)
    return request.user.pk if request.user.is_authenticated else None


@json_methods("GET", "HEAD")
def order_detail(request, order_id: str):
    """``GET /api/orders/<order_id>``: its buyer only (token or session)."""
    try:
        buyer_id = _buyer_id(request)
    except InvalidToken as exc:
        return json_response(401, status_body("unauthorized", str(exc)))
    if buyer_id is None:
        return json_response(401, status_body("unauthorized"))
    try:
        parsed = uuid.UUID(order_id)
    except ValueError:
        return json_response(404, status_body("not_found"))
    found = order_status(parsed, buyer_id)
    if found is None:
        return json_response(404, status_body("not_found"))
    return json_response(200, found, headers={"Cache-Control": "no-store"})
