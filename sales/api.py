"""``GET /api/sales/<id>``: the sale's public view from Redis alone, as a lean ASGI handler
(``seckill_site.hotpath`` routes it ahead of Django: buyers poll it at the start of a sale);
and the admission gate's two steps, answered the same way."""

import orjson
from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError

from plumbing.http import (
    RETRY,
    BodyTooLarge,
    bad_request,
    parse_id,
    read_body,
    scope_client_address,
    send_json,
    status_body,
)
from sales import admission, denials, inventory, metrics
from sales.buyers import InvalidToken, buyer_from_authorization
from sales.challenge import ChallengeFailed
from sales.selectors import sale_public, sale_window
from sales.state import from_ms


async def sale_detail(scope, send, raw_sale_id: str) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        return await send_json(send, 405, bad_request("use GET"), [(b"allow", b"GET")])
    sale_id = parse_id(raw_sale_id)
    if sale_id is None:
        return await send_json(send, 404, status_body("not_found"))
    try:
        snapshot = await sale_public(sale_id)
    except RedisError:
        return await send_json(send, 503, status_body(RETRY))
    if snapshot is None:
        return await send_json(send, *await _not_in_redis(sale_id))
    return await send_json(send, 200, {"status": "ok", **snapshot})


async def _not_in_redis(sale_id: int) -> tuple[int, dict]:
    """The answer when Redis does not know the sale. If the database does, Redis lost it and it
    is being rebuilt (``orders.recovery``): ``503 retry``, nothing was decided. Otherwise 404."""
    try:
        known = await sale_window(sale_id) is not None
    except DatabaseError:
        return 503, status_body(RETRY)
    return (503, status_body(RETRY)) if known else (404, status_body("not_found"))


# The admission gate (issue 14): POST /api/sales/<id>/challenge and /pass. Token buyers are answered
# here, ahead of Django, like the buy: at the start of a gated sale every buyer sends both.
# Session buyers go through ``sales.views``, which answers with the same two functions.

# Why no pass was issued -> the status code; the body is {"status": refusal}.
PASS_REFUSED = {
    inventory.PassRefusal.SOLD_OUT: 409,
    inventory.PassRefusal.NOT_STARTED: 409,
    inventory.PassRefusal.ENDED: 409,
    inventory.PassRefusal.CHALLENGE_USED: 409,
    inventory.PassRefusal.NOT_REQUIRED: 409,
}
GATE_MAX_BODY = 1024


async def challenge_answer(sale_id: int, buyer_id: int, address: str) -> tuple[int, dict]:
    """(status code, body) of ``POST /api/sales/<id>/challenge``."""
    try:
        if await denials.denied(buyer_id, address):
            return 403, status_body(denials.DENIED)
        issued = await admission.new_challenge(sale_id, buyer_id)
    except admission.UnknownSale:
        return await _not_in_redis(sale_id)
    except admission.NotGated:
        return 409, status_body("not_required", "this sale sells without a purchase pass")
    except RedisError:
        return 503, status_body(RETRY)
    metrics.CHALLENGES.inc()
    return 200, {"status": "ok", "seed": issued.seed, "difficulty": issued.difficulty}


async def pass_answer(sale_id: int, buyer_id: int, address: str, body: bytes) -> tuple[int, dict]:
    """(status code, body) of ``POST /api/sales/<id>/pass`` with ``{"seed", "counter"}``."""
    try:
        data = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        return 400, bad_request("body is not valid JSON")
    seed, counter = (data.get("seed"), data.get("counter")) if isinstance(data, dict) else (None, None)
    if not isinstance(seed, str) or len(seed) > 200 or type(counter) is not int or not 0 <= counter < 2**63:
        return 400, bad_request('send {"seed": "<the challenge\'s seed>", "counter": <its solution>}')
    try:
        if await denials.denied(buyer_id, address):
            return 403, status_body(denials.DENIED)
        issued = await admission.admit(sale_id, buyer_id, seed, counter)
    except ChallengeFailed as exc:
        metrics.PASS_ANSWERS.labels("challenge_failed").inc()
        return 400, status_body("challenge_failed", str(exc))
    except RedisError:
        return 503, status_body(RETRY)
    if isinstance(issued, inventory.PassRefusal):
        code, answer = (
            await _not_in_redis(sale_id)
            if issued is inventory.PassRefusal.UNKNOWN_SALE
            else (PASS_REFUSED[issued], status_body(issued.value))
        )
        metrics.PASS_ANSWERS.labels(answer["status"]).inc()
        return code, answer
    metrics.PASS_ANSWERS.labels("ok").inc()
    return 201, {"status": "ok", "pass": issued.pass_id, "expires_at": from_ms(issued.expires_ms).isoformat()}


async def gate(scope, receive, send, raw_sale_id: str, step: str, authorization: bytes) -> None:
    """The lean ASGI handler of a token buyer's ``challenge`` or ``pass`` request."""
    if scope["method"] != "POST":
        return await send_json(send, 405, bad_request("use POST"), [(b"allow", b"POST")])
    try:
        buyer_id = buyer_from_authorization(authorization.decode("latin-1"))
    except InvalidToken as exc:
        return await send_json(send, 401, status_body("unauthorized", str(exc)))
    try:
        body = await read_body(scope, receive, GATE_MAX_BODY)
    except BodyTooLarge:
        return await send_json(send, 413, bad_request(f"body larger than {GATE_MAX_BODY} bytes"))
    except ConnectionAbortedError:
        return None
    sale_id = parse_id(raw_sale_id)
    if sale_id is None:
        return await send_json(send, 404, status_body("not_found"))
    address = scope_client_address(scope, settings.TRUSTED_PROXIES)
    if step == "challenge":
        code, answer = await challenge_answer(sale_id, buyer_id, address)
    else:
        code, answer = await pass_answer(sale_id, buyer_id, address, body)
    return await send_json(send, code, answer)
