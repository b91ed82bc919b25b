"""One of two web processes SIGKILLed in the middle of a sale (issue 10's scenario).

Buyers arrive at once, spread over both processes; a request the dead one fails is
sent again to the other, as a load balancer would. Whatever the dead process left
between its purchase scripts and its producer is given back by ``manage.py reconcile
--repair --every``, as ``scripts/run`` starts it (a short bound here), and a retrying buyer
who holds an order hears ``limit_reached`` with it. Afterwards: stock + order rows = total,
every 201 is a row, every row was told to its buyer (201, or limit_reached naming it)
and its buyer can see it, and nobody holding a row was told sold_out.

``SECKILL_DEATH_UNITS`` / ``SECKILL_DEATH_BUYERS`` scale it (the issue's figures are
1,000 / 1,200); the test prints what it saw.
"""

import asyncio
import os
import re
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from conftest import LiveSite, ManageProcess, OrderConsumerProcess, wait_until
from orders.models import Order
from orders.tests.groups import fresh_group
from sales import inventory
from sales.buyers import create_buyers, mint_token
from sales.tests.factories import SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)

UNITS = int(os.environ.get("SECKILL_DEATH_UNITS", 300))
BUYERS = int(os.environ.get("SECKILL_DEATH_BUYERS", 400))
# bound = 0.5 + 2 + 1 = 3.5 s (orders.abandoned.bound_ms)
SHORT_BOUND = {"BUY_PRODUCE_WITHIN": "0.5", "BUY_ACK_TIMEOUT": "2", "HOLD_SLACK": "1", "HOLD_SWEEP_INTERVAL": "0.5"}


async def crowd(sale_id: int, tokens: list[str], dying: LiveSite, staying: LiveSite) -> list[dict]:
    """Every buyer buys once, alternately at each process, all at once; ``dying`` is SIGKILLed when
    it has answered a third of its buyers."""
    seen: list[dict[str, Any]] = [{} for _ in tokens]
    limits = httpx.Limits(max_connections=len(tokens))  # everyone at once, as in a stampede
    async with (
        httpx.AsyncClient(base_url=dying.url, timeout=30, limits=limits) as first,
        httpx.AsyncClient(base_url=staying.url, timeout=30, limits=limits) as second,
    ):

        async def buy(i: int, token: str) -> None:
            clients = [first, second] if i % 2 == 0 else [second]
            for client in clients:
                try:
                    r = await client.post(f"/api/sales/{sale_id}/buy", headers={"Authorization": f"Bearer {token}"})
                except httpx.HTTPError:
                    seen[i]["died"] = True
                    continue
                seen[i].update(code=r.status_code, body=r.json())
                break

        # Killed on the server's progress, not the client's: the site answers faster than this
        # client reads, so by the time it has read a third of the answers, all were sent.
        killer = threading.Thread(target=kill_when_a_third_is_sold, args=(sale_id, dying))
        killer.start()
        await asyncio.gather(*(buy(i, t) for i, t in enumerate(tokens)))
        killer.join()
    return seen


def kill_when_a_third_is_sold(sale_id: int, dying: LiveSite) -> None:
    while True:
        left = inventory.remaining([sale_id])[sale_id]
        assert left is not None, "the sale is not in Redis"
        if left <= UNITS - UNITS // 3:
            break
        time.sleep(0.0005)
    dying.kill()


@pytest.mark.slow
def test_a_web_process_killed_mid_sale_leaves_no_unit_held_by_nobody(kafka_topics):
    sale = SaleFactory(total_stock=UNITS, limit_per_buyer=1)
    buyer_ids = create_buyers(BUYERS)
    tokens = [mint_token(b) for b in buyer_ids]
    group, _ = fresh_group()
    consumer = OrderConsumerProcess("--group", group)
    sweeper = ManageProcess("reconcile", "--repair", "--every", "0.5", "--group", group, **SHORT_BOUND)
    dying, staying = LiveSite(**SHORT_BOUND), LiveSite(**SHORT_BOUND)
    try:
        for site in (dying, staying):  # both serving (not only listening) before the crowd comes
            wait_until(lambda s=site: httpx.get(f"{s.url}/api/sales/{sale.pk}").status_code == 200, 30, site.url)
        seen = asyncio.run(crowd(sale.pk, tokens, dying, staying))

        def settled():
            rows = Order.objects.filter(sale_id=sale.pk).count()
            return rows + inventory.remaining([sale.pk])[sale.pk] == UNITS and not inventory.stale_holds(
                sale.pk, inventory.redis_time_ms() + 1
            )

        wait_until(settled, 60, lambda: f"settled:\n{sweeper.output()[-2000:]}\n{consumer.output()[-2000:]}")
        rows = dict(Order.objects.filter(sale_id=sale.pk).values_list("order_id", "buyer_id"))
        rows = {str(o): b for o, b in rows.items()}
        told: dict[str, int] = {}
        for buyer, s in zip(buyer_ids, seen, strict=True):
            body = s.get("body", {})
            for order_id in [body.get("order_id")] * (s.get("code") == 201) + body.get("order_ids", []):
                told[order_id] = buyer
        retried = Counter(f"{s.get('code')} {s.get('body', {}).get('status')}" for s in seen if s.get("died"))
        holders = set(rows.values())
        sold_out_holders = [
            b
            for b, s in zip(buyer_ids, seen, strict=True)
            if b in holders and s.get("body", {}).get("status") == "sold_out"
        ]
        stuck = UNITS - len(rows) - inventory.remaining([sale.pk])[sale.pk]
        print(
            f"\nunits {UNITS}, buyers {BUYERS}: rows {len(rows)}, stuck units {stuck}, "
            f"rows nobody was told {len(set(rows) - set(told))}, retried buyers told {dict(retried)}, "
            f"holders told sold_out {len(sold_out_holders)}, holds given back by the sweep {_given_back(sweeper)}"
        )

        assert stuck == 0
        assert all(order_id in rows for order_id, s in _reserved(seen))  # every 201 is a row
        assert set(rows) <= set(told), set(rows) - set(told)  # every row was told to its buyer
        assert set(told) <= set(rows), set(told) - set(rows)  # and every order a buyer was told of is a row
        assert all(rows[o] == b for o, b in told.items() if o in rows)
        assert not sold_out_holders
        assert all(s.get("code") for s in seen), "a buyer got no answer even from the living process"
        with httpx.Client(base_url=staying.url) as client:  # every row's buyer can see it
            for order_id, buyer in list(rows.items())[:50]:
                r = client.get(f"/api/orders/{order_id}", headers={"Authorization": f"Bearer {mint_token(buyer)}"})
                assert (r.status_code, r.json()["status"]) == (200, "awaiting_payment"), r.text
    finally:
        staying.stop()
        dying.stop()
        sweeper.stop()
        consumer.stop()


def _given_back(sweeper) -> int:
    return sum(int(n) for n in re.findall(r"gave back (\d+) abandoned", sweeper.output()))


def _reserved(seen):
    return [(s["body"]["order_id"], s) for s in seen if s.get("code") == 201]
