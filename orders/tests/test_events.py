"""The order event schema: what ``encode`` writes ``decode`` reads back, and
everything else is refused with a reason (the dead-letter ``reason`` header)."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest

from orders import events

ORDER_ID = "6f1c2a52-5d0e-4c4e-9a53-0f4d1b8f2e11"
RESERVED_AT = datetime(2026, 11, 21, 12, 0, 0, 123456, tzinfo=UTC)
VALID = {
    "v": 1,
    "order_id": ORDER_ID,
    "sale_id": 7,
    "buyer_id": 42,
    "price": "19.99",
    "reserved_at": RESERVED_AT.isoformat(),
}


def raw(**changes) -> bytes:
    """A valid event's bytes with fields replaced; a value of ``...`` removes the field."""
    data = {**VALID, **changes}
    return orjson.dumps({k: v for k, v in data.items() if v is not ...})


def test_encode_decode_round_trip():
    event = events.decode(events.encode(ORDER_ID, 7, 42, "19.99", RESERVED_AT))
    assert event == events.OrderEvent(
        order_id=uuid.UUID(ORDER_ID),
        sale_id=7,
        buyer_id=42,
        price=Decimal("19.99"),
        reserved_at=RESERVED_AT,
    )


def test_encode_writes_the_documented_schema():
    assert orjson.loads(events.encode(ORDER_ID, 7, 42, "19.99", RESERVED_AT)) == VALID


@pytest.mark.parametrize("price", ["0", "0.5", "19.99", "99999999.99", "1E+2", "7.10"])
def test_prices_the_order_row_can_hold(price):
    assert events.decode(raw(price=price)).price == Decimal(price)


def test_round_trip_keeps_the_time_zone_and_a_free_price():
    tokyo = datetime(2026, 11, 21, 21, 0, tzinfo=timezone(timedelta(hours=9)))
    event = events.decode(events.encode(ORDER_ID, 1, 1, "0", tokyo))
    assert event.reserved_at == tokyo
    assert event.reserved_at.utcoffset() == timedelta(hours=9)
    assert event.price == Decimal("0")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        pytest.param(b"", "empty message", id="empty"),
        pytest.param(None, "empty message", id="none"),
        pytest.param(b"\x00\xffgarbage", "not JSON", id="garbage-bytes"),
        pytest.param(b"{not json", "not JSON", id="broken-json"),
        pytest.param(b"[1, 2]", "not a JSON object", id="array"),
        pytest.param(b'"order"', "not a JSON object", id="string"),
        pytest.param(b"null", "not a JSON object", id="null"),
        pytest.param(raw(v=2), "unsupported schema version 2", id="version-2"),
        pytest.param(raw(v=...), "unsupported schema version None", id="version-missing"),
        pytest.param(raw(v="1"), "unsupported schema version '1'", id="version-str"),
        pytest.param(raw(v=True), "unsupported schema version True", id="version-bool"),
        pytest.param(raw(v=1.0), "unsupported schema version 1.0", id="version-float"),
        pytest.param(raw(order_id="not-a-uuid"), "order_id is not a UUID", id="uuid-bad"),
        pytest.param(raw(order_id=...), "order_id is not a UUID", id="uuid-missing"),
        pytest.param(raw(order_id=""), "order_id is not a UUID", id="uuid-empty"),
        pytest.param(raw(order_id=12345), "order_id is not a UUID", id="uuid-number"),
        pytest.param(raw(sale_id=0), "sale_id must be a positive integer, got 0", id="sale-zero"),
        pytest.param(raw(sale_id=-3), "sale_id must be a positive integer, got -3", id="sale-negative"),
        pytest.param(raw(sale_id=True), "sale_id must be a positive integer, got True", id="sale-bool"),
        pytest.param(raw(sale_id="7"), "sale_id must be a positive integer, got '7'", id="sale-str"),
        pytest.param(raw(sale_id=7.0), "sale_id must be a positive integer, got 7.0", id="sale-float"),
        pytest.param(raw(sale_id=...), "sale_id must be a positive integer, got None", id="sale-missing"),
        pytest.param(raw(buyer_id=0), "buyer_id must be a positive integer, got 0", id="buyer-zero"),
        pytest.param(raw(buyer_id=False), "buyer_id must be a positive integer, got False", id="buyer-bool"),
        pytest.param(raw(buyer_id="42"), "buyer_id must be a positive integer, got '42'", id="buyer-str"),
        pytest.param(raw(price="cheap"), "price is not a decimal: 'cheap'", id="price-word"),
        pytest.param(raw(price=...), "price is not a decimal: None", id="price-missing"),
        pytest.param(raw(price=True), "price is not a decimal: True", id="price-bool"),
        pytest.param(raw(price="-0.01"), "price must be a finite, non-negative decimal", id="price-negative"),
        pytest.param(raw(price="NaN"), "price must be a finite, non-negative decimal", id="price-nan"),
        pytest.param(raw(price="Infinity"), "price must be a finite, non-negative decimal", id="price-infinite"),
        pytest.param(raw(price="0.001"), "price does not fit the order's price column", id="price-too-precise"),
        pytest.param(raw(price="100000000.00"), "price does not fit the order's price column", id="price-too-big"),
        pytest.param(raw(reserved_at="yesterday"), "reserved_at is not an ISO 8601 time", id="time-word"),
        pytest.param(raw(reserved_at=...), "reserved_at is not an ISO 8601 time", id="time-missing"),
        pytest.param(raw(reserved_at=1763726400), "reserved_at is not an ISO 8601 time", id="time-number"),
        pytest.param(raw(reserved_at="2026-11-21T12:00:00"), "reserved_at has no time zone", id="time-naive"),
        pytest.param(raw(reserved_at="2026-11-21"), "reserved_at has no time zone", id="time-date-only"),
        pytest.param(
            raw(reserved_at="9999-12-31T23:00:00-05:00"), "reserved_at is out of range in UTC", id="time-overflow"
        ),
        pytest.param(
            raw(reserved_at="0001-01-01T00:00:00+01:00"), "reserved_at is out of range in UTC", id="time-underflow"
        ),
    ],
)
def test_invalid_events_are_refused_with_a_reason(message, reason):
    with pytest.raises(events.InvalidEvent) as excinfo:
        events.decode(message)
    assert reason in str(excinfo.value)


def test_invalid_event_is_a_value_error():
    assert issubclass(events.InvalidEvent, ValueError)
