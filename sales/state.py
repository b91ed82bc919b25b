"""What state a sale is in, from its window and its remaining stock (pure logic)."""

from datetime import UTC, datetime

UPCOMING = "upcoming"
OPEN = "open"
SOLD_OUT = "sold_out"
ENDED = "ended"


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def sale_state(now_ms: int, starts_ms: int, ends_ms: int, remaining: int) -> str:
    if now_ms >= ends_ms:
        return ENDED
    if remaining <= 0:
        return SOLD_OUT
    if now_ms < starts_ms:
        return UPCOMING
    return OPEN
