"""The buy path's and the order workers' Prometheus metrics (exposed by ``plumbing.metrics``)."""

from plumbing.metrics import BufferedCounter, BufferedHistogram, Counter, Gauge, Histogram

# Buckets for answers on a healthy hot path (ms) up to a broker time-out (s).
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# On the buy path: buffered (plumbing.metrics._Buffered says why)
BUY_ANSWERS = BufferedCounter(
    Counter("seckill_buy_answers", "Buy requests answered, by the answer's status.", ["status"])
)
BUY_LATENCY = BufferedHistogram(
    Histogram("seckill_buy_latency_seconds", "From a buy request's arrival to its answer.", buckets=_FAST)
)
KAFKA_ACK = BufferedHistogram(
    Histogram(
        "seckill_kafka_ack_seconds", "From producing an order event to the broker's acknowledgement.", buckets=_FAST
    )
)

ORDERS_WRITTEN = Counter("seckill_orders_written", "Order rows written by the order worker.")
CONSUMER_BATCH = Histogram(
    "seckill_consumer_batch_seconds", "Handling one batch of order events, commit included.", buckets=_FAST
)
DEAD_LETTERS = Counter("seckill_dead_letters", "Order events sent to the dead-letter topic.")
CONSUMER_LAG = Gauge(
    "seckill_consumer_lag", "Order events not yet read, per partition.", ["partition"], multiprocess_mode="max"
)

ORDERS_EXPIRED = Counter("seckill_orders_expired", "Orders expired unpaid by the expiry worker.")
UNITS_RETURNED = Counter("seckill_units_returned", "Units given back to their sale after an order ended.")
HOLDS_GIVEN_BACK = Counter("seckill_abandoned_holds_given_back", "Abandoned holds given back by the sweep.")
SALES_REBUILT = Counter("seckill_sales_rebuilt", "Sales whose stock was rebuilt in Redis after Redis lost it.")
RECONCILE_DIFFERENCES = Gauge(
    "seckill_reconcile_differences", "Differences the last reconcile check found.", multiprocess_mode="max"
)
