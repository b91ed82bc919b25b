"""Paying, expiring, cancelling (issue 11's contract) against the real MariaDB and Redis."""

import time
import uuid

import httpx
import orjson
import pytest
from django.conf import settings
from django.test import Client

from orders import lifecycle
from orders.models import Order, Payment, WebhookEvent
from orders.payments import providers, signing
from orders.tests.factories import written_order
from sales import inventory
from sales.buyers import mint_token
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.django_db


def pay(client, order_id, buyer=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {mint_token(buyer.pk)}"} if buyer else {}
    r = client.post(f"/api/orders/{order_id}/pay", **headers, **extra)
    return r.status_code, r.json()


def test_paying_an_order_and_paying_it_again_answer_the_same_payment(client):
    sale, buyer = SaleFactory(total_stock=3), BuyerFactory()
    order = written_order(sale, buyer)
    code, body = pay(client, order.order_id, buyer)
    assert code == 200
    assert body == {"status": "paid", "order_id": str(order.order_id), "payment_id": body["payment_id"]}
    assert pay(client, order.order_id, buyer) == (200, body)  # the same payment, not a second one
    order.refresh_from_db()
    assert (order.status, order.paid_at is not None) == ("paid", True)
    [payment] = Payment.objects.filter(order=order)
    assert (str(payment.payment_id), payment.status, payment.amount) == (body["payment_id"], "captured", sale.price)
    assert inventory.remaining([sale.pk])[sale.pk] == 2  # paid: the unit stays sold


def test_pay_answers_pending_expired_cancelled_and_not_found(client):
    sale, buyer, other = SaleFactory(total_stock=5, limit_per_buyer=3), BuyerFactory(), BuyerFactory()
    pending = str(uuid.uuid4())
    inventory.reserve_many(sale.pk, [(buyer.pk, pending)])
    inventory.confirm([(sale.pk, pending)])
    from asgiref.sync import async_to_sync

    async_to_sync(inventory.remember_holder)(pending, sale.pk, buyer.pk)
    assert pay(client, pending, buyer) == (409, {"status": "pending"})  # no row yet: try again

    late = written_order(sale, buyer, pay_in=-1)  # pay_by passed, the worker not round yet
    assert pay(client, late.order_id, buyer) == (409, {"status": "expired"})
    late.refresh_from_db()
    assert (late.status, late.unit_returned) == ("expired", True)
    assert inventory.remaining([sale.pk])[sale.pk] == 4  # 5 - pending - cancelled-to-be + late's unit back

    cancelled = written_order(sale, buyer)
    lifecycle.cancel([cancelled.pk])
    assert pay(client, cancelled.order_id, buyer) == (409, {"status": "cancelled"})

    mine = written_order(sale, buyer)
    assert pay(client, mine.order_id, other) == (404, {"status": "not_found"})  # someone else's
    assert pay(client, uuid.uuid4(), buyer) == (404, {"status": "not_found"})
    assert pay(client, "not-a-uuid", buyer) == (404, {"status": "not_found"})
    assert pay(client, mine.order_id)[0] == 401
    assert client.get(f"/api/orders/{mine.order_id}/pay").status_code == 405
    mine.refresh_from_db()
    assert mine.status == "awaiting_payment"


def test_a_session_pays_only_with_its_csrf_token():
    sale, buyer = SaleFactory(), BuyerFactory()
    order = written_order(sale, buyer)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(buyer)
    r = browser.post(f"/api/orders/{order.order_id}/pay")
    assert (r.status_code, r.json()["status"]) == (403, "forbidden")
    assert browser.get("/orders/").status_code == 200  # My orders sets the CSRF cookie its Pay buttons send
    token = browser.cookies["csrftoken"].value
    r = browser.post(f"/api/orders/{order.order_id}/pay", HTTP_X_CSRFTOKEN=token)
    assert (r.status_code, r.json()["status"]) == (200, "paid")


def test_a_buyers_orders_newest_first_with_amount_and_pay_by(client):
    sale, buyer, other = SaleFactory(total_stock=5, limit_per_buyer=3), BuyerFactory(), BuyerFactory()
    first, second = written_order(sale, buyer), written_order(sale, buyer)
    written_order(sale, other)
    r = client.get("/api/orders", HTTP_AUTHORIZATION=f"Bearer {mint_token(buyer.pk)}")
    assert r.status_code == 200
    assert [o["order_id"] for o in r.json()["orders"]] == [str(second.order_id), str(first.order_id)]
    assert r.json()["orders"][1] == {
        "order_id": str(first.order_id),
        "sale_id": sale.pk,
        "status": "awaiting_payment",
        "amount": str(sale.price),
        "pay_by": first.pay_by.isoformat(),
    }
    assert client.get("/api/orders").status_code == 401


def webhook(client, body: bytes, signature: str | None, provider="mock"):
    headers = {"HTTP_SECKILL_SIGNATURE": signature} if signature else {}
    r = client.post(f"/payments/webhook/{provider}", body, content_type="application/json", **headers)
    return r.status_code, r.json()


def a_created_payment(order) -> Payment:
    return Payment.objects.create(
        payment_id=uuid.uuid4(), order=order, provider="mock", provider_ref=f"mock_{uuid.uuid4().hex}", amount=1
    )


def test_the_webhook_refuses_bad_signatures_stale_timestamps_and_ignores_replays(client):
    sale, buyer = SaleFactory(), BuyerFactory()
    order = written_order(sale, buyer)
    payment = a_created_payment(order)
    body = orjson.dumps({"id": "evt_1", "type": "payment.captured", "payment": payment.provider_ref})
    secret = settings.PAYMENT_WEBHOOK_SECRET

    assert webhook(client, body, None)[0] == 400
    assert webhook(client, body, signing.sign(body, "not-the-secret"))[1]["status"] == "bad_signature"
    stale = signing.sign(body, secret, timestamp=1_000_000)
    assert webhook(client, body, stale)[1]["detail"].startswith("timestamp 1000000 is more than")
    assert webhook(client, b"[]", signing.sign(b"[]", secret))[0] == 400
    assert webhook(client, body, signing.sign(body, secret), provider="nope")[0] == 404
    order.refresh_from_db()
    assert order.status == "awaiting_payment"  # nothing got through

    signed = signing.sign(body, secret)
    assert webhook(client, body, signed) == (200, {"status": "ok", "detail": "paid"})
    assert webhook(client, body, signed) == (200, {"status": "ok", "detail": "duplicate"})  # a replay
    again = orjson.dumps({"id": "evt_2", "type": "payment.captured", "payment": payment.provider_ref})
    assert webhook(client, again, signing.sign(again, secret))[1]["detail"] == "already"  # same payment
    assert WebhookEvent.objects.count() == 2
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("paid", "captured")


def test_a_capture_after_the_order_expired_is_refunded_and_the_order_stays_expired(client):
    sale, buyer = SaleFactory(total_stock=2), BuyerFactory()
    order = written_order(sale, buyer)
    payment = a_created_payment(order)
    Order.objects.filter(pk=order.pk).update(pay_by=order.created_at)  # the window closed
    assert lifecycle.expire() == 1
    assert lifecycle.return_units() == 1
    providers.provider("mock").confirm(payment.provider_ref)  # the capture comes late
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.note) == ("refunded", "captured after expired")
    assert (order.status, order.unit_returned) == ("expired", True)
    assert inventory.remaining([sale.pk])[sale.pk] == 2
    assert lifecycle.return_units() == 0  # returned once


