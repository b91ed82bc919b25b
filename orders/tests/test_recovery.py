"""Rebuilding a sale Redis lost (``orders.recovery``) against the real Redis, Kafka and MariaDB."""

import time
import uuid

import pytest
from django.conf import settings

from conftest import OrderConsumerProcess, run_manage, wait_until
from orders.abandoned import bound_ms
from orders.models import Order
from orders.recovery import Recovery
from orders.tests.factories import OrderFactory
from orders.tests.groups import fresh_group
from orders.tests.test_abandoned import produce_event
from plumbing.kafka.offsets import GroupOffsets
from plumbing.redis_clients import sync_redis
from sales import inventory
from sales.inventory import keys
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("kafka_topics"), pytest.mark.cluster]

SHORT_BOUND = {"BUY_PRODUCE_WITHIN": "0.2", "BUY_ACK_TIMEOUT": "0.5", "HOLD_SLACK": "0.3"}  # 1 s


@pytest.fixture
def short_bound(settings):
    settings.BUY_PRODUCE_WITHIN, settings.BUY_ACK_TIMEOUT, settings.HOLD_SLACK = 0.2, 0.5, 0.3
    assert bound_ms() == 1000


def a_sale_redis_lost():
    """Three buyers hold a unit each: one has a row, one an event not read yet, one neither (its buy
    died before producing). Then Redis loses the sale's keys."""
    sale = SaleFactory(total_stock=5, limit_per_buyer=1)
    ordered, unread, died = BuyerFactory(), BuyerFactory(), BuyerFactory()
    group, _ = fresh_group()
    holds = {b.pk: str(uuid.uuid4()) for b in (ordered, unread, died)}
    inventory.reserve_many(sale.pk, list(holds.items()))
    inventory.confirm([(sale.pk, holds[ordered.pk])])
    OrderFactory(sale=sale, buyer=ordered, order_id=holds[ordered.pk])
    produce_event(sale, unread.pk, holds[unread.pk])
    sync_redis().delete(*keys.all_of_sale(sale.pk))
    return sale, group, holds, (ordered, unread, died)


def test_a_lost_sale_is_rebuilt_from_its_rows_and_unread_events_once_the_bound_has_passed(short_bound):
    sale, group, _, (ordered, unread, _) = a_sale_redis_lost()
    offsets = GroupOffsets(settings.ORDERS_TOPIC, group, client_id="test-recovery")
    recovery = Recovery(offsets)
    try:
        assert recovery.run() == []  # first seen unchecked: events may still be on their way
        assert recovery.pending() == [sale.pk]
        time.sleep(bound_ms() / 1000 + 0.1)
        [restored] = recovery.run()
    finally:
        offsets.close()

    assert (restored.sale_id, restored.rows, restored.unread, restored.remaining) == (sale.pk, 1, 1, 3)
    assert inventory.unchecked([sale.pk]) == []
    assert inventory.held_by_buyer(sale.pk) == {ordered.pk: 1, unread.pk: 1}  # the died buy's unit is back
    assert inventory.ledger(sale.pk) == inventory.Ledger(total=5, in_stock=3, holds=2, confirmed=1, unconfirmed=1)

    consumer = run_manage("consume_orders", "--group", group, "--max-messages", "1")
    assert consumer.returncode == 0, consumer.stderr
    assert set(Order.objects.filter(sale=sale).values_list("buyer_id", flat=True)) == {ordered.pk, unread.pk}


def test_the_consumer_waits_for_a_lost_sale_and_writes_its_order_once_rebuilt():
    sale, group, holds, (_, unread, _) = a_sale_redis_lost()
    consumer = OrderConsumerProcess("--group", group)
    try:
        # it can neither confirm the unread event (the hold is gone with Redis's data) nor call it
        # released: it keeps the batch uncommitted and retries until the reconcile below rebuilds the sale
        wait_until(lambda: "not handled" in consumer.output(), 30, consumer.output)
        assert not Order.objects.filter(buyer=unread).exists()

        repaired = run_manage("reconcile", "--group", group, "--repair", "--sale", str(sale.pk), **SHORT_BOUND)
        assert f"repair: rebuilt sale {sale.pk} in Redis from 1 row(s) and 1 unread event(s); 3 in stock" in (
            repaired.stdout
        ), repaired.stdout + repaired.stderr

        wait_until(lambda: Order.objects.filter(buyer=unread, order_id=holds[unread.pk]).exists(), 30, consumer.output)
    finally:
        consumer.stop()
    after = run_manage("reconcile", "--group", group, "--sale", str(sale.pk), **SHORT_BOUND)
    assert after.returncode == 0, after.stdout + after.stderr


def test_reconcile_reports_a_lost_sale_and_one_whose_counts_say_redis_lost_data():
    sale, group, _, _ = a_sale_redis_lost()
    other = SaleFactory(total_stock=4)
    sync_redis().decr(keys.stock(other.pk))  # a unit gone with no hold: Redis lost or changed data

    found = run_manage("reconcile", "--group", group, "--sale", str(sale.pk), "--sale", str(other.pk))
    assert found.returncode == 1
    assert "not in Redis: it sells nothing until its state is rebuilt" in found.stdout
    assert "in stock 3 + held 0 != total 4" in found.stdout

    repaired = run_manage(
        "reconcile", "--group", group, "--repair", "--sale", str(sale.pk), "--sale", str(other.pk), **SHORT_BOUND
    )
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"repair: rebuilt sale {other.pk} in Redis from 0 row(s) and 0 unread event(s); 4 in stock" in (
        repaired.stdout
    )
