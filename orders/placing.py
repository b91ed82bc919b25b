"""Placing an order: the inventory takes the unit, Kafka must have the order event.

``place_order`` is the one buy service, called by the lean ASGI handler (token
buyers) and by the Django view (session buyers); it knows nothing of HTTP. It is
asynchronous and does no database work: one script call in Redis decides the
click (``sales.inventory.reserve``), one Kafka produce carries the win, and the
buyer hears "reserved" only after the broker acknowledged it. If the broker does
not, the unit goes back to the stock (``sales.inventory.release``) and the
buyer is asked to try again.
"""

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from orders import events, metrics
from plumbing.kafka.config import producer_config
from plumbing.kafka.producer import AsyncProducer, DeliveryFailed
from sales import inventory
from sales.selectors import sale_window

log = logging.getLogger(__name__)

# Seconds past the librdkafka message timeout that we still wait for its report.
_ACK_GRACE = 1.0
# Buys of this process not yet answered, and the background ends of cancelled ones (see ``drain``).
_active = 0
_background: set[asyncio.Future] = set()
_closing = False


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """The buyer holds a unit under ``order_id``, and the broker has the order event."""

    order_id: str
    remaining: int


class TryAgain(Exception):
    """Nothing is held for the buyer, who may try again: the broker did not acknowledge the
    order event in time (the unit was given back), Redis failed, or the sale's stock in
    Redis is being rebuilt."""


async def place_order(
    sale_id: int, buyer_id: int, idempotency_key: str = "", pass_id: str = "", address: str = ""
) -> PlacedOrder:
    """Reserve a unit and hand its order event to Kafka.

    A buy repeating the ``idempotency_key`` of one that reserved answers that buy's order
    (and hands it to Kafka again if the order consumer has not confirmed it yet).

    Raises ``sales.inventory.Refused`` (no unit: sold out, limit reached, ...) or
    ``TryAgain`` (nothing is held for the buyer).

    A caller cancelled on the way (a server stopping, a client gone) does not abandon
    the unit. Cancelled while its purchase script is on its way, the buy sends a
    give-back after it on the same connection: Redis runs them in order, so a unit the
    script took goes back, and otherwise nothing happens. Cancelled while waiting for
    the broker, the wait goes on in the background to the ack (the order stands) or
    the give-back. Only a cancelled buy costs a task; ``drain`` waits for them.
    """
    global _active
    if _closing:
        raise TryAgain  # the process is stopping: the buyer tries again elsewhere, nothing was taken
    _active += 1
    try:
        return await _place(sale_id, buyer_id, idempotency_key, pass_id, address)
    finally:
        _active -= 1


async def drain() -> None:
    """Take no new buy (they answer ``TryAgain``), and wait until every buy of this process has
    ended (answered, acknowledged or given back); each is bounded by ``BUY_ACK_TIMEOUT``. A web
    process calls it on shutdown: daphne, for one, still reads requests while it stops."""
    global _closing
    _closing = True
    while _active or _background:
        await asyncio.sleep(0.05)


def _in_background(coroutine) -> None:
    task = asyncio.ensure_future(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _place(sale_id: int, buyer_id: int, idempotency_key: str, pass_id: str, address: str) -> PlacedOrder:
    order_id = str(uuid.uuid4())
    asked_at = time.monotonic()
    try:
        hold = await inventory.reserve(
            sale_id,
            buyer_id,
            order_id,
            rate_limit=settings.BUY_RATE_LIMIT,
            idempotency_key=idempotency_key,
            pass_id=pass_id,
            address=address,
            address_limit=settings.BUY_ADDRESS_RATE_LIMIT,
        )
    except inventory.Refused as refused:
        # limit_reached names the buyer's orders only once Kafka has them all: one whose event
        # cannot be handed off again may be given back by the sweep, so the buyer tries again
        if refused.unconfirmed and not await _hand_off_again(
            sale_id, buyer_id, refused.unconfirmed, refused.price, asked_at
        ):
            raise TryAgain from None
        if refused.reason is inventory.Refusal.UNKNOWN_SALE:
            await _not_in_redis(sale_id)
        raise
    except inventory.Unavailable:
        raise TryAgain from None
    except asyncio.CancelledError:
        _in_background(inventory.release(sale_id, buyer_id, order_id))
        raise
    except RedisError:
        # The script may have run and its reply been lost: give back what it may have taken
        # (nothing happens if it took nothing); if that fails too, the sweep of
        # orders.abandoned will, since no event is produced for this order.
        _in_background(_give_back_quietly(sale_id, buyer_id, order_id))
        raise
    if hold.repeated:
        # "reserved" again only if Kafka has the order: the first buy may have died before it did
        if hold.renewed and not await _hand_off_again(sale_id, buyer_id, (hold.order_id,), hold.price, asked_at):
            raise TryAgain
        return PlacedOrder(hold.order_id, hold.remaining)
    if time.monotonic() - asked_at > settings.BUY_PRODUCE_WITHIN:
        # Too late to produce: orders.abandoned counts on no event being produced later than this.
        await inventory.release(sale_id, buyer_id, order_id)
        raise TryAgain
    event = events.encode(order_id, sale_id, buyer_id, hold.price, datetime.now(UTC))
    indexed = asyncio.ensure_future(inventory.remember_holder(order_id, sale_id, buyer_id))
    ack = order_producer().send(settings.ORDERS_TOPIC, order_id.encode(), event)
    sent_at = time.perf_counter()
    try:
        # shielded: a cancelled wait leaves the ack to be waited for in the background
        await asyncio.wait_for(asyncio.shield(ack), settings.BUY_ACK_TIMEOUT + _ACK_GRACE)
        metrics.KAFKA_ACK.observe(time.perf_counter() - sent_at)
    except (DeliveryFailed, TimeoutError):
        given_back = asyncio.ensure_future(_give_back(indexed, sale_id, buyer_id, order_id))
        try:
            if not await asyncio.shield(given_back):
                return PlacedOrder(order_id, hold.remaining)  # the order worker accepted it first
        except asyncio.CancelledError:
            _in_background(given_back)
            raise
        raise TryAgain from None
    except asyncio.CancelledError:
        _in_background(_settle(ack, indexed, sale_id, buyer_id, order_id))
        raise
    await _indexed(indexed, order_id)
    return PlacedOrder(order_id, hold.remaining)


async def _hand_off_again(sale_id: int, buyer_id: int, order_ids: tuple[str, ...], price: str, asked_at: float) -> bool:
    """The buyer holds orders the consumer has not confirmed: the buy that made them may
    have died before producing their events (a retry after a lost answer), so produce them
    again and wait for the acks. A duplicate is harmless: rows are keyed by order id. Their
    reservation time was renewed by the script; past ``BUY_PRODUCE_WITHIN`` nothing is sent,
    and the abandoned-hold sweep takes what no event will come for. Returns whether every
    event was acknowledged."""
    if time.monotonic() - asked_at > settings.BUY_PRODUCE_WITHIN:
        return False
    now = datetime.now(UTC)
    producer = order_producer()
    acks = [
        producer.send(settings.ORDERS_TOPIC, order_id.encode(), events.encode(order_id, sale_id, buyer_id, price, now))
        for order_id in order_ids
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*acks), settings.BUY_ACK_TIMEOUT + _ACK_GRACE)
    except (DeliveryFailed, TimeoutError):
        log.warning("buyer %s: the events of %s were not acknowledged again", buyer_id, order_ids)
        return False
    return True


