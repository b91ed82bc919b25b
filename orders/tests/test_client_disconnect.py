"""Buyers who hang up mid-buy, over the wire, under each server (issue 10, point 2).

Each buyer sends a whole buy request and resets the connection within 5 ms, so that the
server sees the client gone while the buy is on its way to Redis or to the broker. No
sweep runs here: the buy itself must finish its hand-off (its answer dropped) or give
the unit back, so within moments, far inside the abandoned-hold bound, every unit is in
stock or in an order row.
"""

import asyncio
import socket
import struct
import threading
import time

import httpx
import pytest

from conftest import LiveSite, OrderConsumerProcess, wait_until
from orders.models import Order
from orders.tests.groups import fresh_group
from sales import inventory
from sales.buyers import create_buyers, mint_token
from sales.tests.factories import SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)

UNITS, BUYERS = 200, 300


async def hang_up_mid_buy(port: int, sale_id: int, token: str, wait: float) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /api/sales/{sale_id}/buy HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n".encode()
    )
    await writer.drain()
    await asyncio.sleep(wait)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
    writer.transport.abort()


async def crowd(port: int, sale_id: int, tokens: list[str]) -> None:
    # hang up after 0 to 5 ms: before the script, while it runs, while the broker acknowledges
    await asyncio.gather(*(hang_up_mid_buy(port, sale_id, t, (i % 6) / 1000) for i, t in enumerate(tokens)))


@pytest.mark.slow
@pytest.mark.parametrize("server", ["granian", "daphne"])
def test_a_buyer_who_hangs_up_mid_buy_leaves_no_unit_held_by_nobody(server, kafka_topics):
    sale = SaleFactory(total_stock=UNITS, limit_per_buyer=1)
    tokens = [mint_token(b) for b in create_buyers(BUYERS)]
    group, _ = fresh_group()
    consumer = OrderConsumerProcess("--group", group)
    site = LiveSite(server)
    try:
        wait_until(lambda: httpx.get(f"{site.url}/api/sales/{sale.pk}").status_code == 200, 30, site.url)
        lowest = [UNITS]
        done = threading.Event()

        def watch():  # the buys really were under way in Redis when their clients hung up
            while not done.is_set():
                lowest[0] = min(lowest[0], inventory.remaining([sale.pk])[sale.pk])
                time.sleep(0.0005)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            asyncio.run(crowd(site.port, sale.pk, tokens))
        finally:
            done.set()
            watcher.join()

        def settled():
            rows = Order.objects.filter(sale_id=sale.pk).count()
            ledger = inventory.ledger(sale.pk)
            return ledger.unconfirmed == 0 and rows == ledger.confirmed and rows + ledger.in_stock == UNITS

        # the bound is 10 s by default, and nothing sweeps: only the buys themselves can settle this
        wait_until(settled, 5, lambda: f"settled: {inventory.ledger(sale.pk)}\n{site.output()[-2000:]}")
        ledger = inventory.ledger(sale.pk)
        print(
            f"\n{server}: {BUYERS} buyers hung up; lowest stock seen {lowest[0]}; "
            f"{ledger.confirmed} units ordered, {ledger.in_stock} in stock"
        )
        # Whether the server cancels a buy whose client hung up, and when, is the server's and the
        # moment's: granian cancelled about half of them in some runs and none in others, daphne
        # none. What must hold either way is settled() above; the cancelled-mid-script path itself
        # is driven deterministically in-process by test_placing.
    finally:
        site.stop()
        consumer.stop()
