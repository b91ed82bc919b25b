"""The buy endpoint over real HTTP, served by granian and by daphne, against real Redis and Kafka."""

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from django.core import signing
from django.utils import timezone

from plumbing.redis_clients import sync_redis
from sales.buyers import TOKEN_SALT, mint_token
from sales.inventory import keys
from sales.state import from_ms, to_ms
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.cluster  # also run on the clusters (issue 13)


class PastSigner(signing.TimestampSigner):
    """Signs as if it were two days ago: a properly signed but expired token."""

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 2 * 24 * 3600)


def stock_state(sale_id):
    r = sync_redis()
    return int(r.get(keys.stock(sale_id))), r.hgetall(keys.buyers(sale_id)), r.hgetall(keys.orders(sale_id))


@pytest.fixture
def live_site(live_site_each_server):
    """The contract holds under each server (conftest.live_site_each_server)."""
    return live_site_each_server


@pytest.fixture
def open_sale(live_site):
    return SaleFactory(total_stock=5)


@pytest.fixture
def buyer():
    return BuyerFactory()


def bearer(buyer_id):
    return {"Authorization": f"Bearer {mint_token(buyer_id)}"}


BAD_INPUT = [
    # id, method, path (with {sale}), headers(buyer) -> dict, body, expected code, expected status
    ("bad json", "POST", "/api/sales/{sale}/buy", lambda b: bearer(b), b"{not json", 400, "bad_request"),
    ("json array", "POST", "/api/sales/{sale}/buy", lambda b: bearer(b), b"[1, 2]", 400, "bad_request"),
    ("two units", "POST", "/api/sales/{sale}/buy", lambda b: bearer(b), b'{"quantity": 2}', 400, "bad_request"),
    ("GET on buy", "GET", "/api/sales/{sale}/buy", lambda b: bearer(b), b"", 405, "bad_request"),
    ("PUT on buy", "PUT", "/api/sales/{sale}/buy", lambda b: bearer(b), b"{}", 405, "bad_request"),
    ("DELETE on sale", "DELETE", "/api/sales/{sale}", lambda b: bearer(b), b"", 405, "bad_request"),
    ("unknown sale", "POST", "/api/sales/999999/buy", lambda b: bearer(b), b"", 404, "not_found"),
    ("non-numeric sale", "POST", "/api/sales/abc/buy", lambda b: bearer(b), b"", 404, "not_found"),
    ("unknown sale GET", "GET", "/api/sales/999999", lambda b: {}, b"", 404, "not_found"),
    ("missing token", "POST", "/api/sales/{sale}/buy", lambda b: {}, b"", 401, "unauthorized"),
    ("empty bearer", "POST", "/api/sales/{sale}/buy", lambda b: {"Authorization": "Bearer"}, b"", 401, "unauthorized"),
    (
        "basic auth",
        "POST",
        "/api/sales/{sale}/buy",
        lambda b: {"Authorization": "Basic dXNlcjpwdw=="},
        b"",
        401,
        "unauthorized",
    ),
    (
        "forged token",
        "POST",
        "/api/sales/{sale}/buy",
        lambda b: {"Authorization": f"Bearer {mint_token(b)[:-4]}AAAA"},
        b"",
        401,
        "unauthorized",
    ),
    (
        "token for another buyer id",
        "POST",
        "/api/sales/{sale}/buy",
        lambda b: {"Authorization": "Bearer " + mint_token(b).replace(f"{b}:", f"{b + 1}:", 1)},
        b"",
        401,
        "unauthorized",
    ),
    (
        "expired token",
        "POST",
        "/api/sales/{sale}/buy",
        lambda b: {"Authorization": f"Bearer {PastSigner(salt=TOKEN_SALT).sign(str(b))}"},
        b"",
        401,
        "unauthorized",
    ),
    ("quantity true", "POST", "/api/sales/{sale}/buy", lambda b: bearer(b), b'{"quantity": true}', 400, "bad_request"),
    ("quantity 1.0", "POST", "/api/sales/{sale}/buy", lambda b: bearer(b), b'{"quantity": 1.0}', 400, "bad_request"),
    ("superscript sale id", "POST", "/api/sales/%C2%B2/buy", lambda b: bearer(b), b"", 404, "not_found"),
    ("superscript sale id GET", "GET", "/api/sales/%C2%B2", lambda b: {}, b"", 404, "not_found"),
    ("5,000-digit sale id", "POST", "/api/sales/" + "9" * 5000 + "/buy", lambda b: bearer(b), b"", 404, "not_found"),
    ("sale id past BIGINT", "GET", "/api/sales/9223372036854775808", lambda b: {}, b"", 404, "not_found"),
    ("the API root", "GET", "/api/", lambda b: {}, b"", 404, "not_found"),
    ("orders without id", "GET", "/api/orders/", lambda b: bearer(b), b"", 404, "not_found"),
    ("slash as sale id", "POST", "/api/sales/%2F/buy", lambda b: bearer(b), b"", 404, "not_found"),
    ("OPTIONS on an order", "OPTIONS", "/api/orders/" + "0" * 32, lambda b: bearer(b), b"", 405, "bad_request"),
    ("TRACE on an order", "TRACE", "/api/orders/" + "0" * 32, lambda b: bearer(b), b"", 405, "bad_request"),
    ("session buy, bad id", "POST", "/api/sales/x/buy", lambda b: {"Cookie": "sessionid=nope"}, b"", 404, "not_found"),
    (
        "idempotency key too long",
        "POST",
        "/api/sales/{sale}/buy",
        lambda b: {**bearer(b), "Idempotency-Key": "k" * 65},
        b"",
        400,
        "bad_request",
    ),
    (
        "idempotency key with a space",
        "POST",
        "/api/sales/{sale}/buy",
        lambda b: {**bearer(b), "Idempotency-Key": "a b"},
        b"",
        400,
        "bad_request",
    ),
    (
        "huge body",
        "POST",
        "/api/sales/{sale}/buy",
        lambda b: bearer(b),
        b"{" + b" " * 100_000 + b"}",
        413,
        "bad_request",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "code", "status"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_gets_documented_error_and_changes_no_stock(
    live_site, open_sale, buyer, method, path, headers, body, code, status
):
    before = stock_state(open_sale.pk)
    response = httpx.request(
        method, live_site.url + path.format(sale=open_sale.pk), headers=headers(buyer.pk), content=body
    )
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status"] == status
    assert stock_state(open_sale.pk) == before


@pytest.mark.parametrize(
    ("starts_in", "status"),
    [(timedelta(minutes=10), "not_started"), (-timedelta(hours=3), "ended")],
)
def test_sale_outside_its_window_refuses_and_keeps_stock(live_site, buyer, starts_in, status):
    starts = timezone.now() + starts_in
    sale = SaleFactory(total_stock=5, starts_at=starts, ends_at=starts + timedelta(hours=1))
    before = stock_state(sale.pk)
    response = httpx.post(f"{live_site.url}/api/sales/{sale.pk}/buy", headers=bearer(buyer.pk))
    assert (response.status_code, response.json()) == (409, {"status": status})
    assert stock_state(sale.pk) == before


def test_buy_reserves_then_limit_and_sale_detail(live_site, open_sale, buyer):
    url = f"{live_site.url}/api/sales/{open_sale.pk}"
    first = httpx.post(url + "/buy", headers=bearer(buyer.pk))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "reserved" and body["remaining"] == 4
    assert sync_redis().hget(keys.orders(open_sale.pk), body["order_id"]) == str(buyer.pk).encode()
    second = httpx.post(url + "/buy", headers=bearer(buyer.pk))
    assert (second.status_code, second.json()) == (409, {"status": "limit_reached", "order_ids": [body["order_id"]]})
    detail = httpx.get(url).json()
    assert detail == {
        "status": "ok",
        "id": open_sale.pk,
        "title": open_sale.title,
        "price": "19.99",
        "total_stock": 5,
        "remaining": 4,
        "starts_at": from_ms(to_ms(open_sale.starts_at)).isoformat(),  # Redis keeps milliseconds
        "ends_at": from_ms(to_ms(open_sale.ends_at)).isoformat(),
        "state": "open",
    }


def test_rate_limited_buyer_gets_429_without_touching_stock(live_site, buyer, settings):
    sale = SaleFactory(total_stock=50, limit_per_buyer=50)
    clicks = 6 * settings.BUY_RATE_LIMIT  # only a spread over 6+ seconds could avoid a 429

    async def burst():
        async with httpx.AsyncClient(base_url=live_site.url, headers=bearer(buyer.pk), timeout=30) as client:
            return await asyncio.gather(*(client.post(f"/api/sales/{sale.pk}/buy") for _ in range(clicks)))

    started = time.monotonic()
    responses = asyncio.run(burst())
    elapsed = time.monotonic() - started
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 429}
    assert 429 in codes, f"{clicks} clicks over {elapsed:.1f}s"
    assert all(r.json() == {"status": "rate_limited"} for r in responses if r.status_code == 429)
    assert int(sync_redis().get(keys.stock(sale.pk))) == 50 - codes.count(201)


def test_session_buyer_needs_csrf(live_site, open_sale):
    with httpx.Client(base_url=live_site.url) as browser:
        page = browser.get(f"/sales/{open_sale.pk}/")
        assert page.status_code == 200
        csrf = browser.cookies["csrftoken"]
        signed_in = browser.post(
            "/guest/",
            data={"csrfmiddlewaretoken": csrf, "next": f"/sales/{open_sale.pk}/"},
            headers={"Referer": live_site.url},
        )
        assert signed_in.status_code == 302
        csrf = browser.cookies["csrftoken"]  # rotated at sign-in
        refused = browser.post(f"/api/sales/{open_sale.pk}/buy")
        assert refused.status_code == 403
        assert refused.json()["status"] == "forbidden"
        assert int(sync_redis().get(keys.stock(open_sale.pk))) == 5
        bought = browser.post(f"/api/sales/{open_sale.pk}/buy", headers={"X-CSRFToken": csrf})
        assert bought.status_code == 201, bought.text
        assert bought.json()["remaining"] == 4


def test_a_buy_repeated_with_its_idempotency_key_answers_the_same_order(live_site, open_sale, buyer):
    url = f"{live_site.url}/api/sales/{open_sale.pk}/buy"
    key = {**bearer(buyer.pk), "Idempotency-Key": "4f1c2b7e-retry"}
    first = httpx.post(url, headers=key)
    assert first.status_code == 201, first.text
    again = httpx.post(url, headers=key)
    assert (again.status_code, again.json()["order_id"]) == (201, first.json()["order_id"])
    assert int(sync_redis().get(keys.stock(open_sale.pk))) == 4  # one unit, however often asked
    other = httpx.post(url, headers={**bearer(buyer.pk), "Idempotency-Key": "another"})
    assert (other.status_code, other.json()) == (
        409,
        {"status": "limit_reached", "order_ids": [first.json()["order_id"]]},
    )


def test_a_sale_redis_lost_answers_retry_until_rebuilt_and_an_unknown_one_not_found(live_site, buyer):
    """The sale is in the database but not in Redis (its keys deleted): it is being rebuilt
    (orders.recovery), so buyers and pollers are told to try again, not that it does not exist."""
    sale = SaleFactory(total_stock=5)
    sync_redis().delete(*keys.all_of_sale(sale.pk))
    with httpx.Client(base_url=live_site.url) as client:
        for method, path in (("POST", f"/api/sales/{sale.pk}/buy"), ("GET", f"/api/sales/{sale.pk}")):
            r = client.request(method, path, headers=bearer(buyer.pk))
            assert (r.status_code, r.json()) == (503, {"status": "retry"}), (method, r.text)
        r = client.get(f"/api/sales/{sale.pk + 1000}")
        assert (r.status_code, r.json()["status"]) == (404, "not_found")
    assert sync_redis().exists(keys.stock(sale.pk)) == 0  # nothing was taken or made up
