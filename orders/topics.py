"""Create the order topic and its dead-letter topic (set-up, not broker auto-creation)."""

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic
from django.conf import settings

from orders.kafka_config import admin_config


def ensure_topics(partitions: int | None = None, timeout: float = 30.0) -> list[str]:
    """Create the topics that are missing, grow the order topic to ``partitions``.

    Returns a line of what was done per topic.
    """
    partitions = partitions or settings.ORDERS_TOPIC_PARTITIONS
    wanted = {settings.ORDERS_TOPIC: partitions, settings.ORDERS_DLQ_TOPIC: 1}
    admin = AdminClient(admin_config())
    existing = admin.list_topics(timeout=timeout).topics
    report = []
    to_create = [
        NewTopic(name, num_partitions=n, replication_factor=1) for name, n in wanted.items() if name not in existing
    ]
    if to_create:
        for name, future in admin.create_topics(to_create, operation_timeout=timeout).items():
            try:
                future.result()
                report.append(f"created {name} ({wanted[name]} partitions)")
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
                report.append(f"{name} exists")
    for name, n in wanted.items():
        if name in existing:
            have = len(existing[name].partitions)
            if have < n:
                admin.create_partitions([NewPartitions(name, n)])[name].result()
                report.append(f"grew {name} from {have} to {n} partitions")
            else:
                report.append(f"{name} exists ({have} partitions)")
    return report
