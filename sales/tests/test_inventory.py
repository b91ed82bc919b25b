"""The Lua scripts against the real Redis."""

import time
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from plumbing.redis_clients import sync_redis
from sales import inventory
from sales.inventory import keys
from sales.inventory.scripts import sync_scripts
from sales.services import save_sale, units_sold
from sales.state import to_ms
from sales.tests.factories import SaleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.cluster]


def purchase(sale, buyer_id, rate_limit=0):
    order_id = str(uuid.uuid4())
    code, remaining, *_ = sync_scripts().purchase(sale.pk, buyer_id, order_id, rate_limit, int(time.time()))
    return code, remaining, order_id


def test_purchase_takes_one_unit_and_records_buyer_and_order():
    sale = SaleFactory(total_stock=3)
    code, remaining, order_id = purchase(sale, 7)
    r = sync_redis()
    assert (code, remaining) == (1, 2)
    assert int(r.get(keys.stock(sale.pk))) == 2
    assert r.hget(keys.buyers(sale.pk), "7") == order_id.encode()  # the buyer's holds
    assert r.hget(keys.orders(sale.pk), order_id) == b"7"


def test_never_more_than_stock_nor_limit():
    sale = SaleFactory(total_stock=2, limit_per_buyer=2)
    assert purchase(sale, 1)[0] == 1
    assert purchase(sale, 1)[0] == 1
    assert purchase(sale, 2)[0] == -1  # sold out
    sale2 = SaleFactory(total_stock=5, limit_per_buyer=1)
    assert purchase(sale2, 1)[0] == 1
    assert purchase(sale2, 1)[0] == -2  # limit reached
    assert int(sync_redis().get(keys.stock(sale2.pk))) == 4


def test_a_buyer_at_the_limit_hears_limit_reached_with_the_orders_even_when_sold_out():
    """A retried buy whose first request won: the buyer holds the unit, the sale is sold out."""
    sale = SaleFactory(total_stock=2, limit_per_buyer=2)
    _, _, first = purchase(sale, 1)
    _, _, second = purchase(sale, 1)
    code, remaining, held, unconfirmed, price = sync_scripts().purchase(
        sale.pk, 1, str(uuid.uuid4()), 0, int(time.time())
    )
    assert (code, remaining, held.decode().split()) == (-2, 0, [first, second])
    assert (unconfirmed.decode().split(), price) == ([first, second], b"19.99")  # to be produced again
    assert purchase(sale, 2)[:2] == (-1, 0)  # sold out for anyone holding nothing
    assert sync_scripts().release(sale.pk, 1, first) == 1
    assert sync_redis().hget(keys.buyers(sale.pk), "1") == second.encode()
    assert sync_scripts().release(sale.pk, 1, second) == 1
    assert sync_redis().hget(keys.buyers(sale.pk), "1") is None


@pytest.mark.parametrize(
    ("starts_in", "code"),
    [(timedelta(minutes=5), -3), (-timedelta(hours=2), -4)],
)
def test_window_is_enforced_without_touching_stock(starts_in, code):
    starts = timezone.now() + starts_in
    sale = SaleFactory(total_stock=3, starts_at=starts, ends_at=starts + timedelta(hours=1))
    assert purchase(sale, 1)[0] == code
    assert int(sync_redis().get(keys.stock(sale.pk))) == 3
    assert sync_redis().hlen(keys.buyers(sale.pk)) == 0


def test_unknown_sale():
    code, *_ = sync_scripts().purchase(999999, 1, str(uuid.uuid4()), 0, int(time.time()))
    assert code == -5


def test_rate_limit_counts_requests_per_second_without_touching_stock():
    sale = SaleFactory(total_stock=10, limit_per_buyer=10)
    second = int(time.time())
    codes = [sync_scripts().purchase(sale.pk, 1, str(uuid.uuid4()), 3, second)[0] for _ in range(5)]
    assert codes == [1, 1, 1, -6, -6]
    assert int(sync_redis().get(keys.stock(sale.pk))) == 7


