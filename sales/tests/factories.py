from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from sales.models import Sale
from sales.services import save_sale


class BuyerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"buyer-{n}")
    password = "!unusable"


class SaleFactory(factory.django.DjangoModelFactory):
    """A sale saved through the service, so its stock is loaded into Redis."""

    class Meta:
        model = Sale

    title = factory.Sequence(lambda n: f"Item {n}")
    price = Decimal("19.99")
    total_stock = 10
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    limit_per_buyer = 1

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        sale = model_class(*args, **kwargs)
        save_sale(sale)
        return sale
