"""A Kafka producer usable from asyncio: ``send`` returns a future of the delivery report.

librdkafka only runs delivery callbacks inside ``poll()``/``flush()``, so a
daemon thread polls and hands the delivery reports to the event loops waiting
for them: all the reports one ``poll()`` served go over in one
``call_soon_threadsafe`` per loop, not one each (under a stampede, waking the
loop and taking the GIL once per report cost ~15 % of a daphne process). A
caller can wait for "the broker has it" without blocking its loop.
"""

import asyncio
import logging
import threading
from collections import defaultdict

from confluent_kafka import KafkaError, KafkaException, Producer

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The broker did not acknowledge the event (refused, timed out, queue full)."""


def _settle(reports: list) -> None:
    for future, err in reports:
        if future.done():
            continue
        if err is None:
            future.set_result(None)
        else:
            future.set_exception(DeliveryFailed(str(err)))


class AsyncProducer:
    def __init__(self, config: dict):
        self._producer = Producer(config)
        self._stopping = threading.Event()
        # (loop, future, error) of the reports served by the poll() in progress;
        # only the poller thread touches it (callbacks run inside its poll()), and close()
        # once that thread has stopped (flush() runs the last callbacks in the caller's thread).
        self._served: list = []
        self._poller = threading.Thread(target=self._poll_forever, name="kafka-delivery-poller", daemon=True)
        self._poller.start()

    def _poll_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                self._producer.poll(0.05)
                self._hand_over()
            except Exception:  # a dead poller would leave every later buy waiting for its ack
                log.exception("kafka delivery poller")

    def _hand_over(self) -> None:
        served, self._served = self._served, []
        if not served:
            return
        by_loop = defaultdict(list)
        for loop, future, err in served:
            by_loop[loop].append((future, err))
        for loop, reports in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, reports)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass

    def send(self, topic: str, key: bytes, value: bytes) -> asyncio.Future:
        """Queue the event; the returned future settles with the delivery report."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def on_delivery(err: KafkaError | None, _msg) -> None:
            self._served.append((loop, future, err))

        try:
            self._producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
        except (BufferError, KafkaException) as exc:
            future.set_exception(DeliveryFailed(str(exc)))
        return future

    def brokers_answer(self, topic: str, timeout: float = 1.0) -> bool:
        """Whether a broker answers a metadata request for ``topic`` within ``timeout`` (blocking:
        call it from a thread). Readiness, not delivery: it says nothing of acks."""
        try:
            metadata = self._producer.list_topics(topic, timeout=timeout)
        except KafkaException:
            return False
        found = metadata.topics.get(topic)
        return found is not None and found.error is None and bool(metadata.brokers)

    def close(self, timeout: float = 10.0) -> int:
        """Deliver what is queued (up to ``timeout``), stop polling; returns messages left."""
        self._stopping.set()
        self._poller.join(timeout=1)
        left = self._producer.flush(timeout)
        self._hand_over()
        return left
