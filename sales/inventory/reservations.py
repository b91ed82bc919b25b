"""A unit's life in Redis: reserved by a buy, then confirmed by the order worker or released.

- ``reserve`` takes a unit for a buyer in one atomic script (window, stock, limit
  per buyer, rate limit), or says why not (``Refused``);
- ``release`` gives an unconfirmed reservation back (its order event never reached
  the broker in time);
- ``confirm`` accepts reservations before their order rows are written, so that a
  reservation ends either released or confirmed, never both;
- the holder index (order id -> sale, buyer) lets the order's buyer see it
  "pending" before its row exists.

The sold-out flag: once Redis answered "sold out" for a sale, ``reserve`` in this
process answers the same without a round trip for ``SOLD_OUT_RECHECK_MS``, then asks
Redis again. In a stampede nine answers in ten are "sold out", and each was a script
call. The bound is what a returning unit may wait: a give-back in this process
clears the flag at once; one elsewhere (another process, more stock in admin, an
expiry) is seen within the bound. No unit is taken or held on the flag's word.

Everything else (the buy service in ``orders``, the order worker, admin) calls these
functions and never touches the keys or the scripts. The async functions run on the
hot path's pipelined client; the sync ones on django-redis.
"""

import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from plumbing.redis_clients import SlotPipelines, pipelined_redis, sync_redis
from sales.inventory import keys
from sales.inventory.scripts import hot_scripts, sync_scripts

# Sale id -> until when (monotonic seconds) this process answers "sold out" without Redis.
_sold_out_until: dict[int, float] = {}
_monotonic = time.monotonic


class Refusal(enum.StrEnum):
    """Why a unit was not reserved; the values are the API's statuses."""

    SOLD_OUT = "sold_out"
    LIMIT_REACHED = "limit_reached"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    UNKNOWN_SALE = "not_found"
    RATE_LIMITED = "rate_limited"
    PASS_REQUIRED = "pass_required"
    ADDRESS_LIMITED = "address_limited"


# purchase.lua's codes
_REFUSALS = {
    -1: Refusal.SOLD_OUT,
    -2: Refusal.LIMIT_REACHED,
    -3: Refusal.NOT_STARTED,
    -4: Refusal.ENDED,
    -5: Refusal.UNKNOWN_SALE,
    -6: Refusal.RATE_LIMITED,
    -9: Refusal.PASS_REQUIRED,
    -10: Refusal.ADDRESS_LIMITED,
}


class Unavailable(Exception):
    """The sale's state in Redis was not checked on this server since it started (or is
    gone): Redis may have lost holds or confirmations, so nothing is decided on it until
    it is rebuilt (``sales.inventory.rebuild``). Nothing was taken or confirmed; try again."""

    def __init__(self, sale_id: int):
        super().__init__(f"sale {sale_id}: its stock in Redis is being rebuilt")
        self.sale_id = sale_id


class Refused(Exception):
    """No unit was taken: ``reason`` says why. Nothing in Redis changed but the rate counter.

    With ``LIMIT_REACHED``: ``order_ids``, the orders the buyer holds in the sale;
    ``unconfirmed``, those the order consumer has not confirmed yet, whose reservation
    time was just renewed so that their events may be produced again (at ``price``).
    """

    def __init__(
        self, reason: Refusal, order_ids: tuple[str, ...] = (), unconfirmed: tuple[str, ...] = (), price: str = ""
    ):
        super().__init__(reason.value)
        self.reason = reason
        self.order_ids = order_ids
        self.unconfirmed = unconfirmed
        self.price = price


@dataclass(frozen=True, slots=True)
class Hold:
    """A unit reserved for a buyer under ``order_id``.

    ``repeated``: the buy repeated an idempotency key, and this is the first buy's order;
    ``renewed``: that order is not confirmed yet and its event is to be produced again.
    """

    order_id: str
    remaining: int
    price: str
    repeated: bool = False
    renewed: bool = False


class Released(enum.Enum):
    """What ``release`` did (release.lua's codes)."""

    GIVEN_BACK = 1
    ALREADY_CONFIRMED = 0  # the order worker accepted it first: the order stands
    UNKNOWN = -1  # released before, or never held


