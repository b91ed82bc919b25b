"""Pages: the sale list, the buy page, guest sign-in (the buy itself is ``orders``'); the admission
gate's API: a challenge, and a purchase pass for its solution."""

import time

from django.conf import settings
from django.contrib.auth import login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from plumbing.http import MAX_ID, client_address, json_methods, json_response, status_body
from sales import api, audit_log, inventory
from sales.buyers import InvalidToken, buyer_from_authorization, create_guest, mint_token
from sales.models import Sale
from sales.selectors import sale_snapshot

NO_STORE = {"Cache-Control": "no-store"}


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


def _gate_api(answer):
    """The Django face of a gate step (``sales.api`` answers token buyers before Django): bearer
    token, or session with CSRF; 401 when neither names a buyer."""

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
        code, body = await answer(sale_id, buyer_id, address, request.body)
        return json_response(code, body, NO_STORE)

    with_session = csrf_protect(with_buyer)

    @csrf_exempt  # a bearer token is not sent by browsers on their own; a session is, so it is CSRF-checked
    @json_methods("POST")
    async def checked(request, sale_id: int):
        if request.headers.get("Authorization") or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return await with_buyer(request, sale_id)  # a token, or nobody: 401 before any CSRF check
        return await with_session(request, sale_id)

    return checked


# POST /api/sales/<id>/challenge -> 200 {"status": "ok", "seed", "difficulty"}
sale_challenge = _gate_api(lambda sale_id, buyer_id, address, body: api.challenge_answer(sale_id, buyer_id, address))
# POST /api/sales/<id>/pass {"seed", "counter"} -> 201 {"status": "ok", "pass", "expires_at"}, or why not
sale_pass = _gate_api(api.pass_answer)


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
