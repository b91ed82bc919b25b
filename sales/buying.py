"""Deciding a buy click: Redis takes the unit, Kafka must have the order event.

``buy`` is the one purchase service, called by the lean ASGI hot path (token
buyers) and by the Django view (session buyers). It is asynchronous and does
no database work: one Lua script call decides the click, one Kafka produce
carries the win, and the buyer hears "reserved" only after the broker
acknowledged it. If the broker does not, the unit goes back to the stock.
"""

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from django.conf import settings
from redis.exceptions import RedisError

from orders import events
from orders.producer import DeliveryFailed, get_producer
from sales import keys
from sales.redis_clients import hot_redis
from sales.state import from_ms, sale_state

log = logging.getLogger(__name__)

RESERVED = "reserved"
REJECTIONS = {
    -1: (409, "sold_out"),
    -2: (409, "limit_reached"),
    -3: (409, "not_started"),
    -4: (409, "ended"),
    -5: (404, "not_found"),
    -6: (429, "rate_limited"),
}
# Seconds past the librdkafka message timeout that we still wait for its report.
_ACK_GRACE = 1.0
ORDER_INDEX_TTL = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class BuyOutcome:
    http_status: int
    status: str
    order_id: str | None = None
    remaining: int | None = None

    def body(self) -> dict:
        if self.order_id is None:
            return {"status": self.status}
        return {"status": self.status, "order_id": self.order_id, "remaining": self.remaining}


RETRY = BuyOutcome(503, "retry")


def parse_buy_body(body: bytes) -> str | None:
    """The buy request takes no parameters: an empty body or a JSON object.

    Returns what is wrong with the body, or None.
    """
    if not body.strip():
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "body is not valid JSON"
    if not isinstance(data, dict):
        return "body must be a JSON object"
    if data.get("quantity", 1) != 1:
        return "one unit per request: quantity must be 1"
    return None


async def buy(sale_id: int, buyer_id: int) -> BuyOutcome:
    client, scripts = hot_redis()
    order_id = str(uuid.uuid4())
    code, remaining, *price = await scripts.purchase(
        sale_id, buyer_id, order_id, settings.BUY_RATE_LIMIT, int(time.time())
    )
    if code != 1:
        http_status, status = REJECTIONS[code]
        return BuyOutcome(http_status, status)

    event = events.encode(order_id, sale_id, buyer_id, price[0].decode(), datetime.now(UTC))
    index = asyncio.ensure_future(client.set(keys.order_index(order_id), f"{sale_id}:{buyer_id}", ex=ORDER_INDEX_TTL))
    try:
        ack = get_producer().send(settings.ORDERS_TOPIC, order_id.encode(), event)
        await asyncio.wait_for(ack, settings.BUY_ACK_TIMEOUT + _ACK_GRACE)
    except (DeliveryFailed, TimeoutError):
        await _indexed(index, order_id)
        # Sent again if the connection drops: a unit neither given back nor ordered would be lost.
        released = await scripts.release(sale_id, buyer_id, order_id, retry=True)
        if released == 0:
            # The consumer already accepted the event: the order stands.
            return BuyOutcome(201, RESERVED, order_id, int(remaining))
        await client.delete(keys.order_index(order_id))
        return RETRY
    await _indexed(index, order_id)
    return BuyOutcome(201, RESERVED, order_id, int(remaining))


async def _indexed(index: asyncio.Future, order_id: str) -> None:
    """Wait for the order-index write. The index only lets ``GET /api/orders/<id>``
    say "pending" before the row exists, so a failed write is logged and the buy
    goes on: the broker has the order (or the unit must still be given back)."""
    try:
        await index
    except RedisError:
        log.warning("order %s: the order index was not written", order_id, exc_info=True)


async def sale_public(sale_id: int) -> dict | None:
    """``GET /api/sales/<id>`` from Redis alone; None when the sale is unknown."""
    client, _ = hot_redis()
    fields, left = await client.execute_many(("HGETALL", keys.meta(sale_id)), ("GET", keys.stock(sale_id)), retry=True)
    if not fields:
        return None
    meta = dict(zip(fields[::2], fields[1::2], strict=True))
    remaining = int(left or 0)
    starts_ms, ends_ms = int(meta[b"starts_at"]), int(meta[b"ends_at"])
    return {
        "id": sale_id,
        "title": meta[b"title"].decode(),
        "price": meta[b"price"].decode(),
        "total_stock": int(meta[b"total"]),
        "remaining": remaining,
        "starts_at": from_ms(starts_ms).isoformat(),
        "ends_at": from_ms(ends_ms).isoformat(),
        "state": sale_state(int(time.time() * 1000), starts_ms, ends_ms, remaining),
    }
