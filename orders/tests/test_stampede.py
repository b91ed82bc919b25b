"""Acceptance: 300 distinct buyers at once against 100 units, through daphne,
Redis and Kafka, then consume_orders into MariaDB."""

import asyncio
from collections import Counter

import aiohttp
import pytest

from conftest import drain_orders
from orders.models import Order
from orders.tests.groups import fresh_group
from plumbing.redis_clients import sync_redis
from sales.buyers import create_buyers, mint_token
from sales.inventory import keys
from sales.tests.factories import SaleFactory

pytestmark = pytest.mark.cluster  # also run on the clusters (issue 13)

BUYERS = 300
STOCK = 100


async def stampede(url: str, tokens: list[str]) -> list[tuple[int, dict]]:
    """Every buyer clicks once, all at the same moment."""
    start = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=len(tokens))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def click(token):
            await start.wait()
            async with session.post(url, headers={"Authorization": f"Bearer {token}"}) as response:
                return response.status, await response.json()

        tasks = [asyncio.create_task(click(t)) for t in tokens]
        await asyncio.sleep(0.2)  # every task is parked at the gate
        start.set()
        return await asyncio.gather(*tasks)


@pytest.mark.slow
def test_300_buyers_100_units_exactly_100_orders(live_site):
    sale = SaleFactory(total_stock=STOCK, limit_per_buyer=1)
    buyer_ids = create_buyers(BUYERS)
    token_of = {mint_token(b): b for b in buyer_ids}
    group, _ = fresh_group()

    answers = asyncio.run(stampede(f"{live_site.url}/api/sales/{sale.pk}/buy", list(token_of)))

    statuses = Counter((code, body["status"]) for code, body in answers)
    assert statuses == {(201, "reserved"): STOCK, (409, "sold_out"): BUYERS - STOCK}
    answered_ids = {body["order_id"] for code, body in answers if code == 201}
    assert len(answered_ids) == STOCK

    drain_orders(group, sale.pk, STOCK)  # asserts exactly STOCK rows

    orders = list(Order.objects.filter(sale=sale).values_list("order_id", "buyer_id"))
    assert {str(order_id) for order_id, _ in orders} == answered_ids  # every answer a row, no row unanswered
    assert len({buyer for _, buyer in orders}) == STOCK  # one per buyer
    assert int(sync_redis().get(keys.stock(sale.pk))) == 0
