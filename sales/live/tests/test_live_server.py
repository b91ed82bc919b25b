"""The websocket contract through a real server, under granian and under daphne.

``test_live.py`` drives the consumer in-process; this checks what a browser sees
over the wire: the snapshot on connect, a stock update, and the close codes.
"""

import asyncio
import time
import uuid

import aiohttp
import pytest

from sales.buyers import mint_token
from sales.inventory.scripts import sync_scripts
from sales.live.consumers import CLOSE_BAD_TOKEN, CLOSE_UNKNOWN_SALE
from sales.live.ticker import StockTicker
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_site(live_site_each_server):
    return live_site_each_server


async def first_message(site, path: str):
    """The first message (JSON) and how the socket closed, if it did right away."""
    ws_url = site.url.replace("http://", "ws://") + path
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(ws_url, headers={"Origin": site.url}) as ws:
            message = await ws.receive(timeout=10)
            if message.type == aiohttp.WSMsgType.TEXT:
                return message.json(), None
            return None, ws.close_code


def test_snapshot_then_a_stock_update(live_site):
    sale = SaleFactory(total_stock=3)

    async def scenario():
        ws_url = live_site.url.replace("http://", "ws://") + f"/ws/sales/{sale.pk}/"
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(ws_url, headers={"Origin": live_site.url}) as ws:
                snapshot = await ws.receive_json(timeout=10)
                code, *_ = await asyncio.to_thread(
                    sync_scripts().purchase, sale.pk, 1, str(uuid.uuid4()), 0, int(time.time())
                )
                assert code == 1
                ticker = StockTicker()
                for _ in range(50):
                    if await ticker.tick():
                        break
                    await asyncio.sleep(0.1)
                update = await ws.receive_json(timeout=10)
        return snapshot, update

    snapshot, update = asyncio.run(scenario())
    assert snapshot == {"type": "stock", "sale_id": sale.pk, "remaining": 3, "state": "open"}
    assert update == {"type": "stock", "sale_id": sale.pk, "remaining": 2, "state": "open"}


def test_unknown_sale_closes_with_4404(live_site):
    message, code = asyncio.run(first_message(live_site, "/ws/sales/999999/"))
    assert (message, code) == (None, CLOSE_UNKNOWN_SALE)


def test_refused_token_closes_with_4401(live_site):
    sale = SaleFactory(total_stock=1)
    message, code = asyncio.run(first_message(live_site, f"/ws/sales/{sale.pk}/?token=forged:token:sig"))
    assert (message, code) == (None, CLOSE_BAD_TOKEN)


def test_a_signed_in_buyer_gets_the_snapshot_too(live_site):
    sale, buyer = SaleFactory(total_stock=2), BuyerFactory()
    message, code = asyncio.run(first_message(live_site, f"/ws/sales/{sale.pk}/?token={mint_token(buyer.pk)}"))
    assert (message, code) == ({"type": "stock", "sale_id": sale.pk, "remaining": 2, "state": "open"}, None)