def flagged_sold_out(sale_id: int) -> bool:
    """Whether this process answers "sold out" for the sale without asking Redis (see above)."""
    until = _sold_out_until.get(sale_id)
    if until is None:
        return False
    if _monotonic() < until:
        return True
    _sold_out_until.pop(sale_id, None)
    return False


async def reserve(
    sale_id: int,
    buyer_id: int,
    order_id: str,
    *,
    rate_limit: int,
    idempotency_key: str = "",
    pass_id: str = "",
    address: str = "",
    address_limit: int = 0,
) -> Hold:
    """Take one unit of the sale for the buyer, or raise ``Refused``.

    ``rate_limit``: buy requests the buyer may make to this sale per second (0 = off).
    ``idempotency_key``: a buy repeating one that reserved answers that buy's order.
    ``pass_id``: the buyer's purchase pass, which a gated sale requires and uses up.
    ``address``, ``address_limit``: the client's address and the buy requests it may make to
    this sale per second, whichever buyer it signs in as (0 = off).
    Never retried on a lost connection: a reservation must not be made twice.
    """
    # On the flag's word only for a buyer who holds nothing here: one who holds their
    # limit must hear limit_reached with the orders (the script checks that first).
    if (
        not idempotency_key
        and flagged_sold_out(sale_id)
        and not await pipelined_redis().hexists(keys.buyers(sale_id), buyer_id)
    ):
        raise Refused(Refusal.SOLD_OUT)
    code, remaining, *extra = await hot_scripts().purchase(
        sale_id,
        buyer_id,
        order_id,
        rate_limit,
        int(time.time()),
        idempotency_key=idempotency_key,
        pass_id=pass_id,
        address=address,
        address_limit=address_limit if address else 0,
    )
    if code == -7:
        raise Unavailable(sale_id)
    if code == 2:
        price, earlier, renewed = extra
        return Hold(earlier.decode(), int(remaining), price.decode(), repeated=True, renewed=renewed == 1)
    if code != 1:
        if code == -1:
            _sold_out_until[sale_id] = _monotonic() + settings.SOLD_OUT_RECHECK_MS / 1000
        if code == -2:
            held, unconfirmed, price = (part.decode() for part in extra)
            raise Refused(Refusal.LIMIT_REACHED, tuple(held.split()), tuple(unconfirmed.split()), price)
        raise Refused(_REFUSALS[code])
    return Hold(order_id, int(remaining), extra[0].decode())


def reserve_many(sale_id: int, holds: list[tuple[int, str]]) -> list[Hold | Refusal]:
    """Take a unit for each (buyer id, order id) in one round trip, without a rate limit: for setting
    up tests and benchmarks synchronously (the buy path uses ``reserve``)."""
    scripts, pipes = sync_scripts(), SlotPipelines()
    second = int(time.time())
    for buyer_id, order_id in holds:
        scripts.purchase(sale_id, buyer_id, order_id, 0, second, client=pipes.for_key(keys.meta(sale_id)))
    answers = []
    for (_, order_id), (code, remaining, *extra) in zip(holds, pipes.execute(), strict=True):
        answers.append(Hold(order_id, int(remaining), extra[0].decode()) if code == 1 else _REFUSALS[code])
    return answers


async def release(sale_id: int, buyer_id: int, order_id: str) -> Released:
    """Give the reservation back unless it was confirmed, and drop its holder index unless it stands.

    Sent again if the connection drops (the script is idempotent): a unit neither
    given back nor ordered would be lost.
    """
    released = Released(await hot_scripts().release(sale_id, buyer_id, order_id, retry=True))
    if released is Released.GIVEN_BACK:
        _sold_out_until.pop(sale_id, None)
    if released is not Released.ALREADY_CONFIRMED:
        await pipelined_redis().delete(keys.order_index(order_id))
    return released


async def remember_holder(order_id: str, sale_id: int, buyer_id: int) -> None:
    """Index the reservation by order id (outside the sale's slot, see ``keys``)."""
    await pipelined_redis().set(keys.order_index(order_id), f"{sale_id}:{buyer_id}", ex=keys.HOLDER_INDEX_TTL)


def holder_of(order_id: str) -> tuple[int, int] | None:
    """(sale id, buyer id) of a reservation, while its index lives."""
    held = sync_redis().get(keys.order_index(order_id))
    if held is None:
        return None
    sale_id, buyer_id = (int(part) for part in held.decode().split(":"))
    return sale_id, buyer_id


