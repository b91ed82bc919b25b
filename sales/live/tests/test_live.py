"""Live stock and order pushes through Channels, on the real Redis channel layer."""

import asyncio
import time
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from orders.events import OrderEvent
from orders.notify import notify_confirmed
from orders.services import BatchResult, Placed
from plumbing.redis_clients import sync_redis
from sales.buyers import mint_token
from sales.inventory.scripts import sync_scripts
from sales.live import presence
from sales.live.audience import LocalAudience
from sales.live.consumers import CLOSE_BAD_TOKEN, CLOSE_UNKNOWN_SALE
from sales.live.ticker import StockTicker
from sales.tests.factories import BuyerFactory, SaleFactory
from seckill_site.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(path: str, token: str | None = None):
    query = f"?token={token}" if token else ""
    communicator = WebsocketCommunicator(application, path + query, headers=[(b"origin", b"http://127.0.0.1")])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def drain(communicator, quiet: float = 0.5) -> list[dict]:
    """Everything the socket receives until it has been quiet for ``quiet`` seconds."""
    messages = []
    while not await communicator.receive_nothing(timeout=quiet):
        messages.append(await communicator.receive_json_from())
    return messages


@sync_to_async
def buy(sale, buyer_id):
    code, *_ = sync_scripts().purchase(sale.pk, buyer_id, str(uuid.uuid4()), 0, int(time.time()))
    return code


async def test_snapshot_on_connect_and_update_after_purchase():
    sale = await sync_to_async(SaleFactory)(total_stock=5)
    viewer = await connect(f"/ws/sales/{sale.pk}/")
    assert await viewer.receive_json_from() == {"type": "stock", "sale_id": sale.pk, "remaining": 5, "state": "open"}
    ticker = StockTicker()
    await ticker.tick()  # first tick publishes the current value
    await drain(viewer, 0.3)
    assert await buy(sale, 1) == 1
    assert await ticker.tick() == 1
    assert await viewer.receive_json_from(timeout=2) == {
        "type": "stock",
        "sale_id": sale.pk,
        "remaining": 4,
        "state": "open",
    }
    assert await ticker.tick() == 0  # nothing changed, nothing sent
    await viewer.disconnect()


async def test_unknown_sale_and_bad_token_close_with_clear_codes():
    unknown = await connect("/ws/sales/999999/")
    assert (await unknown.receive_output(timeout=2)) == {"type": "websocket.close", "code": CLOSE_UNKNOWN_SALE}
    sale = await sync_to_async(SaleFactory)(total_stock=1)
    forged = await connect(f"/ws/sales/{sale.pk}/", token="1:abc:forged")
    assert (await forged.receive_output(timeout=2)) == {"type": "websocket.close", "code": CLOSE_BAD_TOKEN}


async def test_thousand_purchases_in_a_second_are_coalesced():
    sale = await sync_to_async(SaleFactory)(total_stock=1200, limit_per_buyer=1)
    viewers = [await connect(f"/ws/sales/{sale.pk}/") for _ in range(3)]
    for v in viewers:
        await v.receive_json_from()  # snapshot
    ticker = StockTicker(interval=0.1)
    ticker_task = asyncio.create_task(ticker.run())

    @sync_to_async(thread_sensitive=False)  # concurrent with the ticker, like real buyers
    def thousand_purchases_over_a_second():
        scripts = sync_scripts()
        started = time.monotonic()
        for buyer in range(1, 1001):
            scripts.purchase(sale.pk, buyer, str(uuid.uuid4()), 0, int(time.time()))
            if buyer % 100 == 0:  # spread over ~1 s
                time.sleep(max(0.0, started + buyer / 1000 - time.monotonic()))

    started = time.monotonic()
    await thousand_purchases_over_a_second()
    elapsed = time.monotonic() - started
    received = [await drain(v, 0.6) for v in viewers]
    ticker.stop()
    await ticker_task
    print(f"purchases took {elapsed:.2f}s; messages per viewer: {[len(m) for m in received]}")
    for messages in received:
        # ~10 a second over the purchases, plus the tick in flight when they ended
        assert 5 <= len(messages) <= 10 * elapsed + 2, (len(messages), elapsed)
        assert messages[-1] == {"type": "stock", "sale_id": sale.pk, "remaining": 200, "state": "open"}
    for v in viewers:
        await v.disconnect()


