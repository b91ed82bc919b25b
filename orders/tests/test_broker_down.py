"""Acceptance: with the Kafka broker stopped, a buy answers 503 retry within the
bound and leaves the stock and the buyer's record as they were; the reconcile watcher
(``scripts/run`` stops every process when one exits) rides the outage out."""

import time

import httpx
import pytest

from conftest import LiveSite, ManageProcess, stack, wait_until
from plumbing.redis_clients import sync_redis
from sales.buyers import mint_token
from sales.inventory import keys
from sales.tests.factories import BuyerFactory, SaleFactory

ACK_TIMEOUT = 2.0


@pytest.fixture
def site_with_short_bound(transactional_db, kafka_topics):
    site = LiveSite(BUY_ACK_TIMEOUT=ACK_TIMEOUT)
    yield site
    site.stop()


def buy(site, sale, buyer):
    return httpx.post(
        f"{site.url}/api/sales/{sale.pk}/buy",
        headers={"Authorization": f"Bearer {mint_token(buyer.pk)}"},
        timeout=30,
    )


@pytest.mark.slow
def test_broker_down_means_503_retry_and_nothing_taken(site_with_short_bound, request):
    site = site_with_short_bound
    sale = SaleFactory(total_stock=10)
    warm, buyer, later = BuyerFactory(), BuyerFactory(), BuyerFactory()
    assert buy(site, sale, warm).status_code == 201  # the producer is connected
    r = sync_redis()
    before = (r.get(keys.stock(sale.pk)), r.hgetall(keys.buyers(sale.pk)), r.hgetall(keys.orders(sale.pk)))
    indexed_before = set(r.scan_iter(keys.order_index("*")))

    watcher = ManageProcess("reconcile", "--repair", "--every", "0.5")
    request.addfinalizer(watcher.kill)
    stack("stop", "kafka")
    try:
        started = time.monotonic()
        response = buy(site, sale, buyer)
        elapsed = time.monotonic() - started
        # a round that meets the broker away (its requests time out after 5 s) fails and the next one comes
        wait_until(lambda: "round failed" in watcher.output() or not watcher.alive(), 20, watcher.output)
    finally:
        stack("start", "kafka")

    assert (response.status_code, response.json()) == (503, {"status": "retry"})
    assert elapsed < ACK_TIMEOUT + 1.5, f"answered after {elapsed:.1f}s"
    after = (r.get(keys.stock(sale.pk)), r.hgetall(keys.buyers(sale.pk)), r.hgetall(keys.orders(sale.pk)))
    assert after == before
    assert set(r.scan_iter(keys.order_index("*"))) == indexed_before  # no "pending" order left behind

    # Once the broker is back the same process sells again.
    deadline = time.monotonic() + 30
    while True:
        again = buy(site, sale, later)
        if again.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert again.status_code == 201, f"{again.status_code} {again.text}; daphne's log:\n{site.output()[-4000:]}"
    assert watcher.alive(), f"reconcile --every exited during the outage:\n{watcher.output()[-4000:]}"
    assert watcher.stop() == 0
