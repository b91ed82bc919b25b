"""The order worker's handler called directly, on the real MariaDB and Redis, without Kafka.

``orders.worker.handle`` is what ``BatchWorker`` calls with each decoded batch;
the real-broker tests of the same behaviour are in ``test_consumer.py``.
"""

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from orders import services, worker
from orders.events import OrderEvent
from orders.models import Order
from orders.services import Placed
from sales import inventory
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)
_offsets = iter(range(10**9))


def reserved(sale, buyers, count: int) -> list[Placed]:
    """``count`` units reserved in Redis, round-robin over ``buyers``, as delivered events."""
    holds = [(buyers[i % len(buyers)].pk, str(uuid.uuid4())) for i in range(count)]
    taken = inventory.reserve_many(sale.pk, holds)
    assert all(isinstance(t, inventory.Hold) for t in taken), taken
    return [delivered(uuid.UUID(order_id), sale.pk, buyer_id) for buyer_id, order_id in holds]


def delivered(order_id: uuid.UUID, sale_id: int, buyer_id: int, price: str = "19.99") -> Placed:
    event = OrderEvent(order_id, sale_id, buyer_id, Decimal(price), datetime.now(UTC))
    return Placed(event, "orders", 0, next(_offsets))


def rows(sale) -> dict[str, tuple[int, str]]:
    return {str(o): (b, s) for o, b, s in Order.objects.filter(sale=sale).values_list("order_id", "buyer_id", "status")}


@pytest.fixture
def sale_and_buyers():
    sale = SaleFactory(total_stock=10, limit_per_buyer=10)
    return sale, BuyerFactory.create_batch(3)


def test_each_reserved_event_becomes_one_confirmed_row_with_where_it_came_from(sale_and_buyers):
    sale, buyers = sale_and_buyers
    batch = reserved(sale, buyers, 4)
    result = worker.handle(batch)
    assert (len(result.written), result.released, result.rejected) == (4, [], [])
    assert rows(sale) == {str(d.value.order_id): (d.value.buyer_id, "awaiting_payment") for d in batch}
    first = Order.objects.get(order_id=batch[0].value.order_id)
    assert (first.kafka_partition, first.kafka_offset, first.price) == (0, batch[0].offset, Decimal("19.99"))


def test_a_redelivered_batch_changes_nothing(sale_and_buyers):
    sale, buyers = sale_and_buyers
    batch = reserved(sale, buyers, 3)
    worker.handle(batch)
    before = rows(sale)
    again = worker.handle(batch + batch[:1])  # redelivered, and one of them twice in the batch
    assert len(again.written) == 4 and rows(sale) == before
    assert Order.objects.filter(sale=sale).count() == 3


def test_a_reservation_given_back_first_gets_no_row(sale_and_buyers):
    sale, buyers = sale_and_buyers
    kept, given_back = reserved(sale, buyers, 2)
    ghost = delivered(uuid.uuid4(), sale.pk, buyers[0].pk)  # never reserved at all
    released = asyncio.run(inventory.release(sale.pk, given_back.value.buyer_id, str(given_back.value.order_id)))
    assert released is inventory.Released.GIVEN_BACK
    result = worker.handle([kept, given_back, ghost])
    assert result.written == [kept] and result.released == [given_back, ghost] and result.rejected == []
    assert list(rows(sale)) == [str(kept.value.order_id)]


def test_unknown_sale_or_buyer_is_rejected_with_a_reason_and_the_rest_is_written(sale_and_buyers):
    sale, buyers = sale_and_buyers
    [good] = reserved(sale, buyers, 1)
    no_sale = delivered(uuid.uuid4(), 999_999_999, buyers[0].pk)
    no_buyer = delivered(uuid.uuid4(), sale.pk, 999_999_999)
    result = worker.handle([no_sale, good, no_buyer])
    assert result.written == [good]
    assert result.rejected == [(no_sale, "unknown sale 999999999"), (no_buyer, "unknown buyer 999999999")]
    assert list(rows(sale)) == [str(good.value.order_id)]


def test_a_database_error_writes_nothing_and_drops_the_connection(sale_and_buyers, monkeypatch):
    sale, buyers = sale_and_buyers
    batch = reserved(sale, buyers, 2)

    def down(rows):
        raise OperationalError(2006, "MySQL server has gone away")

    monkeypatch.setattr(services, "insert_orders", down)
    connection.ensure_connection()
    with pytest.raises(OperationalError):
        worker.handle(batch)
    assert connection.connection is None  # the retry opens a new one
    monkeypatch.undo()
    assert len(worker.handle(batch).written) == 2  # the same batch, once the database is back
    assert len(rows(sale)) == 2


def test_an_empty_batch_is_nothing_to_do():
    result = worker.handle([])
    assert (result.written, result.released, result.rejected) == ([], [], [])
