"""A gated sale sells only on a purchase pass of the buyer's (issue 14), over HTTP on the
real site, Redis and Kafka: no pass, a forged, expired, used or another buyer's pass is
refused with ``403 {"status": "pass_required"}`` and takes no stock."""

import asyncio
import time

import httpx
import pytest

from plumbing.redis_clients import sync_redis
from sales import inventory
from sales.buyers import mint_token
from sales.inventory import Pass, keys
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.cluster

REFUSED = (403, {"status": "pass_required"})


@pytest.fixture
def live_site(live_site_each_server):
    return live_site_each_server


def a_pass(sale, buyer, ttl_ms=60_000) -> str:
    issued = asyncio.run(
        inventory.issue_pass(sale.pk, buyer.pk, f"nonce-{buyer.pk}-{time.monotonic_ns()}", ttl_ms=ttl_ms)
    )
    assert isinstance(issued, Pass)
    return issued.pass_id


def buy(site, sale, buyer, pass_id=None):
    headers = {"Authorization": f"Bearer {mint_token(buyer.pk)}"}
    if pass_id is not None:
        headers["Purchase-Pass"] = pass_id
    response = httpx.post(f"{site.url}/api/sales/{sale.pk}/buy", headers=headers, timeout=30)
    return response.status_code, response.json()


def stock(sale) -> int:
    return int(sync_redis().get(keys.stock(sale.pk)))


def test_a_gated_sale_sells_once_per_pass_of_the_buyers_own(live_site):
    sale = SaleFactory(total_stock=5, limit_per_buyer=3, requires_pass=True)
    buyer, other = BuyerFactory(), BuyerFactory()
    expired = a_pass(sale, buyer, ttl_ms=1)
    others = a_pass(sale, other)
    time.sleep(0.01)

    assert buy(live_site, sale, buyer) == REFUSED  # none
    assert buy(live_site, sale, buyer, "forged-pass-id") == REFUSED
    assert buy(live_site, sale, buyer, expired) == REFUSED
    assert buy(live_site, sale, buyer, others) == REFUSED  # another buyer's
    assert stock(sale) == 5

    time.sleep(1.05)  # past the per-buyer rate limit's second (BUY_RATE_LIMIT)
    mine = a_pass(sale, buyer)
    code, body = buy(live_site, sale, buyer, mine)
    assert (code, body["status"]) == (201, "reserved")
    assert buy(live_site, sale, buyer, mine) == REFUSED  # used up
    assert stock(sale) == 4
    assert (buy(live_site, sale, other, others)[0]) == 201  # the other buyer's pass still works for them


def test_a_sale_without_the_gate_needs_no_pass_and_a_bad_header_is_a_400(live_site):
    sale, buyer = SaleFactory(total_stock=2), BuyerFactory()
    code, body = buy(live_site, sale, buyer, "x" * 65)
    assert (code, body["status"]) == (400, "bad_request")
    assert buy(live_site, sale, buyer)[0] == 201


def test_a_holder_without_a_pass_hears_their_orders_not_pass_required(live_site):
    sale, buyer = SaleFactory(total_stock=3, limit_per_buyer=1, requires_pass=True), BuyerFactory()
    code, body = buy(live_site, sale, buyer, a_pass(sale, buyer))
    assert code == 201
    assert buy(live_site, sale, buyer) == (409, {"status": "limit_reached", "order_ids": [body["order_id"]]})
