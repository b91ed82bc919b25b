"""A sale's offer and stock in Redis: load it, read it, forget it.

The database holds the offer (``sales.models.Sale``); while the sale runs, Redis
holds a copy of it (window, limit, price, title, total) and the units left, which
is what the buy path decides on. ``load`` keeps the two in step and never lets a
change of the total forget what was already sold.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from plumbing.redis_clients import (
    mget_across_slots,
    pipelined_redis,
    run_ids_of,
    sync_mget_across_slots,
    sync_redis,
)
from sales.inventory import keys
from sales.inventory.scripts import sync_scripts


class StockBelowSold(Exception):
    """The new total is below the units already sold; nothing was changed."""

    def __init__(self, sold: int):
        super().__init__(f"{sold} units are already sold")
        self.sold = sold


@dataclass(frozen=True, slots=True)
class Offer:
    """What Redis holds of a sale: enough to answer ``GET /api/sales/<id>`` without the database."""

    title: str
    price: str
    total: int
    remaining: int
    starts_ms: int
    ends_ms: int
    gate: tuple[int, int] | None = None  # (challenge bits, passes at most) of a gated sale


def gate_field(gate: tuple[int, int] | None) -> str:
    """meta's ``gated``: "0", or "<challenge bits>:<passes at most>" (purchase.lua and admit.lua read it)."""
    return "0" if gate is None else f"{gate[0]}:{gate[1]}"


def _gate_of(field: bytes | None) -> tuple[int, int] | None:
    if not field or b":" not in field:
        return None
    bits, passes = field.split(b":")
    return int(bits), int(passes)


def load(
    sale_id: int,
    *,
    total: int,
    starts_ms: int,
    ends_ms: int,
    limit: int,
    price: str,
    sold: int,
    title: str,
    fresh: bool = False,
    gate: tuple[int, int] | None = None,
):
    """Load or update the sale's offer; returns the units left.

    ``sold`` is what the database knows was sold, used only when Redis has no
    stock for the sale (new, or Redis lost its data); otherwise the counter moves
    by the change of ``total``. Raises ``StockBelowSold`` if ``total`` is too small.
    ``gate``: (challenge bits, passes at most) of a sale whose buys need a purchase pass
    (``sales.inventory.passes``); None: they do not.
    ``fresh``: the sale was just created, nobody can hold a unit of it. A sale Redis
    does not have and that is not fresh is loaded unchecked: it sells nothing until
    ``rebuild`` (holds whose events are still on their way may be missing).
    """
    code, value = sync_scripts().load_stock(
        sale_id,
        total=total,
        starts_ms=starts_ms,
        ends_ms=ends_ms,
        limit=limit,
        price=price,
        sold=sold,
        title=title,
        fresh=fresh,
        gated=gate_field(gate),
    )
    if code != 1:
        raise StockBelowSold(int(value))
    return int(value)


def unchecked(sale_ids: list[int]) -> list[int]:
    """The sales, of ``sale_ids``, whose state Redis does not have or has not had checked on this
    server since it started (a restart, perhaps from an older AOF; a failover; keys deleted):
    they sell nothing, and their holds are neither confirmed nor swept, until ``rebuild``."""
    if not sale_ids:
        return []
    # the run_id of the server each sale's keys are on: a new one at every start of a server, and
    # a promoted replica has its own
    run_ids = run_ids_of([keys.meta(sale_id) for sale_id in sale_ids])
    pipe = sync_redis().pipeline(transaction=False)
    for sale_id in sale_ids:
        pipe.hget(keys.meta(sale_id), "server")
    servers = pipe.execute()
    return [
        sale_id
        for sale_id, server, run_id in zip(sale_ids, servers, run_ids, strict=True)
        if server is None or server.decode() != run_id
    ]


def returned_count(sale_id: int) -> int:
    """How many orders' units went back to the sale's stock (each once: ``return_units``)."""
    return sync_redis().scard(keys.returned(sale_id))


def mark_unchecked(sale_id: int) -> None:
    """Stop the sale selling (and its holds being confirmed or swept) until ``rebuild``: for a
    sale whose counts say Redis lost or changed its data."""
    sync_redis().hset(keys.meta(sale_id), "server", "")


@dataclass(frozen=True, slots=True)
class Rebuilt:
    remaining: int
    held: int  # units held: ordered (confirmed) or with an event still to be read


