"""librdkafka settings of the project's producer, consumer and admin client."""

from django.conf import settings


def producer_config() -> dict:
    return {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        # Idempotence implies acks=all and retries without duplicates.
        "enable.idempotence": True,
        "acks": "all",
        # librdkafka gives up on a message after the buy bound and reports it
        # failed; the buy path then gives the reservation back.
        "message.timeout.ms": int(settings.BUY_ACK_TIMEOUT * 1000),
        # Send at once: each buyer waits for this ack; librdkafka still batches
        # whatever queues up while a request is in flight.
        "linger.ms": 1,
        "compression.type": "none",
        "client.id": "seckill-buy",
    }


def consumer_config(group_id: str | None = None) -> dict:
    return {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        "group.id": group_id or settings.ORDERS_CONSUMER_GROUP,
        # Offsets are committed by hand, after the database commit.
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 50,
        # A crashed worker's partitions move to the others after 10 s, not 45.
        "session.timeout.ms": 10000,
        "client.id": "seckill-consume-orders",
    }


def admin_config() -> dict:
    return {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS}