def confirm(holds: Iterable[tuple[int, str]]) -> dict[tuple[int, str], bool]:
    """Accept reservations, given as (sale id, order id); returns which were still held.

    A reservation already released answers False and must not become an order.
    One script call per sale, all in one round trip; confirming twice is harmless.
    Raises ``Unavailable`` (and confirms nothing of that sale) if a sale's state is
    unchecked: a reservation it does not hold may have been lost rather than released.
    """
    by_sale: dict[int, list[str]] = {}
    for sale_id, order_id in holds:
        by_sale.setdefault(sale_id, []).append(order_id)
    if not by_sale:
        return {}
    scripts, pipes = sync_scripts(), SlotPipelines()
    for sale_id, order_ids in by_sale.items():
        scripts.confirm(sale_id, order_ids, client=pipes.for_key(keys.meta(sale_id)))
    answers = pipes.execute()
    for sale_id, oks in zip(by_sale, answers, strict=True):
        if oks == -1:
            raise Unavailable(sale_id)
    return {
        (sale_id, order_id): ok == 1
        for (sale_id, order_ids), oks in zip(by_sale.items(), answers, strict=True)
        for order_id, ok in zip(order_ids, oks, strict=True)
    }


class Returned(enum.Enum):
    """What ``return_units`` did with an order's unit (restock.lua's codes)."""

    NOW = 1  # back in stock, and in the buyer's allowance
    BEFORE = 0  # it was returned before: nothing more
    NOT_AN_ORDER = -1  # no confirmed order of the sale by that id
    UNCHECKED = -2  # the sale's state is unchecked (see ``Unavailable``): ask again once rebuilt


def return_units(units: Iterable[tuple[int, int, str]]) -> dict[str, Returned]:
    """Give the units of confirmed orders, given as (sale id, buyer id, order id), back to their
    sales: an order that expired unpaid or was cancelled. Once per order, however often asked,
    so a caller that died before recording it simply asks again. One round trip."""
    units = list(units)
    if not units:
        return {}
    scripts, pipes = sync_scripts(), SlotPipelines()
    for sale_id, buyer_id, order_id in units:
        scripts.restock(sale_id, buyer_id, order_id, client=pipes.for_key(keys.meta(sale_id)))
    done = {order_id: Returned(code) for (_, _, order_id), code in zip(units, pipes.execute(), strict=True)}
    for sale_id, _, order_id in units:
        if done[order_id] is Returned.NOW:
            _sold_out_until.pop(sale_id, None)
    return done


def redis_time_ms() -> int:
    """Redis's clock, in ms: the clock of every reservation's ``since``."""
    seconds, micros = sync_redis().time()
    return seconds * 1000 + micros // 1000


def stale_holds(sale_id: int, held_before_ms: int) -> list[tuple[str, int]]:
    """(order id, buyer id) of the reservations neither confirmed nor released, made before ``held_before_ms``."""
    r = sync_redis()
    order_ids = [o.decode() for o in r.zrangebyscore(keys.since(sale_id), "-inf", f"({held_before_ms}")]
    if not order_ids:
        return []
    buyers = r.hmget(keys.orders(sale_id), order_ids)
    return [(order_id, int(buyer)) for order_id, buyer in zip(order_ids, buyers, strict=True) if buyer is not None]


def release_stale(sale_id: int, holds: list[tuple[str, int]], held_before_ms: int) -> list[str]:
    """Give back each of ``holds`` still held, unconfirmed and older than ``held_before_ms``
    (a hold made again since is kept, and all are kept while the sale's state is
    unchecked: see ``Unavailable``); returns the order ids given back."""
    if not holds:
        return []
    scripts, pipes = sync_scripts(), SlotPipelines()
    for order_id, buyer_id in holds:
        scripts.release(sale_id, buyer_id, order_id, held_before_ms, client=pipes.for_key(keys.meta(sale_id)))
    given_back = [order_id for (order_id, _), code in zip(holds, pipes.execute(), strict=True) if code == 1]
    if given_back:
        sync_redis().delete(*(keys.order_index(o) for o in given_back))
    return given_back