def rebuild(
    sale_id: int,
    *,
    total: int,
    starts_ms: int,
    ends_ms: int,
    limit: int,
    price: str,
    title: str,
    confirmed: list[tuple[str, int]],
    held: list[tuple[str, int]],
    returned: Sequence[str] = (),
    gate: tuple[int, int] | None = None,
) -> Rebuilt:
    """Replace the sale's state with what the database and the order topic say, and mark it checked.

    ``confirmed``: (order id, buyer id) of the sale's order rows that hold their unit;
    ``held``: those of the events the order consumer has yet to read, and no row;
    ``returned``: the order ids whose unit went back to the stock (``return_units``). The
    caller makes sure that no other event for the sale can still reach the topic
    (``orders.recovery``).
    """
    offer = [total, starts_ms, ends_ms, limit, price, title, gate_field(gate)]
    remaining, units = sync_scripts().rebuild(
        sale_id, offer=offer, confirmed=confirmed, held=held, returned=list(returned)
    )
    if held:
        pipe = sync_redis().pipeline(transaction=False)
        for order_id, buyer_id in held:
            pipe.set(keys.order_index(order_id), f"{sale_id}:{buyer_id}", ex=keys.HOLDER_INDEX_TTL)
        pipe.execute()
    return Rebuilt(int(remaining), int(units))


def forget(sale_id: int) -> None:
    """Remove a deleted sale's keys."""
    sync_redis().delete(*keys.all_of_sale(sale_id))


def remaining(sale_ids: list[int]) -> dict[int, int | None]:
    """Units left per sale; None where the sale is not loaded."""
    if not sale_ids:
        return {}
    values = sync_mget_across_slots([keys.stock(sale_id) for sale_id in sale_ids])
    return {sid: (int(v) if v is not None else None) for sid, v in zip(sale_ids, values, strict=True)}


def total_and_left(sale_id: int) -> tuple[int, int] | None:
    """(total, left) units of the sale, read together; None when it is not loaded."""
    total, left = sync_redis().pipeline().hget(keys.meta(sale_id), "total").get(keys.stock(sale_id)).execute()
    if total is None or left is None:
        return None
    return int(total), int(left)


def held_by_buyer(sale_id: int) -> dict[int, int]:
    """Buyer id -> units that buyer holds (reserved or confirmed)."""
    return {int(buyer): len(held.split()) for buyer, held in sync_redis().hgetall(keys.buyers(sale_id)).items()}


async def offer(sale_id: int) -> Offer | None:
    """The sale's offer and units left, on the hot path's client; None when the sale is unknown."""
    fields, left = await pipelined_redis().execute_many(
        ("HGETALL", keys.meta(sale_id)), ("GET", keys.stock(sale_id)), retry=True
    )
    if not fields:
        return None
    meta = dict(zip(fields[::2], fields[1::2], strict=True))
    return Offer(
        title=meta[b"title"].decode(),
        price=meta[b"price"].decode(),
        total=int(meta[b"total"]),
        remaining=int(left or 0),
        starts_ms=int(meta[b"starts_at"]),
        ends_ms=int(meta[b"ends_at"]),
        gate=_gate_of(meta.get(b"gated")),
    )


async def remaining_now(sale_ids: list[int]) -> dict[int, int]:
    """Units left per sale from an event loop (the stock ticker); sales not loaded are left out."""
    values = await mget_across_slots([keys.stock(sale_id) for sale_id in sale_ids])
    return {sid: int(v) for sid, v in zip(sale_ids, values, strict=True) if v is not None}


@dataclass(frozen=True, slots=True)
class Ledger:
    """A sale's units as Redis counts them, read in one round trip.

    ``in_stock + holds == total`` always holds in a Redis that lost nothing (every script
    moves a unit between the two); ``confirmed`` of the holds are orders.
    """

    total: int
    in_stock: int
    holds: int  # reservations still held, confirmed or not
    confirmed: int
    unconfirmed: int


def ledger(sale_id: int) -> Ledger | None:
    """None when the sale is not in Redis."""
    pipe = sync_redis().pipeline(transaction=False)
    pipe.hget(keys.meta(sale_id), "total").get(keys.stock(sale_id)).hlen(keys.orders(sale_id))
    pipe.scard(keys.confirmed(sale_id)).zcard(keys.since(sale_id))
    total, left, holds, confirmed, unconfirmed = pipe.execute()
    if total is None or left is None:
        return None
    return Ledger(int(total), int(left), holds, confirmed, unconfirmed)
