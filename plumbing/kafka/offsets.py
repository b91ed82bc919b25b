"""Where a topic ends and how far a consumer group has read it.

Used to know that a group has processed every message a topic held at some moment:
take ``end_offsets`` then, and wait until ``has_read_past`` them. Knows no topic or
group of its own; the caller names them.
"""

from confluent_kafka import Consumer, TopicPartition

from plumbing.kafka.config import consumer_config

TIMEOUT = 5.0  # seconds a broker request may take


class GroupOffsets:
    """A client that reads offsets without joining the group (it never subscribes)."""

    def __init__(self, topic: str, group_id: str, client_id: str):
        self.topic = topic
        self._consumer = Consumer(consumer_config(group_id=group_id, client_id=client_id))

    def _partitions(self) -> list[TopicPartition]:
        metadata = self._consumer.list_topics(self.topic, timeout=TIMEOUT).topics[self.topic]
        if metadata.error is not None:
            raise RuntimeError(f"topic {self.topic}: {metadata.error}")
        return [TopicPartition(self.topic, p) for p in sorted(metadata.partitions)]

    def end_offsets(self) -> dict[int, int]:
        """Partition -> the offset the next message will get (the high watermark)."""
        return {
            tp.partition: self._consumer.get_watermark_offsets(tp, timeout=TIMEOUT, cached=False)[1]
            for tp in self._partitions()
        }

    def has_read_past(self, ends: dict[int, int]) -> bool:
        """Whether the group has committed, on every partition, at least ``ends``."""
        committed = self._consumer.committed([TopicPartition(self.topic, p) for p in ends], timeout=TIMEOUT)
        by_partition = {tp.partition: tp.offset for tp in committed}
        # A partition that held nothing needs no commit (its offset stays "none", -1001).
        return all(end == 0 or by_partition.get(p, -1) >= end for p, end in ends.items())

    def lag(self) -> int:
        """Messages the group has yet to read, over all partitions."""
        ends = self.end_offsets()
        committed = self._consumer.committed([TopicPartition(self.topic, p) for p in ends], timeout=TIMEOUT)
        done = {tp.partition: max(tp.offset, 0) for tp in committed}
        return sum(max(0, end - done.get(p, 0)) for p, end in ends.items())

    def close(self) -> None:
        self._consumer.close()
