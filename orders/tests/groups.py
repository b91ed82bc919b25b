"""Kafka consumer groups for tests: each test's consumer reads only its own events.

Every test of a run shares the run's order topic. A group that started at the
earliest offset would first wade through every earlier test's events, so a
test makes its group with ``fresh_group()`` *before* it produces anything.
"""

import functools
import uuid

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from django.conf import settings

from plumbing.kafka.config import admin_config


@functools.cache
def _admin() -> AdminClient:
    # One client for the session: a request's future never settles if its
    # client is garbage-collected first.
    return AdminClient(admin_config())


def topic_offsets(spec: OffsetSpec, topic: str | None = None) -> dict[int, int]:
    """Partition -> offset of ``spec`` (earliest or latest) for the topic."""
    topic = topic or settings.ORDERS_TOPIC
    admin = _admin()
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    futures = admin.list_offsets({TopicPartition(topic, p): spec for p in partitions})
    return {tp.partition: future.result().offset for tp, future in futures.items()}


def set_group_offsets(group: str, offsets: dict[int, int]) -> None:
    """Move an idle group's committed offsets (what ``kafka-consumer-groups --reset-offsets`` does)."""
    request = ConsumerGroupTopicPartitions(
        group, [TopicPartition(settings.ORDERS_TOPIC, p, o) for p, o in offsets.items()]
    )
    _admin().alter_consumer_group_offsets([request])[group].result()


def committed_offsets(group: str) -> dict[int, int]:
    result = _admin().list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result()
    return {tp.partition: tp.offset for tp in result.topic_partitions if tp.topic == settings.ORDERS_TOPIC}


def fresh_group() -> tuple[str, dict[int, int]]:
    """A new consumer group committed at the topic's current end, and those offsets."""
    group = f"{settings.ORDERS_CONSUMER_GROUP}-{uuid.uuid4().hex[:8]}"
    start = topic_offsets(OffsetSpec.latest())
    set_group_offsets(group, start)
    return group, start


def consumed_since(group: str, start: dict[int, int]) -> int:
    """Events the group has committed past ``start``."""
    return sum(offset - start[p] for p, offset in committed_offsets(group).items())
