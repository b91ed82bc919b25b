"""The per-process sold-out flag of ``sales.inventory.reserve``, on the real Redis.

Once Redis said a sale is sold out, the process answers sold out without a round
trip; it asks Redis again at most ``SOLD_OUT_RECHECK_MS`` later, so a unit that comes
back (a give-back elsewhere, more stock in admin) can be won within that bound.
The clock is the module's, moved by hand: the bound is checked exactly, not timed.
"""

import asyncio
import uuid

import pytest

from sales import inventory
from sales.inventory import reservations
from sales.tests.factories import SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(reservations, "_monotonic", clock)
    reservations._sold_out_until.clear()
    yield clock
    reservations._sold_out_until.clear()


async def attempt(sale_id: int, buyer_id: int):
    """A Hold, or the Refusal."""
    try:
        return await inventory.reserve(sale_id, buyer_id, str(uuid.uuid4()), rate_limit=0)
    except inventory.Refused as refused:
        return refused.reason


def no_redis(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("reserve went to Redis while the sale is flagged sold out")

    monkeypatch.setattr(reservations, "hot_scripts", refuse)


def test_sold_out_is_answered_without_redis_until_the_recheck(clock, monkeypatch, settings):
    settings.SOLD_OUT_RECHECK_MS = 100
    sale = SaleFactory(total_stock=1, limit_per_buyer=1)
    scripts = reservations.hot_scripts

    async def scenario():
        assert isinstance(await attempt(sale.pk, 1), inventory.Hold)
        flagged_at = clock.now
        assert await attempt(sale.pk, 2) is inventory.Refusal.SOLD_OUT  # Redis says so, the flag is set
        with monkeypatch.context() as patch:
            no_redis(patch)
            clock.now = flagged_at + 0.099
            assert await attempt(sale.pk, 3) is inventory.Refusal.SOLD_OUT
        assert reservations.hot_scripts is scripts
        clock.now = flagged_at + 0.1  # the bound: Redis is asked again (and still says sold out)
        assert await attempt(sale.pk, 4) is inventory.Refusal.SOLD_OUT

    asyncio.run(scenario())


def test_a_unit_given_back_elsewhere_can_be_won_once_the_bound_has_passed(clock, settings):
    settings.SOLD_OUT_RECHECK_MS = 100
    sale = SaleFactory(total_stock=1, limit_per_buyer=1)

    async def scenario():
        hold = await attempt(sale.pk, 1)
        flagged_at = clock.now
        assert await attempt(sale.pk, 2) is inventory.Refusal.SOLD_OUT
        # Another process gives the unit back: this one's flag still stands, for the bound at most.
        flags = dict(reservations._sold_out_until)
        assert await inventory.release(sale.pk, 1, hold.order_id) is inventory.Released.GIVEN_BACK
        reservations._sold_out_until.update(flags)  # as if released by another process
        clock.now = flagged_at + 0.05
        assert await attempt(sale.pk, 3) is inventory.Refusal.SOLD_OUT
        clock.now = flagged_at + 0.1
        assert isinstance(await attempt(sale.pk, 3), inventory.Hold)

    asyncio.run(scenario())


def test_a_give_back_in_this_process_clears_the_flag_at_once(clock, settings):
    settings.SOLD_OUT_RECHECK_MS = 100
    sale = SaleFactory(total_stock=1, limit_per_buyer=1)

    async def scenario():
        hold = await attempt(sale.pk, 1)
        assert await attempt(sale.pk, 2) is inventory.Refusal.SOLD_OUT
        await inventory.release(sale.pk, 1, hold.order_id)
        assert isinstance(await attempt(sale.pk, 2), inventory.Hold)  # no wait at all

    asyncio.run(scenario())


def test_more_stock_in_admin_can_be_won_within_the_bound(clock, settings):
    settings.SOLD_OUT_RECHECK_MS = 100
    sale = SaleFactory(total_stock=1, limit_per_buyer=1)

    async def scenario():
        await attempt(sale.pk, 1)
        flagged_at = clock.now
        assert await attempt(sale.pk, 2) is inventory.Refusal.SOLD_OUT
        sale.total_stock = 2
        await asyncio.to_thread(_save, sale)
        clock.now = flagged_at + 0.1
        assert isinstance(await attempt(sale.pk, 2), inventory.Hold)

    asyncio.run(scenario())


def test_a_buyer_who_holds_a_unit_is_not_told_sold_out_by_the_flag(clock, settings):
    settings.SOLD_OUT_RECHECK_MS = 100
    sale = SaleFactory(total_stock=1, limit_per_buyer=1)

    async def scenario():
        hold = await attempt(sale.pk, 1)
        assert await attempt(sale.pk, 2) is inventory.Refusal.SOLD_OUT  # the flag is set
        try:
            await inventory.reserve(sale.pk, 1, str(uuid.uuid4()), rate_limit=0)  # the winner retries
        except inventory.Refused as refused:
            assert (refused.reason, refused.order_ids) == (inventory.Refusal.LIMIT_REACHED, (hold.order_id,))
        else:
            raise AssertionError("a second unit for the winner")

    asyncio.run(scenario())


def test_the_flag_is_per_sale(clock, settings):
    settings.SOLD_OUT_RECHECK_MS = 100
    empty, full = SaleFactory(total_stock=0), SaleFactory(total_stock=1)

    async def scenario():
        assert await attempt(empty.pk, 1) is inventory.Refusal.SOLD_OUT
        assert isinstance(await attempt(full.pk, 1), inventory.Hold)

    asyncio.run(scenario())


def _save(sale):
    from sales.services import save_sale

    save_sale(sale)
