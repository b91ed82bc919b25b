"""One of two web processes stopped gracefully (SIGTERM) in the middle of a sale, under each server.

Buyers are spread over both processes; a request the stopping one fails is sent once
more to the other, as a load balancer would. Afterwards every unit is in stock or in
an order (none held by nobody) and every 201 the buyers heard is an order row.
"""

import asyncio
import signal

import httpx
import pytest

from conftest import LiveSite, drain_orders
from orders.models import Order
from orders.tests.groups import fresh_group
from sales import inventory
from sales.buyers import create_buyers, mint_token
from sales.tests.factories import SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)

UNITS, BUYERS, IN_FLIGHT, STOP_AFTER = 150, 400, 40, 100


async def crowd(sale_id: int, tokens: list[str], stopping: LiveSite, staying: LiveSite) -> dict[str, list]:
    """Each buyer buys once, half of them at ``stopping``, which gets SIGTERM after STOP_AFTER answers."""
    answers: dict[str, list] = {"reserved": [], "other": [], "failed_then_retried": []}
    done = 0
    gate = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with (
        httpx.AsyncClient(base_url=stopping.url, timeout=20, limits=limits) as first,
        httpx.AsyncClient(base_url=staying.url, timeout=20, limits=limits) as second,
    ):

        async def buy(i: int, token: str) -> None:
            nonlocal done
            clients = [first, second] if i % 2 == 0 else [second]
            async with gate:
                for n, client in enumerate(clients):
                    try:
                        r = await client.post(f"/api/sales/{sale_id}/buy", headers={"Authorization": f"Bearer {token}"})
                    except httpx.HTTPError:
                        answers["failed_then_retried"].append(i)
                        continue
                    if r.status_code >= 500 and n + 1 < len(clients):
                        answers["failed_then_retried"].append(i)
                        continue
                    body = r.json()
                    key = "reserved" if r.status_code == 201 else "other"
                    answers[key].append(body.get("order_id") or (r.status_code, body.get("status")))
                    break
                done += 1
                if done == STOP_AFTER:
                    stopping.proc.send_signal(signal.SIGTERM)

        await asyncio.gather(*(buy(i, t) for i, t in enumerate(tokens)))
    return answers


@pytest.mark.slow
@pytest.mark.parametrize("server", ["granian", "daphne"])
def test_sigterm_mid_sale_leaves_no_unit_held_without_an_order(server, kafka_topics):
    sale = SaleFactory(total_stock=UNITS, limit_per_buyer=1)
    tokens = [mint_token(b) for b in create_buyers(BUYERS, prefix=f"restart-{server}")]
    group, _ = fresh_group()
    stopping, staying = LiveSite(server), LiveSite(server)
    try:
        answers = asyncio.run(crowd(sale.pk, tokens, stopping, staying))
        stopping.proc.wait(30)  # it stops by itself once its buys in flight have ended
    finally:
        stopping.stop()
        staying.stop()

    total, left = inventory.total_and_left(sale.pk)
    held = total - left
    drain_orders(group, sale.pk, expected=held)  # every unit out of stock is an order row ...
    rows = {str(o) for o in Order.objects.filter(sale=sale).values_list("order_id", flat=True)}
    assert set(answers["reserved"]) <= rows, "a buyer was told 201 for an order that has no row"
    assert len(answers["reserved"]) == len(set(answers["reserved"]))
    assert held == len(rows) >= len(answers["reserved"])  # ... and nothing is held by nobody
