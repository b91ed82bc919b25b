"""``manage.py consume_orders`` against the real Kafka, MariaDB and Redis.

Every test reserves real units in Redis (an order row is only written for a
reservation the confirm script accepts), publishes their events to this run's
topic, and runs the consumer as a child process in a consumer group of its
own. A group starts at the topic's current end (``fresh_group``), so it sees
only the events its test publishes and ``--max-messages`` counts are exact.
"""

import dataclasses
import functools
import itertools
import signal
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import OffsetSpec
from django.conf import settings
from django.db import connection

from conftest import OrderConsumerProcess, run_manage, wait_until
from orders import events
from orders.models import Order
from orders.tests.groups import committed_offsets, consumed_since, fresh_group, set_group_offsets, topic_offsets
from plumbing.kafka.config import consumer_config, producer_config
from plumbing.redis_clients import sync_redis
from sales.inventory import keys
from sales.inventory.scripts import sync_scripts
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("kafka_topics")]

UNKNOWN_ID = 999_999_999


# --- Reservations and their events ------------------------------------------


@dataclass(frozen=True)
class Reservation:
    order_id: str
    sale_id: int
    buyer_id: int
    price: str
    reserved_at: datetime

    def event(self) -> tuple[bytes, bytes]:
        """(key, value) as the buy path publishes it."""
        value = events.encode(self.order_id, self.sale_id, self.buyer_id, self.price, self.reserved_at)
        return self.order_id.encode(), value


def open_sale(units: int, buyers: int = 3):
    """A running sale with ``units`` in stock that ``buyers`` new buyers may buy out."""
    sale = SaleFactory(total_stock=units, limit_per_buyer=units)
    return sale, [b.pk for b in BuyerFactory.create_batch(buyers)]


def reserve(sale, buyer_ids: list[int], count: int) -> list[Reservation]:
    """Take ``count`` units with the purchase script, round-robin over the buyers."""
    scripts = sync_scripts()
    taken = []
    for i in range(count):
        buyer_id, order_id = buyer_ids[i % len(buyer_ids)], str(uuid.uuid4())
        code, _, price = scripts.purchase(sale.pk, buyer_id, order_id, 0, int(time.time()))
        assert code == 1, f"purchase refused with {code}"
        taken.append(Reservation(order_id, sale.pk, buyer_id, price.decode(), datetime.now(UTC)))
    return taken


def produce(messages: list[tuple[bytes, bytes | None]], partition: int | None = None) -> list[tuple[int, int]]:
    """Publish (key, value) pairs in order; returns each one's (partition, offset)."""
    producer = Producer(producer_config(client_id="test-producer", delivery_timeout=30))
    reports: list = [None] * len(messages)

    def delivered(i, err, msg):
        reports[i] = (err, msg.partition(), msg.offset())

    pinned: dict[str, Any] = {} if partition is None else {"partition": partition}
    for i, (key, value) in enumerate(messages):
        producer.produce(
            settings.ORDERS_TOPIC, key=key, value=value, on_delivery=functools.partial(delivered, i), **pinned
        )
        producer.poll(0)
    assert producer.flush(30) == 0, "the broker did not acknowledge every event"
    assert all(err is None for err, _, _ in reports), reports
    return [(p, o) for _, p, o in reports]


def publish(reservations: list[Reservation]) -> dict[str, tuple[int, int]]:
    """Publish the reservations' events; order id -> (partition, offset)."""
    placed = produce([r.event() for r in reservations])
    return {r.order_id: where for r, where in zip(reservations, placed, strict=True)}


# --- Looking at the outcome --------------------------------------------------


def order_ids(sale) -> list[str]:
    return sorted(str(o) for o in Order.objects.filter(sale_id=sale.pk).values_list("order_id", flat=True))


def row_count(sale) -> int:
    return Order.objects.filter(sale_id=sale.pk).count()


def confirmed_in_redis(sale) -> set[str]:
    return {m.decode() for m in sync_redis().smembers(keys.confirmed(sale.pk))}