async def _not_in_redis(sale_id: int) -> None:
    """Redis does not know the sale: if the database does, Redis lost it and it is being
    rebuilt (``orders.recovery``), so a buyer in its window tries again; outside it, the
    window's answer. Returns (the sale is unknown) only if the database has no such sale."""
    window = await sale_window(sale_id)
    if window is None:
        return
    starts_at, ends_at = window
    now = timezone.now()
    if now >= ends_at:
        raise inventory.Refused(inventory.Refusal.ENDED)
    if now < starts_at:
        raise inventory.Refused(inventory.Refusal.NOT_STARTED)
    raise TryAgain


async def _give_back_quietly(sale_id: int, buyer_id: int, order_id: str) -> None:
    try:
        await inventory.release(sale_id, buyer_id, order_id)
    except RedisError:
        log.warning("order %s: not given back after a Redis error; the abandoned-hold sweep will", order_id)


async def _give_back(indexed: asyncio.Future, sale_id: int, buyer_id: int, order_id: str) -> bool:
    """Release an unacknowledged reservation; False when the order worker had confirmed it (it stands)."""
    await _indexed(indexed, order_id)  # before the release, which drops the index
    return await inventory.release(sale_id, buyer_id, order_id) is not inventory.Released.ALREADY_CONFIRMED


async def _settle(ack: asyncio.Future, indexed: asyncio.Future, sale_id: int, buyer_id: int, order_id: str) -> None:
    """The end of a buy whose caller was cancelled while it waited for the broker."""
    try:
        await asyncio.wait_for(ack, settings.BUY_ACK_TIMEOUT + _ACK_GRACE)
    except (DeliveryFailed, TimeoutError):
        await _give_back(indexed, sale_id, buyer_id, order_id)
        return
    await _indexed(indexed, order_id)


async def _indexed(indexed: asyncio.Future, order_id: str) -> None:
    """Wait for the holder-index write. The index only lets ``GET /api/orders/<id>``
    say "pending" before the row exists, so a failed write is logged and the buy
    goes on: the broker has the order (or the unit must still be given back)."""
    try:
        await indexed
    except RedisError:
        log.warning("order %s: the order index was not written", order_id, exc_info=True)


def order_producer_config() -> dict:
    """librdkafka reports an event failed after ``BUY_ACK_TIMEOUT``; the buy then gives its unit back."""
    return producer_config(client_id="seckill-buy", delivery_timeout=settings.BUY_ACK_TIMEOUT)


_lock = threading.Lock()
_producer: AsyncProducer | None = None


def order_producer() -> AsyncProducer:
    """The process's one producer of order events, made on first use (``seckill_site.asgi`` makes
    it at start-up: connecting on the first buy would cost the first buyers ~0.5 s)."""
    global _producer
    if _producer is None:
        with _lock:
            if _producer is None:
                _producer = AsyncProducer(order_producer_config())
    return _producer


def close_producer(timeout: float = 10.0) -> int:
    """Deliver what is queued (up to ``timeout``) and stop the producer; returns the events left.
    A later buy makes a new one."""
    global _producer
    with _lock:
        producer, _producer = _producer, None
    return producer.close(timeout) if producer is not None else 0