async def test_sell_out_is_always_delivered():
    sale = await sync_to_async(SaleFactory)(total_stock=3, limit_per_buyer=1)
    viewer = await connect(f"/ws/sales/{sale.pk}/")
    await viewer.receive_json_from()
    ticker = StockTicker()
    await ticker.tick()
    for buyer in (1, 2, 3):
        await buy(sale, buyer)
    await asyncio.sleep(ticker.interval)
    await ticker.tick()
    messages = await drain(viewer, 0.5)
    assert messages[-1] == {"type": "stock", "sale_id": sale.pk, "remaining": 0, "state": "sold_out"}
    await viewer.disconnect()


async def test_order_confirmation_reaches_only_its_buyer():
    sale = await sync_to_async(SaleFactory)(total_stock=5)
    alice, bob, carol = [await sync_to_async(BuyerFactory)() for _ in range(3)]
    alice_tab_1 = await connect(f"/ws/sales/{sale.pk}/", mint_token(alice.pk))
    alice_tab_2 = await connect(f"/ws/sales/{sale.pk}/", mint_token(alice.pk))
    bob_tab = await connect(f"/ws/sales/{sale.pk}/", mint_token(bob.pk))
    anonymous = await connect(f"/ws/sales/{sale.pk}/")
    for tab in (alice_tab_1, alice_tab_2, bob_tab, anonymous):
        await tab.receive_json_from()  # snapshot
    alices, carols = (
        Placed(OrderEvent(uuid.uuid4(), sale.pk, buyer.pk, sale.price, sale.starts_at), "orders", 0, n)
        for n, buyer in enumerate((alice, carol))
    )
    # Carol has no page open: her confirmation is not even published.
    assert await sync_to_async(presence.watching)([alice.pk, carol.pk]) == {alice.pk}
    written = BatchResult(written=[alices, carols], released=[], rejected=[])
    await sync_to_async(notify_confirmed, thread_sensitive=False)(written)
    expected = {"type": "order", "order_id": str(alices.value.order_id), "status": "awaiting_payment"}
    assert await alice_tab_1.receive_json_from(timeout=2) == expected
    assert await alice_tab_2.receive_json_from(timeout=2) == expected
    assert await drain(bob_tab, 0.5) == []
    assert await drain(anonymous, 0.1) == []
    for tab in (alice_tab_1, alice_tab_2, bob_tab, anonymous):
        await tab.disconnect()
    assert await sync_to_async(presence.watching)([alice.pk]) == set()  # all her tabs closed


async def test_viewers_are_counted_per_sale():
    sale = await sync_to_async(SaleFactory)(total_stock=5)
    tabs = [await connect(f"/ws/sales/{sale.pk}/") for _ in range(3)]
    for tab in tabs:
        await tab.receive_json_from()
    count = sync_to_async(lambda: int(sync_redis().hget(presence.VIEWERS, sale.pk)))
    assert await count() == 3
    await tabs[0].disconnect()
    assert await count() == 2
    for tab in tabs[1:]:
        await tab.disconnect()
    assert await count() == 0


