"""Where an order stands, for the buyer who placed it: ``GET /api/orders[/<id>]``.

Each order is ``{"order_id", "sale_id", "status", "amount", "pay_by"}``. A row means the
consumer wrote it (its status: awaiting_payment, paid, expired, cancelled); otherwise
the holder index in Redis (written when the unit was reserved) means "pending", with
no ``pay_by`` yet.
"""

import uuid

from orders.models import Order
from sales import inventory
from sales.models import Sale

PENDING = "pending"
FIELDS = ("order_id", "sale_id", "buyer_id", "status", "price", "pay_by")
# A buyer's order list shows this many, newest first.
LIST_LIMIT = 100


def _public(row: dict) -> dict:
    pay_by = row["pay_by"]
    return {
        "order_id": str(row["order_id"]),
        "sale_id": row["sale_id"],
        "status": row["status"],
        "amount": str(row["price"]),
        "pay_by": pay_by.isoformat() if pay_by else None,
    }


def order_status(order_id: uuid.UUID, buyer_id: int) -> dict | None:
    """The buyer's order, or None when the buyer has no such order."""
    row = Order.objects.filter(order_id=order_id).values(*FIELDS).first()
    if row is not None:
        return _public(row) if row["buyer_id"] == buyer_id else None
    held = inventory.holder_of(str(order_id))
    if held is None:
        return None
    sale_id, owner = held
    if owner != buyer_id:
        return None
    price = Sale.objects.filter(pk=sale_id).values_list("price", flat=True).first()
    return {
        "order_id": str(order_id),
        "sale_id": sale_id,
        "status": PENDING,
        "amount": str(price) if price is not None else None,
        "pay_by": None,
    }


def buyer_orders(buyer_id: int) -> list[dict]:
    """The buyer's written orders, newest first (a pending one shows once written, within moments)."""
    rows = Order.objects.filter(buyer_id=buyer_id).order_by("-created_at", "-pk").values(*FIELDS)[:LIST_LIMIT]
    return [_public(row) for row in rows]
