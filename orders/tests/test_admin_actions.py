"""Admin's order actions: cancel (the unit goes back) and refund, each after a confirmation page."""

import pytest

from orders.models import Order
from orders.payments.services import pay_order
from orders.tests.factories import written_order
from sales import inventory
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.django_db

URL = "/admin/orders/order/"


def act(admin_client, action, orders, confirmed):
    data = {"action": action, "_selected_action": [o.pk for o in orders]}
    if confirmed:
        data["post"] = "yes"
    return admin_client.post(URL, data, follow=confirmed)


def test_cancel_asks_first_then_returns_the_unit(admin_client):
    sale = SaleFactory(total_stock=3, limit_per_buyer=2)
    buyer = BuyerFactory()
    waiting, paid = written_order(sale, buyer), written_order(sale, buyer)
    pay_order(paid.order_id, buyer.pk)

    page = act(admin_client, "cancel_orders", [waiting, paid], confirmed=False)
    assert page.status_code == 200 and b"Yes, cancel them" in page.content
    assert b"1 selected order(s) are not in a state this applies to" in page.content  # the paid one
    assert Order.objects.get(pk=waiting.pk).status == "awaiting_payment"  # nothing yet

    done = act(admin_client, "cancel_orders", [waiting, paid], confirmed=True)
    assert "Cancelled 1 order(s); 1 unit(s) back on sale." in done.content.decode()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.unit_returned) == ("cancelled", True)
    assert Order.objects.get(pk=paid.pk).status == "paid"
    assert inventory.remaining([sale.pk])[sale.pk] == 2


def test_refund_gives_the_money_and_the_unit_back(admin_client):
    sale, buyer = SaleFactory(total_stock=2), BuyerFactory()
    order = written_order(sale, buyer)
    pay_order(order.order_id, buyer.pk)
    assert b"Yes, refund them" in act(admin_client, "refund_orders", [order], confirmed=False).content
    done = act(admin_client, "refund_orders", [order], confirmed=True)
    assert "Refunded 1 order(s)" in done.content.decode()
    order.refresh_from_db()
    assert (order.status, order.unit_returned) == ("cancelled", True)
    assert list(order.payments.values_list("status", flat=True)) == ["refunded"]
    assert inventory.remaining([sale.pk])[sale.pk] == 2


def test_status_is_read_only_in_the_form(admin_client):
    order = written_order(SaleFactory(), BuyerFactory())
    page = admin_client.get(f"{URL}{order.pk}/change/")
    assert page.status_code == 200
    assert "status" not in page.context["adminform"].form.fields
