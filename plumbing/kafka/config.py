"""librdkafka settings of the project's producers, consumers and admin client.

The broker address comes from ``settings.KAFKA_BOOTSTRAP_SERVERS``; what
depends on the use (who the client is, how long a delivery may take, which
group) is the caller's to say.
"""

from django.conf import settings


def producer_config(*, client_id: str, delivery_timeout: float) -> dict:
    """An idempotent producer that reports a message failed after ``delivery_timeout`` seconds."""
    return {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        # Idempotence implies acks=all and retries without duplicates.
        "enable.idempotence": True,
        "acks": "all",
        # librdkafka gives up on a message after this bound and reports it failed.
        "message.timeout.ms": int(delivery_timeout * 1000),
        # Send at once: a caller may be waiting for this ack; librdkafka still
        # batches whatever queues up while a request is in flight.
        "linger.ms": 1,
        "compression.type": "none",
        "client.id": client_id,
    }


def consumer_config(*, group_id: str, client_id: str) -> dict:
    return {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        "group.id": group_id,
        # Offsets are committed by hand, after the handler's transaction.
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 50,
        # A crashed worker's partitions move to the others after 10 s, not 45.
        "session.timeout.ms": 10000,
        "client.id": client_id,
    }


def admin_config() -> dict:
    return {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS}
