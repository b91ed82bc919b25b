"""Pages: the sale list, the buy page, guest sign-in (the buy itself is ``orders``'); the admission
gate's API: a challenge, and a purchase pass for its solution."""

import functools
import time

import orjson
from django.conf import settings
from django.contrib.auth import login
from django.db import DatabaseError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from redis.exceptions import RedisError

from plumbing.http import MAX_ID, RETRY, bad_request, client_address, json_methods, json_response, status_body
from sales import admission, audit_log, denials, inventory, metrics
from sales.buyers import InvalidToken, buyer_from_authorization, create_guest, mint_token
from sales.challenge import ChallengeFailed
from sales.models import Sale
from sales.selectors import sale_snapshot
from sales.state import from_ms

NO_STORE = {"Cache-Control": "no-store"}
# Why no pass was issued -> the status code; the body is {"status": refusal}.
PASS_REFUSED = {
    inventory.PassRefusal.SOLD_OUT: 409,
    inventory.PassRefusal.NOT_STARTED: 409,
    inventory.PassRefusal.ENDED: 409,
    inventory.PassRefusal.UNKNOWN_SALE: 404,
    inventory.PassRefusal.CHALLENGE_USED: 409,
}


def _now_ms() -> int:
    return int(time.time() * 1000)


@require_GET
def sale_list(request):
    sales = list(Sale.objects.all()[:100])
    left = inventory.remaining([s.pk for s in sales])
    now = _now_ms()
    rows = [(sale, sale_snapshot(sale, left[sale.pk], now)) for sale in sales]
    return render(request, "sales/sale_list.html", {"rows": rows})


@require_GET
def buy_page(request, sale_id: int):
    sale = get_object_or_404(Sale, pk=sale_id)
    snapshot = sale_snapshot(sale, inventory.remaining([sale.pk])[sale.pk], _now_ms())
    token = mint_token(request.user.pk) if request.user.is_authenticated else None
    return render(request, "sales/buy.html", {"sale": sale, "snapshot": snapshot, "token": token})


@require_POST
def guest_sign_in(request):
    """One click: a new buyer account, signed in, back to the page it came from."""
    login(request, create_guest(), backend="django.contrib.auth.backends.ModelBackend")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("sales:list")
    return redirect(target)


# The admission gate's API (issue 14): POST /api/sales/<id>/challenge, then POST /api/sales/<id>/pass.


async def _request_buyer(request) -> int | None:
    """The buyer of a bearer token, or of the signed-in session; raises ``InvalidToken``."""
    authorization = request.headers.get("Authorization")
    if authorization:
        return buyer_from_authorization(authorization)
    user = await request.auser()
    return user.pk if user.is_authenticated else None


def _gate_api(view):
    """Bearer token, or session with CSRF; the buyer resolved (else 401) and the deny list asked
    (403 ``denied``); the view gets ``buyer_id``."""

    async def with_buyer(request, sale_id: int):
        if not 0 < sale_id <= MAX_ID:
            return json_response(404, status_body("not_found"))
        try:
            buyer_id = await _request_buyer(request)
        except InvalidToken as exc:
            return json_response(401, status_body("unauthorized", str(exc)))
        if buyer_id is None:
            return json_response(401, status_body("unauthorized", "sign in or use a bearer token"))
        address = client_address(
            request.META.get("REMOTE_ADDR", ""), request.headers.get("X-Forwarded-For"), settings.TRUSTED_PROXIES
        )
        try:
            if await denials.denied(buyer_id, address):
                return json_response(403, status_body(denials.DENIED))
            return await view(request, buyer_id, sale_id)
        except admission.UnknownSale:
            return json_response(404, status_body("not_found"))
        except admission.NotGated:
            return json_response(409, status_body("not_required", "this sale sells without a purchase pass"))
        except (RedisError, DatabaseError):
            return json_response(503, status_body(RETRY))

    with_session = csrf_protect(with_buyer)

    @csrf_exempt  # a bearer token is not sent by browsers on their own; a session is, so it is CSRF-checked
    @json_methods("POST")
    @functools.wraps(view)
    async def checked(request, sale_id: int):
        if request.headers.get("Authorization") or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return await with_buyer(request, sale_id)  # a token, or nobody: 401 before any CSRF check
        return await with_session(request, sale_id)

    return checked


