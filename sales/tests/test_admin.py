"""Admin: sales with their live stock, orders searchable and read-only."""

import time
import uuid

import pytest

from orders.tests.factories import OrderFactory
from sales.inventory.scripts import sync_scripts
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale_with_orders():
    sale = SaleFactory(total_stock=10, title="Admin sneakers")
    buyers = [BuyerFactory() for _ in range(3)]
    order_ids = []
    for buyer in buyers:
        order_id = str(uuid.uuid4())
        assert sync_scripts().purchase(sale.pk, buyer.pk, order_id, 0, int(time.time()))[0] == 1
        order_ids.append(order_id)
    # two of the three written by the consumer, one still in flight
    for buyer, order_id in list(zip(buyers, order_ids, strict=True))[:2]:
        OrderFactory(order_id=order_id, sale=sale, buyer=buyer)
    return sale, buyers, order_ids


def test_sale_changelist_shows_in_stock_held_awaiting_paid_returned(admin_client, sale_with_orders):
    response = admin_client.get("/admin/sales/sale/")
    assert response.status_code == 200
    row = next(r for r in response.context["cl"].result_list)
    admin = response.context["cl"].model_admin
    shown = (admin.in_stock(row), admin.sold(row), admin.held(row), admin.awaiting(row), admin.paid(row))
    assert (*shown, admin.returned(row)) == (7, 3, 1, 2, 0, 0)


def test_stock_below_sold_is_refused_in_the_form(admin_client, sale_with_orders):
    sale, _, _ = sale_with_orders
    data = {
        "title": sale.title,
        "description": "",
        "price": "19.99",
        "total_stock": "2",
        "starts_at_0": sale.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": sale.starts_at.strftime("%H:%M:%S"),
        "ends_at_0": sale.ends_at.strftime("%Y-%m-%d"),
        "ends_at_1": sale.ends_at.strftime("%H:%M:%S"),
        "limit_per_buyer": "1",
        "challenge_difficulty": "16",  # the gate's fields as the form shows them (requires_pass unticked)
        "pass_multiple": "3",
    }
    response = admin_client.post(f"/admin/sales/sale/{sale.pk}/change/", data)
    assert response.status_code == 200
    assert "3 units are already sold" in response.content.decode()
    data["total_stock"] = "20"
    assert admin_client.post(f"/admin/sales/sale/{sale.pk}/change/", data).status_code == 302
    sale.refresh_from_db()
    assert sale.total_stock == 20


def test_order_search_by_id_and_buyer(admin_client, sale_with_orders):
    _, buyers, order_ids = sale_with_orders
    by_id = admin_client.get("/admin/orders/order/", {"q": order_ids[0]})
    assert [str(o.order_id) for o in by_id.context["cl"].result_list] == [order_ids[0]]
    by_buyer = admin_client.get("/admin/orders/order/", {"q": buyers[1].username})
    assert [str(o.order_id) for o in by_buyer.context["cl"].result_list] == [order_ids[1]]
    assert admin_client.get("/admin/orders/order/add/").status_code == 403