def test_release_gives_the_unit_back_once():
    sale = SaleFactory(total_stock=1)
    _, _, order_id = purchase(sale, 5)
    scripts = sync_scripts()
    assert scripts.release(sale.pk, 5, order_id) == 1
    assert scripts.release(sale.pk, 5, order_id) == -1
    r = sync_redis()
    assert int(r.get(keys.stock(sale.pk))) == 1
    assert r.hget(keys.buyers(sale.pk), "5") is None
    assert purchase(sale, 5)[0] == 1  # the buyer may try again


def test_confirmed_reservation_cannot_be_released_and_released_cannot_be_confirmed():
    sale = SaleFactory(total_stock=2, limit_per_buyer=2)
    scripts = sync_scripts()
    _, _, kept = purchase(sale, 1)
    assert scripts.confirm(sale.pk, [kept]) == [1]
    assert scripts.release(sale.pk, 1, kept) == 0
    _, _, dropped = purchase(sale, 1)
    assert scripts.release(sale.pk, 1, dropped) == 1
    assert scripts.confirm(sale.pk, [dropped]) == [0]
    assert int(sync_redis().get(keys.stock(sale.pk))) == 1


def test_confirm_answers_each_order_of_a_batch():
    sale = SaleFactory(total_stock=3, limit_per_buyer=3)
    scripts = sync_scripts()
    _, _, first = purchase(sale, 1)
    _, _, released = purchase(sale, 1)
    _, _, last = purchase(sale, 1)
    scripts.release(sale.pk, 1, released)
    assert scripts.confirm(sale.pk, [first]) == [1]
    assert scripts.confirm(sale.pk, [first, released, last, str(uuid.uuid4())]) == [1, 0, 1, 0]
    assert scripts.release(sale.pk, 1, last) == 0


def test_stock_change_of_running_sale_keeps_what_was_sold():
    sale = SaleFactory(total_stock=10, limit_per_buyer=1)
    for buyer in range(1, 5):
        assert purchase(sale, buyer)[0] == 1
    sale.total_stock = 20
    assert save_sale(sale) == 16
    sale.total_stock = 4
    assert save_sale(sale) == 0
    assert units_sold(sale) == 4


def test_stock_cannot_go_below_units_sold():
    sale = SaleFactory(total_stock=5)
    for buyer in range(1, 4):
        purchase(sale, buyer)
    sale.total_stock = 2
    with pytest.raises(ValidationError):
        save_sale(sale)
    sale.refresh_from_db()
    assert sale.total_stock == 5
    assert int(sync_redis().get(keys.stock(sale.pk))) == 2


def test_a_sale_reloaded_after_redis_lost_it_counts_its_orders_and_sells_nothing_until_rebuilt():
    """Saving a sale Redis lost subtracts the orders already written, but holds whose events are still
    on their way may be missing: the sale is unchecked until ``rebuild`` (orders.recovery)."""
    from orders.tests.factories import OrderFactory

    sale = SaleFactory(total_stock=5)
    assert inventory.unchecked([sale.pk]) == []  # a new sale is checked from the start
    OrderFactory(sale=sale)
    sync_redis().delete(*keys.all_of_sale(sale.pk))
    assert inventory.unchecked([sale.pk]) == [sale.pk]
    assert save_sale(sale) == 4
    assert inventory.unchecked([sale.pk]) == [sale.pk]
    assert purchase(sale, 1)[:2] == (-7, 0)