@_gate_api
async def sale_challenge(request, buyer_id: int, sale_id: int):
    """``POST /api/sales/<id>/challenge`` → ``200 {"status": "ok", "seed", "difficulty"}``."""
    issued = await admission.new_challenge(sale_id, buyer_id)
    metrics.CHALLENGES.inc()
    return json_response(200, {"status": "ok", "seed": issued.seed, "difficulty": issued.difficulty}, NO_STORE)


@_gate_api
async def sale_pass(request, buyer_id: int, sale_id: int):
    """``POST /api/sales/<id>/pass`` with ``{"seed", "counter"}`` → ``201 {"status": "ok", "pass",
    "expires_at"}``, or why not (the contract in README)."""
    try:
        data = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError:
        return json_response(400, bad_request("body is not valid JSON"))
    seed, counter = (data.get("seed"), data.get("counter")) if isinstance(data, dict) else (None, None)
    if not isinstance(seed, str) or len(seed) > 200 or type(counter) is not int or not 0 <= counter < 2**63:
        return json_response(400, bad_request('send {"seed": "<the challenge\'s seed>", "counter": <its solution>}'))
    try:
        issued = await admission.admit(sale_id, buyer_id, seed, counter)
    except ChallengeFailed as exc:
        metrics.PASS_ANSWERS.labels("challenge_failed").inc()
        return json_response(400, status_body("challenge_failed", str(exc)))
    if isinstance(issued, inventory.PassRefusal):
        metrics.PASS_ANSWERS.labels(issued.value).inc()
        return json_response(PASS_REFUSED[issued], status_body(issued.value))
    metrics.PASS_ANSWERS.labels("ok").inc()
    body = {"status": "ok", "pass": issued.pass_id, "expires_at": from_ms(issued.expires_ms).isoformat()}
    return json_response(201, body, NO_STORE)


# The audit log (issue 14): GET /api/sales/<id>/audit, GET /api/sales/<id>/audit/mine, and its page.


@json_methods("GET", "HEAD")
def sale_audit(request, sale_id: int):
    """The sale's admissions, chained, buyers pseudonymised (``sales.audit_log``)."""
    log = audit_log.served_log(sale_id) if 0 < sale_id <= MAX_ID else None
    if log is None:
        return json_response(404, status_body("not_found"))
    return json_response(200, {"status": "ok", **log}, NO_STORE)


@json_methods("GET", "HEAD")
def sale_audit_mine(request, sale_id: int):
    """The buyer's pseudonym and own entries: what they check against the published head."""
    try:
        authorization = request.headers.get("Authorization")
        buyer_id = buyer_from_authorization(authorization) if authorization else request.user.pk
    except InvalidToken as exc:
        return json_response(401, status_body("unauthorized", str(exc)))
    if buyer_id is None:
        return json_response(401, status_body("unauthorized", "sign in or use a bearer token"))
    mine = audit_log.own_entries(sale_id, buyer_id) if 0 < sale_id <= MAX_ID else None
    if mine is None:
        return json_response(404, status_body("not_found"))
    return json_response(200, {"status": "ok", **mine}, NO_STORE)


@require_GET
def audit_page(request, sale_id: int):
    """Checks the log in the browser, against the head the buyer pastes or the published one."""
    sale = get_object_or_404(Sale, pk=sale_id)
    token = mint_token(request.user.pk) if request.user.is_authenticated else None
    return render(request, "sales/audit.html", {"sale": sale, "token": token})
