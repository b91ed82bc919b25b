"""The buy endpoint's HTTP face, ``POST /api/sales/<id>/buy``: the body it takes, and the one table
from what ``orders.placing.place_order`` did to the status code and body the buyer gets.

Two callers answer with it: ``buy`` below, the lean ASGI handler for bearer-token
buyers that ``seckill_site.hotpath`` routes ahead of Django (see there for why),
and ``orders.views.buy_with_session`` for signed-in browsers.
"""

import re
import time

import orjson
from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError

from orders import metrics
from orders.placing import TryAgain, place_order
from plumbing.http import (
    RETRY,
    BodyTooLarge,
    bad_request,
    header,
    parse_id,
    read_body,
    scope_client_address,
    send_json,
    status_body,
)
from sales import denials
from sales.buyers import InvalidToken, buyer_from_authorization
from sales.inventory import Refusal, Refused

RESERVED = "reserved"
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_PASS = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What the inventory refused -> the status code; the body is {"status": refusal}.
REFUSED = {
    Refusal.SOLD_OUT: 409,
    Refusal.LIMIT_REACHED: 409,
    Refusal.NOT_STARTED: 409,
    Refusal.ENDED: 409,
    Refusal.UNKNOWN_SALE: 404,
    Refusal.RATE_LIMITED: 429,
    Refusal.PASS_REQUIRED: 403,
    Refusal.ADDRESS_LIMITED: 429,
}


def parse_buy_body(body: bytes) -> str | None:
    """The buy request takes no parameters: an empty body or a JSON object.

    Returns what is wrong with the body, or None.
    """
    if not body.strip():
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "body is not valid JSON"
    if not isinstance(data, dict):
        return "body must be a JSON object"
    quantity = data.get("quantity", 1)
    if type(quantity) is not int or quantity != 1:  # not true, not 1.0
        return "one unit per request: quantity must be 1"
    return None


def parse_idempotency_key(value: str | None) -> str:
    """The ``Idempotency-Key`` header: '' when absent; ``ValueError`` unless 1 to 64 of
    letters, digits and ``-_.:`` (a UUID fits)."""
    if value is None:
        return ""
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ValueError("Idempotency-Key must be 1 to 64 letters, digits or -_.:")
    return value


def parse_purchase_pass(value: str | None) -> str:
    """The ``Purchase-Pass`` header (a gated sale's pass, from ``POST /api/sales/<id>/pass``):
    '' when absent; ``ValueError`` unless 1 to 64 letters, digits or ``-_``."""
    if value is None:
        return ""
    if not _PASS.fullmatch(value):
        raise ValueError("Purchase-Pass must be 1 to 64 letters, digits or -_")
    return value


async def buy_answer(
    sale_id: int, buyer_id: int, idempotency_key: str = "", pass_id: str = "", address: str = ""
) -> tuple[int, dict]:
    """Ask the deny list, place the order and say how it went, as (status code, body)."""
    try:
        if await denials.denied(buyer_id, address):
            return 403, status_body(denials.DENIED)
        placed = await place_order(sale_id, buyer_id, idempotency_key, pass_id, address)
    except Refused as refused:
        body = status_body(refused.reason.value)
        if refused.order_ids:
            body["order_ids"] = list(refused.order_ids)
        return REFUSED[refused.reason], body
    except (TryAgain, RedisError, DatabaseError):  # the database: only asked when Redis lost the sale
        return 503, status_body(RETRY)
    return 201, {"status": RESERVED, "order_id": placed.order_id, "remaining": placed.remaining}


async def buy(scope, receive, send, raw_sale_id: str, authorization: bytes) -> None:
    """The lean ASGI handler of a bearer-token buy: decide, answer, count (``orders.metrics``)."""
    began = time.perf_counter()
    answer = await _decide(scope, receive, raw_sale_id, authorization)
    if answer is None:
        return None  # the client went away before its body was read
    http_status, body, headers = answer
    await send_json(send, http_status, body, headers)
    metrics.BUY_LATENCY.observe(time.perf_counter() - began)
    metrics.BUY_ANSWERS.inc(body["status"])
    return None


async def _decide(scope, receive, raw_sale_id: str, authorization: bytes) -> tuple[int, dict, list] | None:
    """The checks in the contract's order; (status code, body, extra headers)."""
    if scope["method"] != "POST":
        return 405, bad_request("use POST"), [(b"allow", b"POST")]
    try:
        buyer_id = buyer_from_authorization(authorization.decode("latin-1"))
    except InvalidToken as exc:
        return 401, status_body("unauthorized", str(exc)), []
    try:
        body = await read_body(scope, receive, settings.BUY_MAX_BODY)
    except BodyTooLarge:
        return 413, bad_request(f"body larger than {settings.BUY_MAX_BODY} bytes"), []
    except ConnectionAbortedError:
        return None
    problem = parse_buy_body(body)
    if problem:
        return 400, bad_request(problem), []
    key = header(scope, b"idempotency-key")
    given_pass = header(scope, b"purchase-pass")
    try:
        idempotency_key = parse_idempotency_key(key.decode("latin-1") if key is not None else None)
        pass_id = parse_purchase_pass(given_pass.decode("latin-1") if given_pass is not None else None)
    except ValueError as exc:
        return 400, bad_request(str(exc)), []
    sale_id = parse_id(raw_sale_id)
    if sale_id is None:
        return 404, status_body(Refusal.UNKNOWN_SALE.value), []
    address = scope_client_address(scope, settings.TRUSTED_PROXIES)
    http_status, answer = await buy_answer(sale_id, buyer_id, idempotency_key, pass_id, address)
    return http_status, answer, []