def test_an_unchecked_sale_sells_confirms_and_sweeps_nothing_until_rebuilt():
    sale = SaleFactory(total_stock=5, limit_per_buyer=2)
    [hold] = inventory.reserve_many(sale.pk, [(1, str(uuid.uuid4()))])
    inventory.mark_unchecked(sale.pk)  # as after a restart: the state was checked on another server

    assert purchase(sale, 2)[:2] == (-7, 0)
    with pytest.raises(inventory.Unavailable):
        inventory.confirm([(sale.pk, hold.order_id)])
    later = inventory.redis_time_ms() + 1
    assert inventory.release_stale(sale.pk, inventory.stale_holds(sale.pk, later), later) == []
    assert int(sync_redis().get(keys.stock(sale.pk))) == 4  # nothing moved

    ordered, unread = str(uuid.uuid4()), str(uuid.uuid4())
    rebuilt = inventory.rebuild(
        sale.pk,
        total=5,
        starts_ms=to_ms(sale.starts_at),
        ends_ms=to_ms(sale.ends_at),
        limit=2,
        price=str(sale.price),
        title=sale.title,
        confirmed=[(ordered, 3)],
        held=[(unread, 3)],
    )
    # the hold of buyer 1 had no row and no event: it was abandoned, and its unit is back
    assert (rebuilt.remaining, rebuilt.held) == (3, 2)
    assert inventory.unchecked([sale.pk]) == []
    assert inventory.held_by_buyer(sale.pk) == {3: 2}
    assert inventory.confirm([(sale.pk, ordered), (sale.pk, unread), (sale.pk, hold.order_id)]) == {
        (sale.pk, ordered): True,
        (sale.pk, unread): True,
        (sale.pk, hold.order_id): False,
    }
    assert inventory.holder_of(unread) == (sale.pk, 3)  # its buyer sees it pending
    assert purchase(sale, 3)[0] == -2  # at the limit with the rebuilt orders
    assert purchase(sale, 2)[:2] == (1, 2)


def test_a_purchase_from_the_hot_path_is_told_the_server_it_runs_on():
    """The pipelined client fills in the run_id of the server its connection reached."""
    import asyncio

    from sales.inventory.reservations import reserve

    sale = SaleFactory(total_stock=2)

    async def buy(order_id):
        try:
            return await reserve(sale.pk, 1, order_id, rate_limit=0)
        finally:
            from plumbing.redis_clients import pipelined_redis

            await pipelined_redis().close()

    assert asyncio.run(buy(str(uuid.uuid4()))).remaining == 1
    sync_redis().hset(keys.meta(sale.pk), "server", "0" * 40)  # checked on some other server
    with pytest.raises(inventory.Unavailable):
        asyncio.run(buy(str(uuid.uuid4())))


def test_a_release_for_holds_older_than_a_moment_keeps_a_newer_hold():
    sale = SaleFactory(total_stock=1)
    _, _, order_id = purchase(sale, 1)
    since = int(sync_redis().zscore(keys.since(sale.pk), order_id))
    assert sync_scripts().release(sale.pk, 1, order_id, since) == 2  # not older than `since`: kept
    assert int(sync_redis().get(keys.stock(sale.pk))) == 0
    assert sync_scripts().release(sale.pk, 1, order_id, since + 1) == 1
    assert sync_redis().zscore(keys.since(sale.pk), order_id) is None
    assert int(sync_redis().get(keys.stock(sale.pk))) == 1


def test_an_idempotency_key_repeats_a_held_order_but_not_one_given_back():
    sale = SaleFactory(total_stock=2, limit_per_buyer=1)
    scripts, second = sync_scripts(), int(time.time())
    first = str(uuid.uuid4())
    assert scripts.purchase(sale.pk, 1, first, 0, second, idempotency_key="k")[0] == 1
    code, _, _, earlier, renewed = scripts.purchase(sale.pk, 1, str(uuid.uuid4()), 0, second, idempotency_key="k")
    assert (code, earlier.decode(), renewed) == (2, first, 1)
    assert scripts.release(sale.pk, 1, first) == 1  # its buyer was told "retry"
    again = str(uuid.uuid4())
    assert scripts.purchase(sale.pk, 1, again, 0, second, idempotency_key="k")[:2] == [1, 1]  # a new decision
    assert sync_redis().hget(keys.orders(sale.pk), again) == b"1"
