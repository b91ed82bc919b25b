"""Redis loses a sale's data in the middle of a sale (issue 10): its keys deleted, or Redis
SIGKILLed and restarted (its AOF is fsynced every second, so the last writes may be gone), or on
a Redis Cluster (issue 13) the sale's master SIGKILLed and its replica promoted (replication is
asynchronous, so the replica may lack the last writes).

Buyers arrive over a few seconds and try again on 503 (or a refused connection), as clients should.
The site, an order consumer and ``manage.py reconcile --repair --every`` (as ``scripts/run``
starts them, with a short abandoned-hold bound) run throughout. Afterwards: no answer was a
5xx other than ``503 retry``, never more rows than units nor than the limit per buyer, every
201 is a row, and stock + rows = total once the sale is rebuilt.
"""

import asyncio
import os
import signal
from collections import Counter

import httpx
import pytest
import redis
from django.conf import settings
from redis.crc import key_slot
from redis.exceptions import RedisError

from conftest import ROOT, LiveSite, ManageProcess, OrderConsumerProcess, stack, wait_until
from orders.models import Order
from orders.tests.crowds import crowd
from orders.tests.groups import fresh_group
from plumbing.redis_clients import sync_redis
from sales import inventory
from sales.buyers import create_buyers, mint_token
from sales.inventory import keys
from sales.tests.factories import SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)

UNITS, BUYERS = 300, 400
# bound = 0.5 + 2 + 1 = 3.5 s (orders.abandoned.bound_ms)
SHORT_BOUND = {"BUY_PRODUCE_WITHIN": "0.5", "BUY_ACK_TIMEOUT": "2", "HOLD_SLACK": "1", "HOLD_SWEEP_INTERVAL": "0.5"}


def delete_the_sales_keys(sale_id: int) -> None:
    sync_redis().delete(*keys.all_of_sale(sale_id))


def kill_and_restart_redis(_sale_id: int) -> None:
    pid = int((ROOT / ".stack" / "redis" / "redis.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 10, "redis-server gone")
    stack("start", "redis")


def kill_the_sales_master(sale_id: int) -> None:
    """On a Redis Cluster: SIGKILL the master of the sale's slot, wait until its replica is promoted
    (the replica has what the master had replicated, asynchronously: the last writes may be
    missing), then start the old master again: it rejoins as the new master's replica."""
    cluster = sync_redis()
    port = cluster.get_node_from_key(keys.meta(sale_id)).port
    others = [redis.Redis(host=n.host, port=n.port) for n in cluster.get_nodes() if n.port != port]
    stack("kill", f"redis:{port}")
    slot = key_slot(keys.meta(sale_id).encode())

    def promoted():
        for other in others:
            try:
                for start, end, master, *_ in other.execute_command("CLUSTER", "SLOTS"):
                    if start <= slot <= end and master[1] != port:
                        return other.cluster("INFO")["cluster_state"] == "ok"
            except RedisError:
                continue
        return False

    wait_until(promoted, 30, f"a replica promoted for slot {slot} of the killed master :{port}")
    stack("start", f"redis:{port}")


CLUSTER = settings.REDIS_CLUSTER


def quietly(read):
    """``read()``, or None while Redis is not answering yet."""
    try:
        return read()
    except RedisError:
        return None


@pytest.mark.slow
@pytest.mark.cluster
@pytest.mark.parametrize(
    "fault",
    [
        delete_the_sales_keys,
        pytest.param(kill_and_restart_redis, marks=pytest.mark.skipif(CLUSTER, reason="one Redis, not a cluster")),
        pytest.param(kill_the_sales_master, marks=pytest.mark.skipif(not CLUSTER, reason="STACK_REDIS_CLUSTER=1")),
    ],
)
def test_redis_losing_a_sale_mid_sale_oversells_nothing_and_every_answer_is_json(fault, kafka_topics):
    sale = SaleFactory(total_stock=UNITS, limit_per_buyer=1)
    buyer_ids = create_buyers(BUYERS)
    tokens = [mint_token(b) for b in buyer_ids]
    group, _ = fresh_group()
    consumer = OrderConsumerProcess("--group", group)
    keeper = ManageProcess("reconcile", "--group", group, "--repair", "--every", "0.5", **SHORT_BOUND)
    site = LiveSite(**SHORT_BOUND)
    try:
        wait_until(lambda: httpx.get(f"{site.url}/api/sales/{sale.pk}").status_code == 200, 30, site.url)
        answers = asyncio.run(crowd(site, sale.pk, tokens, lambda: fault(sale.pk), strike_at=UNITS - UNITS // 3))

        def settled():
            left = quietly(lambda: inventory.remaining([sale.pk])[sale.pk])
            rows = Order.objects.filter(sale_id=sale.pk).count()
            return (
                left is not None
                and rows + left == UNITS
                and not quietly(lambda: inventory.unchecked([sale.pk]) or inventory.stale_holds(sale.pk, 2**62))
            )

        wait_until(settled, 90, lambda: f"settled:\n{keeper.output()[-3000:]}\n{consumer.output()[-2000:]}")
        rows = {str(o): b for o, b in Order.objects.filter(sale_id=sale.pk).values_list("order_id", "buyer_id")}
        every = [a for buyer in answers for a in buyer]
        codes = Counter(code for code, _ in every)
        finals = Counter(f"{buyer[-1][0]} {buyer[-1][1].get('status')}" for buyer in answers)
        print(f"\n{fault.__name__}: answers {dict(codes)}, final answers {dict(finals)}, rows {len(rows)}")
        print(keeper.output()[-1500:])

        assert not [(c, body) for c, body in every if c >= 500 and (c, body) != (503, {"status": "retry"})]
        assert codes[-1] == 0, "a request got no answer"
        assert codes[503] > 0, "the fault was not felt"
        assert all(body.get("status") for c, body in every if c != -1)
        assert len(rows) <= UNITS
        assert max(Counter(rows.values()).values()) == 1  # the limit per buyer held
        reserved = [body["order_id"] for buyer in answers for c, body in buyer if c == 201]
        assert set(reserved) <= set(rows), set(reserved) - set(rows)  # every 201 is a row
        assert rows
    finally:
        site.stop()
        keeper.stop()
        consumer.stop()
