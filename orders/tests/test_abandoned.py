"""Abandoned holds (``orders.abandoned``) against the real Redis, Kafka and MariaDB.

A hold made by ``reserve_many`` and never produced is what a web process leaves when
it dies between its purchase script and its producer.
"""

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
from confluent_kafka import Producer
from django.conf import settings

from conftest import drain_orders, run_manage
from orders import events, placing
from orders.abandoned import AbandonedHolds, Sweep, bound_ms
from orders.api import buy_answer
from orders.models import Order
from orders.tests.groups import fresh_group
from plumbing.kafka.config import producer_config
from plumbing.kafka.offsets import GroupOffsets
from sales import inventory
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("kafka_topics")]


@pytest.fixture
def short_bound(settings):
    settings.BUY_PRODUCE_WITHIN, settings.BUY_ACK_TIMEOUT, settings.HOLD_SLACK = 0.2, 0.5, 0.3
    assert bound_ms() == 1000


def produce_event(sale, buyer_id: int, order_id: str) -> None:
    producer = Producer(producer_config(client_id="test-abandoned", delivery_timeout=10))
    value = events.encode(order_id, sale.pk, buyer_id, str(sale.price), datetime.now(UTC))
    producer.produce(settings.ORDERS_TOPIC, value, order_id.encode())
    assert producer.flush(10) == 0


def test_a_hold_whose_buy_died_goes_back_only_once_the_consumer_has_read_past_every_event(short_bound):
    sale = SaleFactory(total_stock=3, limit_per_buyer=1)
    died, in_flight = BuyerFactory(), BuyerFactory()
    group, _ = fresh_group()
    abandoned, on_its_way = str(uuid.uuid4()), str(uuid.uuid4())
    inventory.reserve_many(sale.pk, [(died.pk, abandoned), (in_flight.pk, on_its_way)])
    produce_event(sale, in_flight.pk, on_its_way)  # this buy reached the broker; its row is not written yet
    time.sleep(bound_ms() / 1000 + 0.1)

    offsets = GroupOffsets(settings.ORDERS_TOPIC, group, client_id="test-abandoned")
    holds = AbandonedHolds(offsets)
    try:
        first = holds.sweep()
        assert (first.found, first.waiting, first.released) == (2, True, None)
        assert inventory.remaining([sale.pk])[sale.pk] == 1  # nothing given back while an event may be unread

        consumer = run_manage("consume_orders", "--group", group, "--max-messages", "1")
        assert consumer.returncode == 0, consumer.stderr
        assert list(Order.objects.values_list("buyer_id", flat=True)) == [in_flight.pk]

        second = holds.sweep()
        assert second.released == [(sale.pk, abandoned)]
        assert inventory.remaining([sale.pk])[sale.pk] == 2  # the abandoned unit is on sale again
        assert inventory.held_by_buyer(sale.pk) == {in_flight.pk: 1}  # the order stands
        assert inventory.holder_of(abandoned) is None
        assert holds.sweep() == Sweep()
    finally:
        offsets.close()


def test_a_hold_younger_than_the_bound_is_left_alone(short_bound):
    sale = SaleFactory(total_stock=2)
    group, _ = fresh_group()
    inventory.reserve_many(sale.pk, [(BuyerFactory().pk, str(uuid.uuid4()))])
    offsets = GroupOffsets(settings.ORDERS_TOPIC, group, client_id="test-abandoned")
    try:
        assert AbandonedHolds(offsets).sweep() == Sweep()
        assert inventory.remaining([sale.pk])[sale.pk] == 1
    finally:
        offsets.close()


def test_the_command_gives_back_an_abandoned_hold_and_says_so():
    sale = SaleFactory(total_stock=1)
    group, _ = fresh_group()
    inventory.reserve_many(sale.pk, [(BuyerFactory().pk, str(uuid.uuid4()))])
    time.sleep(1.1)
    done = run_manage(
        "release_abandoned",
        "--once",
        "--group",
        group,
        BUY_PRODUCE_WITHIN="0.2",
        BUY_ACK_TIMEOUT="0.5",
        HOLD_SLACK="0.3",
    )
    assert done.returncode == 0, done.stderr
    assert "gave back 1 abandoned hold(s)" in done.stdout
    assert inventory.remaining([sale.pk])[sale.pk] == 1


def test_the_buyer_of_an_abandoned_hold_who_tries_again_is_told_the_order_and_it_is_written(settings):
    """The buy died after its script (the buyer never got an answer) and the buyer clicks
    again on another process: 409 limit_reached with that order, whose event the retry
    produces, so the consumer writes it and the sweep leaves it alone."""
    settings.BUY_PRODUCE_WITHIN, settings.BUY_ACK_TIMEOUT, settings.HOLD_SLACK = 0.5, 3.0, 0.3
    placing.close_producer()  # a producer with this test's delivery timeout
    sale = SaleFactory(total_stock=2, limit_per_buyer=1)
    buyer = BuyerFactory()
    group, _ = fresh_group()
    order_id = str(uuid.uuid4())
    inventory.reserve_many(sale.pk, [(buyer.pk, order_id)])

    http_status, body = asyncio.run(buy_answer(sale.pk, buyer.pk))
    assert (http_status, body) == (409, {"status": "limit_reached", "order_ids": [order_id]})
    drain_orders(group, sale.pk, expected=1)
    assert [str(o) for o in Order.objects.values_list("order_id", flat=True)] == [order_id]

    time.sleep(bound_ms() / 1000 + 0.1)
    offsets = GroupOffsets(settings.ORDERS_TOPIC, group, client_id="test-abandoned")
    try:
        assert AbandonedHolds(offsets).sweep() == Sweep()  # confirmed: not a hold any more
    finally:
        offsets.close()
    assert inventory.remaining([sale.pk])[sale.pk] == 1
    placing.close_producer()


def test_a_buyer_at_the_limit_whose_unconfirmed_order_cannot_be_handed_off_again_is_asked_to_retry(settings):
    """limit_reached names an order only once Kafka has it: this one's event cannot be produced in
    time (nothing is, past BUY_PRODUCE_WITHIN), so the sweep may give it back: 503 retry."""
    settings.BUY_PRODUCE_WITHIN = 0.0
    sale = SaleFactory(total_stock=2, limit_per_buyer=1)
    buyer = BuyerFactory()
    inventory.reserve_many(sale.pk, [(buyer.pk, str(uuid.uuid4()))])
    assert asyncio.run(buy_answer(sale.pk, buyer.pk)) == (503, {"status": "retry"})
    assert inventory.held_by_buyer(sale.pk) == {buyer.pk: 1}  # left to the sweep, which waits the bound
