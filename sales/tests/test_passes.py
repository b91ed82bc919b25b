"""Purchase passes on the real Redis (and the Redis Cluster in the cluster run)."""

import asyncio
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from plumbing.redis_clients import sync_redis
from sales import challenge, inventory
from sales.inventory import Pass, PassRefusal, keys
from sales.services import offer_of, save_sale
from sales.tests.factories import SaleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.cluster]


def test_a_solved_challenge_earns_one_pass_bound_to_its_buyer():
    sale = SaleFactory(total_stock=3, requires_pass=True)
    issued = asyncio.run(inventory.issue_pass(sale.pk, 42, "nonce-1", ttl_ms=60_000))
    assert isinstance(issued, Pass)
    assert issued.expires_ms > inventory.redis_time_ms()
    stored = sync_redis().hget(keys.passes(sale.pk), issued.pass_id).decode()
    assert stored == f"42:{issued.expires_ms}"
    assert asyncio.run(inventory.issue_pass(sale.pk, 42, "nonce-1", ttl_ms=60_000)) == PassRefusal.CHALLENGE_USED
    assert sync_redis().hlen(keys.passes(sale.pk)) == 1


def test_no_pass_beyond_the_gate():
    sale = SaleFactory(total_stock=2, requires_pass=True, pass_multiple=2)
    passes = [asyncio.run(inventory.issue_pass(sale.pk, buyer, f"n{buyer}", ttl_ms=60_000)) for buyer in range(6)]
    assert [isinstance(p, Pass) for p in passes] == [True] * 4 + [False] * 2
    assert passes[4:] == [PassRefusal.SOLD_OUT] * 2
    assert sync_redis().scard(keys.seeds(sale.pk)) == 4  # the refused ones used up nothing


def test_no_pass_for_a_sold_out_ended_or_unknown_sale():
    sold_out = SaleFactory(total_stock=1)
    inventory.reserve_many(sold_out.pk, [(1, "order-1")])
    sold_out.requires_pass = True
    save_sale(sold_out)  # gated after its last unit went
    assert asyncio.run(inventory.issue_pass(sold_out.pk, 2, "n", ttl_ms=60_000)) == PassRefusal.SOLD_OUT
    starts = timezone.now() - timedelta(hours=2)
    ended = SaleFactory(total_stock=3, requires_pass=True, starts_at=starts, ends_at=starts + timedelta(hours=1))
    assert asyncio.run(inventory.issue_pass(ended.pk, 2, "n", ttl_ms=60_000)) == PassRefusal.ENDED
    assert asyncio.run(inventory.issue_pass(999_999, 2, "n", ttl_ms=60_000)) == PassRefusal.UNKNOWN_SALE


def test_forgetting_a_sale_removes_its_passes():
    sale = SaleFactory(total_stock=3, requires_pass=True)
    asyncio.run(inventory.issue_pass(sale.pk, 1, "n", ttl_ms=60_000))
    inventory.forget(sale.pk)
    assert not sync_redis().exists(keys.passes(sale.pk), keys.seeds(sale.pk))


def test_a_gated_sale_says_so_in_redis_and_a_rebuild_keeps_it():
    gated = SaleFactory(total_stock=3, requires_pass=True, challenge_difficulty=12, pass_multiple=2)
    open_sale = SaleFactory(total_stock=3)
    r = sync_redis()
    assert (r.hget(keys.meta(gated.pk), "gated"), r.hget(keys.meta(open_sale.pk), "gated")) == (b"12:6", b"0")
    assert asyncio.run(inventory.issue_pass(open_sale.pk, 1, "n", ttl_ms=60_000)) == PassRefusal.NOT_REQUIRED
    r.delete(keys.meta(gated.pk))  # Redis lost the sale
    inventory.rebuild(gated.pk, **offer_of(gated), confirmed=[], held=[])
    assert r.hget(keys.meta(gated.pk), "gated") == b"12:6"
    gated.requires_pass = False
    save_sale(gated)  # turned off in admin
    assert r.hget(keys.meta(gated.pk), "gated") == b"0"


@pytest.mark.parametrize(
    ("field", "value"), [("challenge_difficulty", challenge.MAX_DIFFICULTY + 1), ("pass_multiple", 0)]
)
def test_gate_settings_are_validated(field, value):
    sale = SaleFactory.build(**{field: value})
    with pytest.raises(ValidationError) as raised:
        sale.full_clean()
    assert field in raised.value.message_dict
