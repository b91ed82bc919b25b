"""The buy service (``orders.placing``) in-process, on the real Redis and Kafka."""

import asyncio
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from conftest import drain_orders
from orders import placing
from orders.api import buy_answer
from orders.placing import place_order
from orders.tests.groups import fresh_group
from plumbing.redis_clients import sync_redis
from plumbing.redis_pipe import PipelinedRedis
from sales import inventory
from sales.inventory import keys
from sales.tests.factories import BuyerFactory, SaleFactory


@pytest.mark.django_db(transaction=True)
def test_a_failed_order_index_write_does_not_turn_a_won_unit_into_an_error(kafka_topics, monkeypatch, caplog):
    sale = SaleFactory(total_stock=3)
    buyer = BuyerFactory()
    group, _ = fresh_group()

    async def unreachable(self, key, value, ex=None):
        raise RedisConnectionError("connection to Redis lost")

    monkeypatch.setattr(PipelinedRedis, "set", unreachable)
    with caplog.at_level(logging.WARNING, logger="orders.placing"):
        http_status, body = asyncio.run(buy_answer(sale.pk, buyer.pk))

    # The broker acknowledged the order, so the buyer has it: 201, not 500.
    assert (http_status, body["status"], body["remaining"]) == (201, "reserved", 2)
    assert f"order {body['order_id']}: the order index was not written" in caplog.text
    r = sync_redis()
    assert int(r.get(keys.stock(sale.pk))) == 2
    assert r.get(keys.order_index(body["order_id"])) is None
    drain_orders(group, sale.pk, expected=1)


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_buy_ends_in_stock_or_in_an_order_not_as_a_lost_unit(kafka_topics, monkeypatch):
    """Cancelled right after its purchase script went out (a server stopping, a client gone):
    Redis takes the unit regardless, so the buy must give it back or see it ordered."""
    sale = SaleFactory(total_stock=3)
    buyer = BuyerFactory()
    group, _ = fresh_group()

    async def cancel_mid_buy():
        assert await inventory.offer(sale.pk)  # the loop's Redis connection is open
        task = asyncio.ensure_future(place_order(sale.pk, buyer.pk))
        for _ in range(3):
            await asyncio.sleep(0)  # the buy is under way: its script is on its way to Redis
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await placing.drain()  # what the cancelled buy left to do in the background

    monkeypatch.setattr(placing, "_closing", False)  # drain() closes the process to new buys: reopened after

    asyncio.run(cancel_mid_buy())
    r = sync_redis()
    left = int(r.get(keys.stock(sale.pk)))
    if left == 3:  # given back: nothing held, nothing pending
        assert (r.hlen(keys.orders(sale.pk)), r.hlen(keys.buyers(sale.pk))) == (0, 0)
    else:  # taken: then it is an order
        assert left == 2
        drain_orders(group, sale.pk, expected=1)


@pytest.mark.django_db(transaction=True)
def test_after_drain_a_buy_is_told_to_try_again_and_takes_nothing(kafka_topics, monkeypatch):
    """A stopping process (daphne still reads requests while it stops) takes no new unit."""
    sale = SaleFactory(total_stock=3)
    buyer = BuyerFactory()
    monkeypatch.setattr(placing, "_closing", False)

    async def buy_after_drain():
        await placing.drain()
        with pytest.raises(placing.TryAgain):
            await place_order(sale.pk, buyer.pk)

    asyncio.run(buy_after_drain())
    assert int(sync_redis().get(keys.stock(sale.pk))) == 3
