"""Where an order stands, for the buyer who placed it."""

import uuid

from orders.models import Order
from sales import inventory

PENDING = "pending"
CONFIRMED = "confirmed"


def order_status(order_id: uuid.UUID, buyer_id: int) -> dict | None:
    """``{"order_id", "sale_id", "status"}`` or None when the buyer has no such order.

    A row means the consumer wrote it (its status); otherwise the order index in
    Redis (the inventory's holder index, written when the unit was reserved) means "pending".
    """
    row = Order.objects.filter(order_id=order_id).values("sale_id", "buyer_id", "status").first()
    if row is not None:
        if row["buyer_id"] != buyer_id:
            return None
        return {"order_id": str(order_id), "sale_id": row["sale_id"], "status": row["status"]}
    held = inventory.holder_of(str(order_id))
    if held is None:
        return None
    sale_id, owner = held
    if owner != buyer_id:
        return None
    return {"order_id": str(order_id), "sale_id": sale_id, "status": PENDING}
