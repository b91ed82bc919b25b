"""The order event: the one schema shared by the buy path (producer) and
``consume_orders`` (consumer).

Version 1, JSON, one object per Kafka message, keyed by the order id::

    {"v": 1, "order_id": "<uuid>", "sale_id": 7, "buyer_id": 42,
     "price": "19.99", "reserved_at": "2026-11-21T12:00:00.123456+00:00"}
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import orjson

SCHEMA_VERSION = 1
# What the order row's price column holds (DecimalField(max_digits=10,
# decimal_places=2)); a price beyond it is refused here, not by the database.
PRICE_LIMIT = Decimal("100000000")
PRICE_STEP = Decimal("0.01")


class InvalidEvent(ValueError):
    """The message is not a valid order event; the text says why."""


@dataclass(frozen=True, slots=True)
class OrderEvent:
    order_id: uuid.UUID
    sale_id: int
    buyer_id: int
    price: Decimal
    reserved_at: datetime


def encode(order_id: str, sale_id: int, buyer_id: int, price: str, reserved_at: datetime) -> bytes:
    return orjson.dumps(
        {
            "v": SCHEMA_VERSION,
            "order_id": order_id,
            "sale_id": sale_id,
            "buyer_id": buyer_id,
            "price": price,
            "reserved_at": reserved_at.isoformat(),
        }
    )


def _positive_int(data: dict, field: str) -> int:
    value = data.get(field)
    if type(value) is not int or value <= 0:
        raise InvalidEvent(f"{field} must be a positive integer, got {value!r}")
    return value


def decode(raw: bytes | None) -> OrderEvent:
    if not raw:
        raise InvalidEvent("empty message")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("not a JSON object")
    version = data.get("v")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise InvalidEvent(f"unsupported schema version {data.get('v')!r}")
    try:
        order_id = uuid.UUID(str(data.get("order_id")))
    except ValueError:
        raise InvalidEvent(f"order_id is not a UUID: {data.get('order_id')!r}") from None
    try:
        price = Decimal(str(data.get("price")))
    except InvalidOperation:
        raise InvalidEvent(f"price is not a decimal: {data.get('price')!r}") from None
    if not price.is_finite() or price < 0:
        raise InvalidEvent(f"price must be a finite, non-negative decimal: {data.get('price')!r}")
    if price >= PRICE_LIMIT or price != price.quantize(PRICE_STEP):
        raise InvalidEvent(
            f"price does not fit the order's price column (below {PRICE_LIMIT}, cents at most): {data.get('price')!r}"
        )
    try:
        reserved_at = datetime.fromisoformat(str(data.get("reserved_at")))
    except ValueError:
        raise InvalidEvent(f"reserved_at is not an ISO 8601 time: {data.get('reserved_at')!r}") from None
    if reserved_at.tzinfo is None:
        raise InvalidEvent("reserved_at has no time zone")
    try:
        reserved_at.astimezone(UTC)  # what the database stores
    except OverflowError:
        raise InvalidEvent(f"reserved_at is out of range in UTC: {data.get('reserved_at')!r}") from None
    return OrderEvent(
        order_id=order_id,
        sale_id=_positive_int(data, "sale_id"),
        buyer_id=_positive_int(data, "buyer_id"),
        price=price,
        reserved_at=reserved_at,
    )
