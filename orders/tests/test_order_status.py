"""``GET /api/orders/<id>`` on a real server (granian, then daphne): "pending" from the moment the
buy is acknowledged, "awaiting_payment" once ``consume_orders`` wrote the row, and
only ever shown to the buyer who placed the order."""

import json
import urllib.error
import urllib.request
import uuid
from email.message import Message

import pytest

from orders.models import Order
from orders.tests.groups import fresh_group
from orders.tests.test_consumer import consume
from sales.buyers import mint_token
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_site(live_site_each_server):
    """The contract holds under each server (conftest.live_site_each_server)."""
    return live_site_each_server


def call(site, method: str, path: str, token: str | None = None) -> tuple[int, dict, Message]:
    """One request; returns (status, JSON body, headers: looked up case-insensitively, as HTTP says)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(site.url + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def buy(site, sale, buyer) -> str:
    status, body, _ = call(site, "POST", f"/api/sales/{sale.pk}/buy", mint_token(buyer.pk))
    assert (status, body["status"]) == (201, "reserved"), body
    return body["order_id"]


def order_status(site, order_id: str, buyer=None, token: str | None = None) -> tuple[int, dict]:
    token = token or (mint_token(buyer.pk) if buyer else None)
    status, body, _ = call(site, "GET", f"/api/orders/{order_id}", token)
    return status, body


def test_order_is_pending_until_consumed_then_confirmed(live_site):
    sale = SaleFactory(total_stock=5)
    buyer = BuyerFactory()
    group, _ = fresh_group()

    order_id = buy(live_site, sale, buyer)

    status, body, headers = call(live_site, "GET", f"/api/orders/{order_id}", mint_token(buyer.pk))
    assert status == 200
    price = str(sale.price)
    assert body == {"order_id": order_id, "sale_id": sale.pk, "status": "pending", "amount": price, "pay_by": None}
    assert headers["Cache-Control"] == "no-store"

    consume(group, 1)

    status, body = order_status(live_site, order_id, buyer)
    pay_by = Order.objects.get(order_id=order_id).pay_by
    assert (status, body) == (
        200,
        {
            "order_id": order_id,
            "sale_id": sale.pk,
            "status": "awaiting_payment",
            "amount": price,
            "pay_by": pay_by.isoformat(),
        },
    )


def test_an_order_is_shown_to_its_buyer_only(live_site):
    sale = SaleFactory(total_stock=5)
    buyer, other = BuyerFactory.create_batch(2)
    group, _ = fresh_group()
    order_id = buy(live_site, sale, buyer)

    for stage in ("pending", "awaiting_payment"):
        if stage == "awaiting_payment":
            consume(group, 1)
        assert order_status(live_site, order_id, buyer)[1]["status"] == stage
        assert order_status(live_site, order_id, other) == (404, {"status": "not_found"}), stage
        assert order_status(live_site, order_id)[0] == 401, stage
        assert order_status(live_site, order_id, token="forged:token:sig")[0] == 401, stage


@pytest.mark.parametrize("order_id", ["not-a-uuid", "12345", str(uuid.uuid4())], ids=["bad", "number", "unknown"])
def test_unknown_or_malformed_order_id_is_not_found(live_site, order_id):
    assert order_status(live_site, order_id, BuyerFactory()) == (404, {"status": "not_found"})
