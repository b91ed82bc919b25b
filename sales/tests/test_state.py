import pytest

from sales.state import ENDED, OPEN, SOLD_OUT, UPCOMING, sale_state


@pytest.mark.parametrize(
    ("now", "remaining", "expected"),
    [
        (50, 5, UPCOMING),
        (100, 5, OPEN),
        (150, 0, SOLD_OUT),
        (50, 0, SOLD_OUT),
        (200, 5, ENDED),
        (250, 0, ENDED),
    ],
)
def test_sale_state(now, remaining, expected):
    assert sale_state(now, starts_ms=100, ends_ms=200, remaining=remaining) == expected
