"""The order consumer worker behind ``manage.py consume_orders``.

Shape of a queue worker: consume a batch, write it in one transaction, then
commit the batch's offsets; repeat until asked to stop, and always finish the
batch in hand first. Offsets are committed only after the database commit, so
a crash at any point means redelivery, and redelivery is harmless because
writes are idempotent on ``order_id``.
"""

import logging
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from django.db import InterfaceError, OperationalError, connection, reset_queries
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from orders import events
from orders.kafka_config import consumer_config, producer_config
from orders.services import BatchResult, Placed, persist_batch

log = logging.getLogger(__name__)


class DeadLetterUnavailable(Exception):
    """The dead-letter topic did not acknowledge; the batch is retried."""


TRANSIENT = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, DeadLetterUnavailable)


class OrderConsumer:
    def __init__(
        self,
        *,
        topic: str,
        dlq_topic: str,
        group_id: str,
        batch_size: int = 1000,
        batch_timeout_ms: int = 100,
        max_messages: int | None = None,
        on_batch=None,
    ):
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout_ms / 1000
        self.max_messages = max_messages
        self.on_batch = on_batch
        self.stopping = False
        self.processed = 0
        self.written = 0
        self._consumer = Consumer(consumer_config(group_id))
        self._dlq = None

    def stop(self, *_args) -> None:
        """Signal handler: finish the batch in hand, commit, exit."""
        self.stopping = True

    def run(self) -> None:
        self._consumer.subscribe([self.topic])
        try:
            while not self.stopping:
                want = self.batch_size
                if self.max_messages is not None:
                    want = min(want, self.max_messages - self.processed)
                    if want <= 0:
                        break
                messages = self._consumer.consume(num_messages=want, timeout=self.batch_timeout)
                batch = [m for m in messages if self._usable(m)]
                if not batch:
                    continue
                reset_queries()  # with DEBUG, Django keeps every query until a request ends; this is ours
                result = self._handle_with_retry(batch)
                if result is None:
                    break  # stopped while the database was down: commit nothing
                self._commit(batch)
                self.processed += len(batch)
                self.written += len(result.written)
                if self.on_batch:
                    self.on_batch(result)
        finally:
            self._consumer.close()
            if self._dlq is not None:
                self._dlq.flush(10)

    @staticmethod
    def _usable(message) -> bool:
        err = message.error()
        if err is None:
            return True
        if err.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", err)
        return False

    def _handle_with_retry(self, batch) -> BatchResult | None:
        delay = 0.2
        while True:
            try:
                return self._handle(batch)
            except TRANSIENT as exc:
                log.warning("batch of %d not written (%s); retrying in %.1fs", len(batch), exc, delay)
                connection.close()
                if self._sleep_unless_stopped(delay):
                    return None
                delay = min(delay * 2, 10.0)

    def _sleep_unless_stopped(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.stopping:
                return True
            time.sleep(0.05)
        return self.stopping

    def _handle(self, batch) -> BatchResult:
        placed, malformed = [], []
        for message in batch:
            try:
                event = events.decode(message.value())
            except events.InvalidEvent as exc:
                malformed.append((message, str(exc)))
                continue
            placed.append(Placed(event, message.partition(), message.offset()))
        result = persist_batch(placed)
        by_offset = {(m.partition(), m.offset()): m for m in batch}
        dead = malformed + [(by_offset[(p.partition, p.offset)], why) for p, why in result.rejected]
        if dead:
            self._dead_letter(dead)
        return result

    def _dead_letter(self, dead) -> None:
        if self._dlq is None:
            self._dlq = Producer({**producer_config(), "client.id": "seckill-orders-dlq"})
        for message, reason in dead:
            log.error("dead-lettering %s[%d]@%d: %s", message.topic(), message.partition(), message.offset(), reason)
            self._dlq.produce(
                self.dlq_topic,
                key=message.key(),
                value=message.value(),
                headers={
                    "reason": reason,
                    "source": f"{message.topic()}/{message.partition()}/{message.offset()}",
                },
            )
        if self._dlq.flush(10) != 0:
            raise DeadLetterUnavailable("dead-letter topic did not acknowledge")

    def _commit(self, batch) -> None:
        last: dict[tuple[str, int], int] = {}
        for m in batch:
            key = (m.topic(), m.partition())
            last[key] = max(last.get(key, -1), m.offset())
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:  # rebalanced away: the new owner re-reads, writes are idempotent
            log.warning("offset commit failed (%s); the batch will be redelivered harmlessly", exc)
