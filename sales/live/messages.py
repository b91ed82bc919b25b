"""Live updates: the channel names and message shapes, defined once.

A sale's stock goes out on the Redis channel ``live:stock:<id>``, which each web
process receives once for all its viewers (``sales.live.audience``). Every open
socket of a signed-in buyer is in the channel-layer group ``buyer.<id>``; messages
sent to it carry ``type`` for Channels' dispatch (``live.message``) and ``text``,
the JSON the browser gets, encoded once rather than once per socket.
"""

import orjson

STOCK_CHANNELS = "live:stock:*"


def stock_channel(sale_id: int) -> str:
    return f"live:stock:{sale_id}"


def sale_of_stock_channel(channel: bytes) -> int:
    return int(channel.rsplit(b":", 1)[1])


def buyer_group(buyer_id: int) -> str:
    return f"buyer.{buyer_id}"


def stock_payload(sale_id: int, remaining: int, state: str) -> dict:
    return {"type": "stock", "sale_id": sale_id, "remaining": remaining, "state": state}


def order_payload(order_id: str, status: str) -> dict:
    return {"type": "order", "order_id": order_id, "status": status}


def text(payload: dict) -> str:
    return orjson.dumps(payload).decode()


def group_message(payload: dict) -> dict:
    return {"type": "live.message", "text": text(payload)}
