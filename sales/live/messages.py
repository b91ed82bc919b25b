"""Live updates: the channel-layer group names and message shapes, defined once.

A sale's viewers are in ``sale.<id>``; every open socket of a signed-in buyer is
also in ``buyer.<id>``. Messages sent to the groups carry ``type`` for
Channels' dispatch (``live.message``) and ``text``, the JSON the browser gets,
encoded once per update rather than once per viewer.
"""

import orjson


def sale_group(sale_id: int) -> str:
    return f"sale.{sale_id}"


def buyer_group(buyer_id: int) -> str:
    return f"buyer.{buyer_id}"


def stock_payload(sale_id: int, remaining: int, state: str) -> dict:
    return {"type": "stock", "sale_id": sale_id, "remaining": remaining, "state": state}


def order_payload(order_id: str, status: str) -> dict:
    return {"type": "order", "order_id": order_id, "status": status}


def group_message(payload: dict) -> dict:
    return {"type": "live.message", "text": orjson.dumps(payload).decode()}