@pytest.mark.django_db(transaction=True)
def test_an_expired_unit_is_bought_again_by_another_buyer_through_the_buy_endpoint(live_site):
    sale, first, second = SaleFactory(total_stock=1), BuyerFactory(), BuyerFactory()
    order = written_order(sale, first, pay_in=-1)
    headers = {"Authorization": f"Bearer {mint_token(second.pk)}"}
    r = httpx.post(f"{live_site.url}/api/sales/{sale.pk}/buy", headers=headers)
    assert r.json()["status"] == "sold_out"
    assert httpx.get(f"{live_site.url}/api/sales/{sale.pk}").json()["state"] == "sold_out"
    assert (lifecycle.expire(), lifecycle.return_units()) == (1, 1)
    assert inventory.held_by_buyer(sale.pk) == {}  # and the first buyer's allowance is back
    assert httpx.get(f"{live_site.url}/api/sales/{sale.pk}").json()["state"] == "open"  # it reopens
    time.sleep(settings.SOLD_OUT_RECHECK_MS / 1000)  # the web process's sold-out flag lapses within this
    r = httpx.post(f"{live_site.url}/api/sales/{sale.pk}/buy", headers=headers)
    assert (r.status_code, r.json()["status"]) == (201, "reserved")
    order.refresh_from_db()
    assert order.status == "expired"
