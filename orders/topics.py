"""The order topic and its dead-letter topic."""

from django.conf import settings

from plumbing.kafka.topics import ensure_topics


def ensure_order_topics(partitions: int | None = None) -> list[str]:
    """Create the order topic (``partitions``, default ``ORDERS_TOPIC_PARTITIONS``) and its
    one-partition dead-letter topic where missing; returns a line per topic."""
    partitions = partitions or settings.ORDERS_TOPIC_PARTITIONS
    return ensure_topics(
        {settings.ORDERS_TOPIC: partitions, settings.ORDERS_DLQ_TOPIC: 1},
        replication_factor=settings.ORDERS_TOPIC_REPLICATION_FACTOR,
        min_insync_replicas=settings.ORDERS_TOPIC_MIN_INSYNC_REPLICAS,
    )
