"""A generic Kafka batch worker: poll a batch, hand it to a handler, commit after the handler's transaction.

The shape of Zulip's queue workers (a worker writes only ``consume_batch``) and of
arroyo's ``RunTask -> CommitOffsets`` chain. One turn of ``BatchWorker.run``:

1. poll up to ``batch_size`` messages, waiting at most ``batch_timeout`` seconds;
2. ``decode`` each; one that raises ``ValueError`` can never be handled and is
   dead-lettered with the reason;
3. ``handle`` the decoded batch: a plain function that does its writes in its own
   transaction and returns a result whose ``rejected`` items are dead-lettered too;
4. an exception of a ``transient`` type (the caller says which: a database or Redis
   outage) or a dead-letter topic that does not acknowledge retries the batch,
   backing off up to 10 s, until it goes through or the worker is asked to stop;
5. only then commit the batch's offsets, and call ``on_committed(result)``.

A crash anywhere before the commit means the batch is delivered again, so the
handler must be idempotent (write through unique keys). ``stop()`` (a signal
handler) ends the loop after the batch in hand; a batch that is still failing then
is left uncommitted for the next worker.

The Kafka clients are made by ``make_consumer`` / ``make_producer`` in ``run``, so
the loop itself can be exercised without a broker.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from plumbing.kafka.config import consumer_config, producer_config

log = logging.getLogger(__name__)

T = TypeVar("T")
BACKOFF_START = 0.2
BACKOFF_MAX = 10.0
DEAD_LETTER_TIMEOUT = 10.0


@dataclass(frozen=True)  # no slots: ``Delivered[X](...)`` sets ``__orig_class__``
class Delivered(Generic[T]):
    """A decoded message, with where it came from in Kafka."""

    value: T
    topic: str
    partition: int
    offset: int


class Handled(Protocol):
    """What a handler returns: at least the items it refused for good, each with a reason."""

    rejected: list[tuple[Delivered, str]]


class DeadLetterUnavailable(Exception):
    """The dead-letter topic did not acknowledge; the batch is retried."""


@dataclass(frozen=True)
class Progress:
    """What one committed batch took, for metrics (``BatchWorker(on_progress=...)``)."""

    messages: int
    seconds: float  # from the batch in hand to its commit
    dead_lettered: int
    lag: dict[tuple[str, int], int]  # (topic, partition) of the batch -> messages after it, from cached watermarks


class BatchWorker:
    def __init__(
        self,
        *,
        topics: Sequence[str],
        group_id: str,
        client_id: str,
        decode: Callable[[bytes | None], Any],
        handle: Callable[[list[Delivered]], Handled],
        dead_letter_topic: str,
        transient: tuple[type[BaseException], ...] = (),
        batch_size: int = 1000,
        batch_timeout: float = 0.1,
        max_messages: int | None = None,
        on_committed: Callable[[Handled], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        make_consumer: Callable[[], Any] | None = None,
        make_producer: Callable[[], Any] | None = None,
        on_turn: Callable[[], None] | None = None,
    ):
        self.topics = list(topics)
        self.decode = decode
        self.handle = handle
        self.dead_letter_topic = dead_letter_topic
        self.transient: tuple[type[BaseException], ...] = (*transient, DeadLetterUnavailable)
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        self.max_messages = max_messages
        self.on_committed = on_committed
        self.on_progress = on_progress
        self.on_turn = on_turn  # each turn of the loop, batch or not (a liveness heartbeat)
        self._dead_lettered = 0
        self._make_consumer = make_consumer or (
            lambda: Consumer(consumer_config(group_id=group_id, client_id=client_id))
        )
        self._make_producer = make_producer or (
            lambda: Producer(producer_config(client_id=f"{client_id}-dlq", delivery_timeout=DEAD_LETTER_TIMEOUT))
        )
        self.stopping = False
        self.processed = 0
        self._consumer: Consumer | None = None  # made in ``run``
        self._dlq: Producer | None = None  # made at the first dead letter

    def stop(self, *_args) -> None:
        """Signal handler: finish the batch in hand, commit, exit."""
        self.stopping = True

    def run(self) -> None:
        self._consumer = self._make_consumer()
        self._consumer.subscribe(self.topics)
        try:
            while not self.stopping:
                want = self.batch_size
                if self.max_messages is not None:
                    want = min(want, self.max_messages - self.processed)
                    if want <= 0:
                        break
                if self.on_turn:
                    self.on_turn()
                messages = self._consumer.consume(num_messages=want, timeout=self.batch_timeout)
                batch = [m for m in messages if _usable(m)]
                if not batch:
                    continue
                began, self._dead_lettered = time.monotonic(), 0
                result = self._handle_until_done(batch)
                if result is None:
                    break  # asked to stop while the batch kept failing: commit nothing
                ends = self._commit(batch)
                self.processed += len(batch)
                if self.on_committed:
                    self.on_committed(result)
                if self.on_progress:
                    self.on_progress(
                        Progress(len(batch), time.monotonic() - began, self._dead_lettered, self._lag(ends))
                    )
        finally:
            self._consumer.close()
            if self._dlq is not None:
                self._dlq.flush(DEAD_LETTER_TIMEOUT)

    def _handle_until_done(self, batch: list) -> Handled | None:
        decoded, undecodable = [], []
        for message in batch:
            try:
                value = self.decode(message.value())
            except ValueError as exc:
                undecodable.append((message, str(exc)))
                continue
            decoded.append(Delivered(value, message.topic(), message.partition(), message.offset()))
        delay = BACKOFF_START
        while True:
            try:
                result = self.handle(decoded)
                by_place = {(m.topic(), m.partition(), m.offset()): m for m in batch}
                rejected = [(by_place[d.topic, d.partition, d.offset], why) for d, why in result.rejected]
                if undecodable or rejected:
                    self._dead_letter(undecodable + rejected)
                return result
            except self.transient as exc:
                log.warning("batch of %d not handled (%s); retrying in %.1fs", len(batch), exc, delay)
                if self._sleep_unless_stopped(delay):
                    return None
                delay = min(delay * 2, BACKOFF_MAX)

    def _sleep_unless_stopped(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.stopping:
                return True
            time.sleep(0.05)
        return self.stopping

    def _dead_letter(self, dead: list) -> None:
        if self._dlq is None:
            self._dlq = self._make_producer()
        for message, reason in dead:
            log.error("dead-lettering %s[%d]@%d: %s", message.topic(), message.partition(), message.offset(), reason)
            self._dlq.produce(
                self.dead_letter_topic,
                key=message.key(),
                value=message.value(),
                headers={"reason": reason, "source": f"{message.topic()}/{message.partition()}/{message.offset()}"},
            )
        if self._dlq.flush(DEAD_LETTER_TIMEOUT) != 0:
            raise DeadLetterUnavailable("dead-letter topic did not acknowledge")
        self._dead_lettered += len(dead)

    def _lag(self, committed: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
        assert self._consumer is not None  # called from ``run``
        lag = {}
        for (topic, partition), offset in committed.items():
            try:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
            except Exception:  # no statistics yet: unknown, not zero
                continue
            lag[topic, partition] = max(0, high - offset)
        return lag

    def _commit(self, batch: list) -> dict[tuple[str, int], int]:
        """Commit past ``batch``; returns (topic, partition) -> the offset committed."""
        last: dict[tuple[str, int], int] = {}
        for m in batch:
            key = (m.topic(), m.partition())
            last[key] = max(last.get(key, -1), m.offset())
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
        assert self._consumer is not None  # called from ``run``
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:  # rebalanced away: the new owner re-reads, and handlers are idempotent
            log.warning("offset commit failed (%s); the batch will be redelivered harmlessly", exc)
        return {(t, p): o + 1 for (t, p), o in last.items()}


def _usable(message) -> bool:
    err = message.error()
    if err is None:
        return True
    if err.code() != KafkaError._PARTITION_EOF:
        log.warning("consumer error: %s", err)
    return False
