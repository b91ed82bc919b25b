"""The order worker behind ``manage.py consume_orders``: the generic batch loop with the order handler.

``plumbing.kafka.batches.BatchWorker`` polls, dead-letters, retries and commits;
this module says what is an order event (``events.decode``), what to do with a
batch (``handle``, around ``services.persist_batch``), which failures are worth
waiting out (the database or Redis being down, a sale's stock in Redis being rebuilt), and what follows a commit (the
buyers' confirmations).
"""

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, reset_queries
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from orders import events, metrics
from orders.notify import notify_confirmed
from orders.services import BatchResult, Placed, persist_batch
from plumbing import heartbeat
from plumbing.kafka.batches import BatchWorker, Progress
from sales.inventory import Unavailable

# Unavailable: Redis may have lost the holds of a sale in the batch; its rebuild (orders.recovery)
# reads this batch's events from the topic, since the batch is not committed.
TRANSIENT = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, Unavailable)


def handle(batch: list[Placed]) -> BatchResult:
    """One batch in one transaction; a database error drops the connection so that a retry opens a new one."""
    reset_queries()  # with DEBUG, Django keeps every query until a request ends; this is ours
    try:
        return persist_batch(batch)
    except (OperationalError, InterfaceError):
        connection.close()
        raise


def record(progress: Progress) -> None:
    """The worker's metrics, after each committed batch."""
    metrics.CONSUMER_BATCH.observe(progress.seconds)
    if progress.dead_lettered:
        metrics.DEAD_LETTERS.inc(progress.dead_lettered)
    for (_topic, partition), lag in progress.lag.items():
        metrics.CONSUMER_LAG.labels(str(partition)).set(lag)


def order_worker(
    *,
    group_id: str,
    batch_size: int = 1000,
    batch_timeout: float = 0.1,
    max_messages: int | None = None,
    on_committed=notify_confirmed,
    **extra,
) -> BatchWorker:
    """The worker for ``settings.ORDERS_TOPIC`` in ``group_id``; ``extra`` goes to ``BatchWorker``."""
    return BatchWorker(
        topics=[settings.ORDERS_TOPIC],
        group_id=group_id,
        client_id="seckill-consume-orders",
        decode=events.decode,
        handle=handle,
        dead_letter_topic=settings.ORDERS_DLQ_TOPIC,
        transient=TRANSIENT,
        batch_size=batch_size,
        batch_timeout=batch_timeout,
        max_messages=max_messages,
        on_committed=_counting(on_committed),
        on_progress=record,
        on_turn=lambda: heartbeat.beat("consume_orders"),
        **extra,
    )


def _counting(on_committed):
    def committed(result: BatchResult) -> None:
        metrics.ORDERS_WRITTEN.inc(len(result.written))
        if on_committed is not None:
            on_committed(result)

    return committed