def read_dead_letters(wanted_keys: set[bytes], timeout: float = 20) -> dict[bytes, tuple[bytes | None, dict]]:
    """The dead-letter messages with these keys: key -> (value, headers)."""
    reader = Consumer(
        {
            **consumer_config(group_id=f"dlq-reader-{uuid.uuid4().hex[:8]}", client_id="test-dlq-reader"),
            "enable.partition.eof": False,
        }
    )
    reader.subscribe([settings.ORDERS_DLQ_TOPIC])
    found: dict[bytes, tuple[bytes | None, dict[str, str]]] = {}
    try:
        deadline = time.monotonic() + timeout
        while set(found) != wanted_keys and time.monotonic() < deadline:
            message = reader.poll(0.2)
            if message is None or message.error():
                continue
            key = message.key()
            if key not in wanted_keys:
                continue
            # a consumed message's headers are (name, bytes) pairs; the dead letters' are all set
            pairs = cast(list[tuple[str, bytes]], message.headers() or [])
            found[key] = (message.value(), {name: value.decode() for name, value in pairs})
    finally:
        reader.close()
    assert set(found) == wanted_keys, f"missing from the dead-letter topic: {wanted_keys - set(found)}"
    return found


# --- Running the consumer ----------------------------------------------------


def consume(group: str, max_messages: int, *args: str, timeout: float = 60) -> str:
    """Run ``consume_orders`` to completion; returns its stdout."""
    done = run_manage("consume_orders", "--group", group, "--max-messages", str(max_messages), *args, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def start_consumer(transactional_db):
    """Start ``consume_orders`` children; any still running at the end is killed."""
    started: list[OrderConsumerProcess] = []

    def start(group: str, *args: str, **env) -> OrderConsumerProcess:
        started.append(OrderConsumerProcess("--group", group, *args, **env))
        return started[-1]

    yield start
    for child in started:
        child.kill()
        child.log.close()


# --- Tests -------------------------------------------------------------------


def test_each_valid_event_becomes_one_row():
    sale, buyers = open_sale(50)
    reserved = reserve(sale, buyers, 50)
    group, start = fresh_group()
    where = publish(reserved)

    out = consume(group, 50)

    assert "stopped: 50 events, 50 rows written" in out
    rows = {str(o.order_id): o for o in Order.objects.filter(sale_id=sale.pk)}
    assert sorted(rows) == sorted(r.order_id for r in reserved)
    for r in reserved:
        row = rows[r.order_id]
        assert (row.buyer_id, row.price, row.status, row.reserved_at) == (
            r.buyer_id,
            Decimal(r.price),
            Order.Status.AWAITING_PAYMENT,
            r.reserved_at,
        )
        assert (row.kafka_partition, row.kafka_offset) == where[r.order_id]
    assert confirmed_in_redis(sale) == set(rows)
    assert consumed_since(group, start) == 50


def test_the_same_event_twice_in_one_batch_is_one_row():
    sale, buyers = open_sale(1)
    (reserved,) = reserve(sale, buyers, 1)
    group, _ = fresh_group()
    produce([reserved.event()] * 2, partition=0)

    consume(group, 2)

    assert order_ids(sale) == [reserved.order_id]


def test_replay_from_the_beginning_changes_nothing():
    sale, buyers = open_sale(30)
    reserved = reserve(sale, buyers, 30)
    group, _ = fresh_group()
    publish(reserved)
    consume(group, 30)
    # An order cancelled since (the admin may) stays cancelled.
    Order.objects.filter(order_id=reserved[0].order_id).update(status=Order.Status.CANCELLED)
    columns = ("order_id", "status", "buyer_id", "price", "reserved_at", "created_at")
    columns += ("kafka_partition", "kafka_offset")
    before = sorted(Order.objects.filter(sale_id=sale.pk).values_list(*columns))
    assert len(before) == 30

    beginning, end = topic_offsets(OffsetSpec.earliest()), topic_offsets(OffsetSpec.latest())
    set_group_offsets(group, beginning)
    everything = sum(end.values()) - sum(beginning.values())
    out = consume(group, everything)

    # Earlier tests' events are in the topic too: their sales are gone, so
    # they are dead-lettered; this test's 30 are seen again and change nothing.
    assert f"stopped: {everything} events, 30 rows written" in out
    assert sorted(Order.objects.filter(sale_id=sale.pk).values_list(*columns)) == before
    assert committed_offsets(group) == end


def consuming_midstream(start_consumer, n: int):
    """n reserved orders published, a worker (batches of 20) a third of the way through them."""
    sale, buyers = open_sale(n)
    reserved = reserve(sale, buyers, n)
    group, start = fresh_group()
    publish(reserved)
    worker = start_consumer(group, "--batch-size", "20")
    wait_until(lambda: row_count(sale) >= n // 3, 30, "a third of the rows")
    return sale, reserved, group, start, worker


def test_sigkill_mid_stream_then_restart_writes_each_order_once(start_consumer):
    n = 3000
    sale, reserved, group, start, worker = consuming_midstream(start_consumer, n)
    worker.stop(signal.SIGKILL)
    at_kill = row_count(sale)
    committed = consumed_since(group, start)

    assert 0 < at_kill < n, f"the kill came too late to be mid-stream ({at_kill} of {n})"
    # Offsets are committed only after the rows they cover.
    assert committed <= at_kill
    # The restarted worker resumes from the killed one's commits. It runs in
    # a copy of the group: in the group itself it would first wait out the
    # dead member's session (session.timeout.ms, 45 s by default).
    resumed = f"{group}-resumed"
    set_group_offsets(resumed, committed_offsets(group))
    out = consume(resumed, n - committed)

    assert f"stopped: {n - committed} events" in out
    assert order_ids(sale) == sorted(r.order_id for r in reserved)
    assert row_count(sale) == n
    assert len(confirmed_in_redis(sale)) == n
    assert consumed_since(resumed, start) == n


def group_members(group: str) -> list:
    """The group's members, each with its assigned partitions of the order topic."""
    from orders.tests.groups import _admin

    described = _admin().describe_consumer_groups([group])[group].result()
    return [m for m in described.members if m.assignment.topic_partitions]


@pytest.mark.cluster
def test_three_workers_in_one_group_one_killed_mid_stream_write_each_order_once(start_consumer):
    """Three workers share the topic's partitions; one is SIGKILLed a third of the way in: after the
    rebalance (its session times out in 10 s) the other two write its share, each order once."""
    n = 6000
    sale, buyers = open_sale(n)
    reserved = reserve(sale, buyers, n)
    group, start = fresh_group()
    workers = [start_consumer(group, "--batch-size", "20") for _ in range(3)]
    wait_until(lambda: len(group_members(group)) == 3, 60, lambda: f"3 members with partitions: {group_members(group)}")
    publish(reserved)
    wait_until(lambda: row_count(sale) >= n // 3, 60, "a third of the rows")
    workers[0].stop(signal.SIGKILL)
    at_kill = row_count(sale)
    assert at_kill < n, f"the kill came too late to be mid-stream ({at_kill} of {n})"

    wait_until(lambda: row_count(sale) == n, 90, lambda: f"{row_count(sale)} of {n} rows")
    wait_until(lambda: consumed_since(group, start) == n, 30, lambda: f"committed {consumed_since(group, start)}")
    assert order_ids(sale) == sorted(r.order_id for r in reserved)
    assert len(group_members(group)) == 2
    assert len(confirmed_in_redis(sale)) == n


def test_malformed_events_are_dead_lettered_without_blocking_the_partition():
    sale, buyers = open_sale(11)
    good = reserve(sale, buyers, 10)
    (stranger,) = reserve(sale, buyers, 1)
    unknown_sale = Reservation(str(uuid.uuid4()), UNKNOWN_ID, buyers[0], "1.00", datetime.now(UTC))
    unknown_buyer = Reservation(stranger.order_id, sale.pk, UNKNOWN_ID, stranger.price, stranger.reserved_at)
    bad = {
        b"garbage-" + uuid.uuid4().hex.encode(): (b"\x00\xff not an event", "not JSON"),
        b"empty-" + uuid.uuid4().hex.encode(): (None, "empty message"),
        b"v2-" + uuid.uuid4().hex.encode(): (b'{"v": 2}', "unsupported schema version 2"),
        unknown_sale.event()[0]: (unknown_sale.event()[1], f"unknown sale {UNKNOWN_ID}"),
        unknown_buyer.event()[0]: (unknown_buyer.event()[1], f"unknown buyer {UNKNOWN_ID}"),
    }
    # All on one partition, each bad event between good ones.
    messages = []
    for good_one, bad_one in itertools.zip_longest(good, bad.items()):
        messages.append(good_one.event())
        if bad_one:
            key, (value, _) = bad_one
            messages.append((key, value))
    group, start = fresh_group()
    placed = produce(messages, partition=0)

    out = consume(group, len(messages))

    assert f"stopped: {len(messages)} events, 10 rows written" in out
    assert order_ids(sale) == sorted(g.order_id for g in good)
    assert committed_offsets(group)[0] == start[0] + len(messages)
    offset_of = {key: offset for (key, _), (_, offset) in zip(messages, placed, strict=True)}
    dead = read_dead_letters(set(bad))
    for key, (value, reason) in bad.items():
        dead_value, headers = dead[key]
        assert dead_value == value
        assert reason in headers["reason"]
        assert headers["source"] == f"{settings.ORDERS_TOPIC}/0/{offset_of[key]}"


@pytest.mark.parametrize(
    "change",
    [
        {"price": "100000000.00"},
        {"price": "0.001"},
        {"reserved_at": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))},
    ],
    ids=["price-too-big", "price-too-precise", "time-past-9999-in-utc"],
)
def test_event_that_does_not_fit_an_order_row_is_dead_lettered(change):
    """Not a crash (and a redelivery loop blocking the partition), nor a row
    that differs from the event."""
    sale, buyers = open_sale(2)
    odd, good = reserve(sale, buyers, 2)
    odd = dataclasses.replace(odd, **change)
    key = odd.event()[0]
    group, _ = fresh_group()
    produce([odd.event(), good.event()], partition=0)

    out = consume(group, 2, timeout=30)

    assert "stopped: 2 events, 1 rows written" in out
    assert order_ids(sale) == [good.order_id]
    _, headers = read_dead_letters({key})[key]
    assert next(iter(change)) in headers["reason"]


def test_released_reservation_gets_no_row_and_a_confirmed_one_cannot_be_released():
    sale, buyers = open_sale(3)
    kept, given_back = reserve(sale, buyers, 2)
    scripts = sync_scripts()
    assert scripts.release(sale.pk, given_back.buyer_id, given_back.order_id) == 1
    group, _ = fresh_group()
    publish([kept, given_back])

    out = consume(group, 2)

    assert "stopped: 2 events, 1 rows written" in out
    assert order_ids(sale) == [kept.order_id]
    assert confirmed_in_redis(sale) == {kept.order_id}
    # The buy path's late release loses the race: the order stands.
    assert scripts.release(sale.pk, kept.buyer_id, kept.order_id) == 0
    assert int(sync_redis().get(keys.stock(sale.pk))) == 2


@pytest.mark.parametrize(
    ("setting", "dead_url"),
    [
        ("DATABASE_URL", "mysql://seckill:seckill@127.0.0.1:1/{db}"),
        ("REDIS_URL", "redis://127.0.0.1:1/1"),
    ],
    ids=["database-down", "redis-down"],
)
def test_consumer_outlives_an_unreachable_store_and_commits_nothing(start_consumer, setting, dead_url):
    sale, buyers = open_sale(20)
    reserved = reserve(sale, buyers, 20)
    group, start = fresh_group()
    publish(reserved)

    worker = start_consumer(group, **{setting: dead_url.format(db=connection.settings_dict["NAME"])})
    # Backing off 0.2, 0.4, 0.8, 1.6 s: the fifth attempt fails about 3 s in,
    # and the signal then comes early in a 3.2 s pause.
    wait_until(lambda: worker.output().count("not handled") >= 5, 30, "five attempts")
    assert worker.alive(), worker.output()
    began = time.monotonic()
    assert worker.stop(signal.SIGTERM, timeout=5) == 0, worker.output()
    assert time.monotonic() - began < 1.5

    assert "stopped: 0 events, 0 rows written" in worker.output()
    assert committed_offsets(group) == start
    assert row_count(sale) == 0
    consume(group, 20)
    assert order_ids(sale) == sorted(r.order_id for r in reserved)


def test_sigterm_finishes_the_batch_and_commits_what_was_written(start_consumer):
    n = 2000
    sale, reserved, group, start, worker = consuming_midstream(start_consumer, n)
    assert worker.stop(signal.SIGTERM) == 0, worker.output()

    written, committed = row_count(sale), consumed_since(group, start)
    assert 0 < written < n, f"the signal came too late to be mid-stream ({written} of {n})"
    assert written == committed
    assert f"stopped: {committed} events, {written} rows written" in worker.output()
    consume(group, n - committed)
    assert order_ids(sale) == sorted(r.order_id for r in reserved)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_idle_consumer_stops_promptly(start_consumer, sig):
    group, _ = fresh_group()
    worker = start_consumer(group)
    wait_until(lambda: "consuming" in worker.output(), 30, "the consumer to start")
    time.sleep(1)
    began = time.monotonic()
    assert worker.stop(sig, timeout=5) == 0, worker.output()
    assert time.monotonic() - began < 1.5
    assert "stopped: 0 events, 0 rows written" in worker.output()
