"""The Django side of the order API: a buy from a signed-in browser, where orders stand, paying,
and the payment providers' webhooks."""

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect, ensure_csrf_cookie

from orders import metrics
from orders.api import buy_answer, parse_buy_body, parse_idempotency_key, parse_purchase_pass
from orders.payments import providers, signing, webhooks
from orders.payments.services import pay_order
from orders.selectors import buyer_orders, order_status
from plumbing.http import bad_request, client_address, json_methods, json_response, method_not_allowed, status_body
from sales.buyers import InvalidToken, buyer_from_authorization

NO_STORE = {"Cache-Control": "no-store"}
# pay_order's answer -> the status code
PAY_CODES = {"paid": 200, "awaiting_payment": 202, "pending": 409, "expired": 409, "cancelled": 409, "not_found": 404}


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
        pass_id = parse_purchase_pass(request.headers.get("Purchase-Pass"))
    except ValueError as exc:
        return json_response(400, bad_request(str(exc)))
    address = client_address(
        request.META.get("REMOTE_ADDR", ""), request.headers.get("X-Forwarded-For"), settings.TRUSTED_PROXIES
    )
    http_status, body = await buy_answer(sale_id, user.pk, idempotency_key, pass_id, address)
    metrics.BUY_ANSWERS.inc(body["status"])
    return json_response(http_status, body)


def _buyer_id(request) -> int | None:
    header = request.headers.get("Authorization")
    if header:
        return buyer_from_authorization(header)
    return request.user.pk if request.user.is_authenticated else None


def _authenticated(view):
    """Resolve the buyer (bearer token or session) or answer 401; the view gets ``buyer_id``."""

    def wrapped(request, *args, **kwargs):
        try:
            buyer_id = _buyer_id(request)
        except InvalidToken as exc:
            return json_response(401, status_body("unauthorized", str(exc)))
        if buyer_id is None:
            return json_response(401, status_body("unauthorized"))
        return view(request, buyer_id, *args, **kwargs)

    return wrapped


def _order_uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


@json_methods("GET", "HEAD")
@_authenticated
def order_detail(request, buyer_id: int, order_id: str):
    """``GET /api/orders/<order_id>``: its buyer only (token or session)."""
    parsed = _order_uuid(order_id)
    found = order_status(parsed, buyer_id) if parsed else None
    if found is None:
        return json_response(404, status_body("not_found"))
    return json_response(200, found, headers=NO_STORE)


@json_methods("GET", "HEAD")
@_authenticated
def order_list(request, buyer_id: int):
    """``GET /api/orders``: the buyer's orders, newest first."""
    return json_response(200, {"status": "ok", "orders": buyer_orders(buyer_id)}, headers=NO_STORE)


@_authenticated
def _pay(request, buyer_id: int, order_id: str):
    parsed = _order_uuid(order_id)
    if parsed is None:
        return json_response(404, status_body("not_found"))
    answer = pay_order(parsed, buyer_id)
    body = status_body(answer.status)
    if answer.status in ("paid", "awaiting_payment"):
        body.update(order_id=answer.order_id, payment_id=answer.payment_id)
    return json_response(PAY_CODES[answer.status], body, headers=NO_STORE)


_pay_with_session = csrf_protect(_pay)


@csrf_exempt  # a bearer token is not sent by browsers on their own; a session is, so it is CSRF-checked
@json_methods("POST")
def order_pay(request, order_id: str):
    """``POST /api/orders/<order_id>/pay``: its buyer, by bearer token, or by session with CSRF."""
    if request.headers.get("Authorization"):
        return _pay(request, order_id)
    return _pay_with_session(request, order_id)


@csrf_exempt  # signed by the provider instead
@json_methods("POST")
def payment_webhook(request, provider: str):
    """``POST /payments/webhook/<provider>``: a signed event from a payment provider."""
    try:
        outcome = webhooks.receive(provider, request.body, request.headers.get(signing.HEADER))
    except providers.UnknownProvider:
        return json_response(404, status_body("not_found", f"no payment provider {provider!r}"))
    except signing.BadSignature as exc:
        return json_response(400, status_body("bad_signature", str(exc)))
    except webhooks.InvalidWebhook as exc:
        return json_response(400, bad_request(str(exc)))
    return json_response(200, status_body("ok", outcome))


@login_required
@ensure_csrf_cookie  # its Pay buttons post with the session and this cookie's token
def my_orders(request):
    """The buyer's orders: status, amount, the time left to pay, a Pay button; kept live by the
    ``/ws/orders/`` socket (``static/orders/orders.js``)."""
    return render(request, "orders/my_orders.html", {"orders": buyer_orders(request.user.pk)})
