"""Where a topic ends and how far a consumer group has read it, and what it has yet to read.

Used to know that a group has processed every message a topic held at some moment:
take ``end_offsets`` then, and wait until ``has_read_past`` them; and to read the
messages a group has not committed yet (``unread``). Knows no topic or group of its
own; the caller names them.

A broker that cannot answer (stopped, restarting, its group coordinator still loading) raises
``BrokerUnavailable``, a ``RuntimeError``: the workers that use these offsets try again on their
next round rather than exit, and ``scripts/run`` stops everything when one exits.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from plumbing.kafka.config import consumer_config

TIMEOUT = 5.0  # seconds a broker request may take


class BrokerUnavailable(RuntimeError):
    """The broker did not answer a request for offsets or metadata: try again later."""


@contextmanager
def _asking_the_broker():
    try:
        yield
    except KafkaException as exc:
        raise BrokerUnavailable(str(exc.args[0] if exc.args else exc)) from exc


class GroupOffsets:
    """A client that reads offsets without joining the group (it never subscribes)."""

    def __init__(self, topic: str, group_id: str, client_id: str):
        self.topic = topic
        self._config = consumer_config(group_id=group_id, client_id=client_id)
        self._consumer = Consumer(self._config)

    def _partitions(self) -> list[TopicPartition]:
        with _asking_the_broker():
            metadata = self._consumer.list_topics(self.topic, timeout=TIMEOUT).topics[self.topic]
        if metadata.error is not None:
            raise RuntimeError(f"topic {self.topic}: {metadata.error}")
        return [TopicPartition(self.topic, p) for p in sorted(metadata.partitions)]

    def end_offsets(self) -> dict[int, int]:
        """Partition -> the offset the next message will get (the high watermark)."""
        partitions = self._partitions()
        with _asking_the_broker():
            return {
                tp.partition: self._consumer.get_watermark_offsets(tp, timeout=TIMEOUT, cached=False)[1]
                for tp in partitions
            }

    def committed(self, partitions) -> dict[int, int]:
        """Partition -> the group's committed offset, 0 where it committed none (it starts at the beginning)."""
        with _asking_the_broker():
            committed = self._consumer.committed([TopicPartition(self.topic, p) for p in partitions], timeout=TIMEOUT)
        return {tp.partition: max(tp.offset, 0) for tp in committed}

    def has_read_past(self, ends: dict[int, int]) -> bool:
        """Whether the group has committed, on every partition, at least ``ends``."""
        done = self.committed(ends)
        # A partition that held nothing needs no commit.
        return all(end == 0 or done.get(p, 0) >= end for p, end in ends.items())

    def lag(self) -> int:
        """Messages the group has yet to read, over all partitions."""
        ends = self.end_offsets()
        done = self.committed(ends)
        return sum(max(0, end - done.get(p, 0)) for p, end in ends.items())

    def unread(self) -> Iterator[bytes | None]:
        """The values of the messages past the group's committed offsets, up to the end the
        topic has now: what the group has yet to process. Reads with a consumer of its own,
        assigned (it never joins the group) and committing nothing."""
        ends = self.end_offsets()
        todo = {p: start for p, start in self.committed(ends).items() if start < ends[p]}
        if not todo:
            return
        reader = Consumer({**self._config, "enable.partition.eof": True})
        try:
            # a start below the oldest message kept (deleted by retention) reads from the oldest
            reader.assign([TopicPartition(self.topic, p, start or OFFSET_BEGINNING) for p, start in todo.items()])
            while todo:
                with _asking_the_broker():
                    messages = reader.consume(num_messages=1000, timeout=TIMEOUT)
                if not messages:
                    raise RuntimeError(f"topic {self.topic}: no message within {TIMEOUT} s below its end")
                for message in messages:
                    p = message.partition()
                    if p not in todo:
                        continue
                    error = message.error()
                    if error is not None and error.code() != KafkaError._PARTITION_EOF:
                        raise RuntimeError(f"topic {self.topic} [{p}]: {error}")
                    if error is not None:  # the partition's end
                        del todo[p]
                        continue
                    offset = message.offset()
                    assert offset is not None  # a message read from a partition has one
                    if offset < ends[p]:
                        yield message.value()
                    if offset + 1 >= ends[p]:
                        del todo[p]
        finally:
            reader.close()

    def close(self) -> None:
        self._consumer.close()
