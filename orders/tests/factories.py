import uuid

import factory
from django.utils import timezone

from orders.models import Order
from sales.tests.factories import BuyerFactory, SaleFactory


class OrderFactory(factory.django.DjangoModelFactory):
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
