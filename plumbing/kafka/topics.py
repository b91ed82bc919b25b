"""Create topics and grow their partitions (set-up, not broker auto-creation)."""

import time

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic, OffsetSpec

from plumbing.kafka.config import admin_config


def ensure_topics(
    wanted: dict[str, int], *, replication_factor: int = 1, min_insync_replicas: int = 1, timeout: float = 30.0
) -> list[str]:
    """Create the topics of ``wanted`` (name -> partitions) that are missing, grow those with fewer.

    A new topic gets ``replication_factor`` copies of each partition and ``min.insync.replicas``:
    with the producers' ``acks=all``, an event is acknowledged once that many copies have it.

    Returns a line of what was done per topic. Returns only once every
    partition answers: right after creation, on a new broker, partitions can
    refuse requests for a moment (NOT_LEADER_FOR_PARTITION).
    """
    admin = AdminClient(admin_config())
    existing = admin.list_topics(timeout=timeout).topics
    report = []
    to_create = [
        NewTopic(
            name,
            num_partitions=n,
            replication_factor=replication_factor,
            config={"min.insync.replicas": str(min_insync_replicas)},
        )
        for name, n in wanted.items()
        if name not in existing
    ]
    if to_create:
        for name, future in admin.create_topics(to_create, operation_timeout=timeout).items():
            try:
                future.result()
                report.append(f"created {name} ({wanted[name]} partitions, {replication_factor} replicas)")
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
    _wait_until_served(admin, list(wanted), timeout)
    return report


def _wait_until_served(admin: AdminClient, names: list[str], timeout: float) -> None:
    """Ask every partition of ``names`` for its latest offset until all answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            topics = admin.list_topics(timeout=timeout).topics
            if all(name in topics and topics[name].error is None and topics[name].partitions for name in names):
                requests = {
                    TopicPartition(name, p): OffsetSpec.latest() for name in names for p in topics[name].partitions
                }
                for future in admin.list_offsets(requests).values():
                    future.result()
                return
        except KafkaException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics {names} were not served within {timeout}s")
        time.sleep(0.2)
