import uuid

import factory
from django.utils import timezone

from orders.models import Order
from sales.tests.factories import BuyerFactory, SaleFactory


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    """An order row as the consumer writes it (the Redis side is the test's business)."""

    class Meta:
        model = Order

    order_id = factory.LazyFunction(uuid.uuid4)
    sale = factory.SubFactory(SaleFactory)
    buyer = factory.SubFactory(BuyerFactory)
    price = factory.SelfAttribute("sale.price")
    reserved_at = factory.LazyFunction(timezone.now)
    kafka_partition = 0
    kafka_offset = factory.Sequence(lambda n: n)


def written_order(sale, buyer, *, pay_in: float = 900.0) -> Order:
    """An order as the consumer leaves it: its unit reserved and confirmed in Redis, its row
    awaiting payment, ``pay_by`` ``pay_in`` seconds from now."""
    from datetime import timedelta

    from sales import inventory

    order_id = str(uuid.uuid4())
    [hold] = inventory.reserve_many(sale.pk, [(buyer.pk, order_id)])
    assert not isinstance(hold, inventory.Refusal), hold
    inventory.confirm([(sale.pk, order_id)])
    return OrderFactory.create(
        order_id=order_id, sale=sale, buyer=buyer, pay_by=timezone.now() + timedelta(seconds=pay_in)
    )