async def test_a_large_audience_gets_fewer_updates_and_still_the_last_value(settings):
    """2,000 viewers at a budget of 4,000 frames/s: one update every 0.5 s."""
    settings.LIVE_PUSH_BUDGET = 4000
    sale = await sync_to_async(SaleFactory)(total_stock=500, limit_per_buyer=1)
    viewer = await connect(f"/ws/sales/{sale.pk}/")
    await viewer.receive_json_from()
    await sync_to_async(sync_redis().hset)(presence.VIEWERS, sale.pk, 2000)  # the rest of the crowd
    ticker = StockTicker(interval=0.1)
    task = asyncio.create_task(ticker.run())

    @sync_to_async(thread_sensitive=False)
    def purchases_over_two_seconds():
        for buyer in range(1, 201):
            sync_scripts().purchase(sale.pk, buyer, str(uuid.uuid4()), 0, int(time.time()))
            time.sleep(0.01)

    await purchases_over_two_seconds()
    messages = await drain(viewer, 1.0)
    ticker.stop()
    await task
    assert 2 <= len(messages) <= 7, len(messages)  # ~2 s + the tail at 2 a second, not 20+
    assert messages[-1]["remaining"] == 300
    await viewer.disconnect()


async def test_a_failed_tick_keeps_the_lead():
    """A passing error (a database blip) must not hand the site's ticker over: the lock is
    still held, so giving up the lead would silence every sale until it expired."""
    ticker = StockTicker(interval=0.05)
    ticks = []

    async def flaky_tick():
        ticks.append(time.monotonic())
        if len(ticks) == 1:
            raise RuntimeError("database blip")
        if len(ticks) == 3:
            ticker.stop()
        return 0

    ticker.tick = flaky_tick
    await asyncio.wait_for(ticker.run(), timeout=2)  # losing the lead would stall ~LOCK_TTL (3 s)
    assert len(ticks) == 3
    assert ticks[1] - ticks[0] < 0.5


async def test_an_unchanged_value_is_sent_again_after_the_keyframe_interval(monkeypatch):
    """A viewer that missed an update (its process was resubscribing) gets the value anyway."""
    monkeypatch.setattr("sales.live.ticker.KEYFRAME", 0.3)
    sale = await sync_to_async(SaleFactory)(total_stock=4)
    viewer = await connect(f"/ws/sales/{sale.pk}/")
    await viewer.receive_json_from()
    ticker = StockTicker()
    assert await ticker.tick() == 1
    assert await ticker.tick() == 0  # unchanged and recent
    await asyncio.sleep(0.35)
    assert await ticker.tick() == 1
    messages = await drain(viewer, 0.3)
    assert messages == [{"type": "stock", "sale_id": sale.pk, "remaining": 4, "state": "open"}] * 2
    await viewer.disconnect()


async def test_one_update_reaches_every_viewer_in_the_process_and_a_closed_socket_is_skipped():
    audience = LocalAudience()
    got = []

    async def viewer(text):
        got.append(text)

    async def closing(text):
        raise RuntimeError("socket closed")

    others = [lambda text, n=n: viewer(f"{n}:{text}") for n in range(600)]
    for send in (closing, *others):
        audience.join(7, send)
    audience.join(8, viewer)
    assert await audience.deliver(7, "x") == 600
    assert len(got) == 600 and "599:x" in got
    audience.leave(8, viewer)
    assert await audience.deliver(8, "y") == 0
    assert 8 not in audience.viewers
    audience.close()


async def test_the_my_orders_socket_gets_only_its_buyers_order_changes():
    from orders.notify import notify_status

    alice, bob = [await sync_to_async(BuyerFactory)() for _ in range(2)]
    alices = await connect("/ws/orders/", mint_token(alice.pk))
    bobs = await connect("/ws/orders/", mint_token(bob.pk))
    order_id = str(uuid.uuid4())
    await sync_to_async(notify_status, thread_sensitive=False)([(alice.pk, order_id, "expired")])
    assert await alices.receive_json_from(timeout=2) == {"type": "order", "order_id": order_id, "status": "expired"}
    assert await drain(bobs, 0.5) == []
    for tab in (alices, bobs):
        await tab.disconnect()

    nobody = await connect("/ws/orders/")
    assert (await nobody.receive_output(timeout=2))["code"] == CLOSE_BAD_TOKEN
