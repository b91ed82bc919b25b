#!/usr/bin/env python3
"""Kafka produce → acknowledgement latency of the project's producer, alone.

    python bench/producer_latency.py [RATE] [COUNT]

Sends COUNT events at RATE per second through ``plumbing.kafka.producer.AsyncProducer``
with ``order_producer_config()``, then with a few overrides (``linger.ms`` 0, Nagle off),
to a throwaway topic with the order topic's replication factor and ``min.insync.replicas``
(``ORDERS_TOPIC_REPLICATION_FACTOR``, ``ORDERS_TOPIC_MIN_INSYNC_REPLICAS``: 1 and 1 on the single
stack, 3 and 2 on the three-broker one), and prints the percentiles of the time until each
event's delivery report. Tells how much of the reserve path's latency is the broker's, and
what replication adds (run it with each stack's environment).
"""

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seckill_site.settings.base")

import django

django.setup()

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from django.conf import settings  # noqa: E402

from orders.placing import order_producer_config  # noqa: E402
from plumbing.kafka.config import admin_config  # noqa: E402
from plumbing.kafka.producer import AsyncProducer  # noqa: E402

VARIANTS: tuple[dict[str, int | bool], ...] = (
    {},
    {"linger.ms": 0},
    {"socket.nagle.disable": True},
    {"linger.ms": 0, "socket.nagle.disable": True},
)


async def measure(topic: str, rate: float, count: int, overrides: dict) -> str:
    producer = AsyncProducer({**order_producer_config(), **overrides})
    for i in range(100):  # the connections to every partition's leader, and the broker's fetch sessions
        await producer.send(topic, f"warm-up-{i}".encode(), b"{}")
    latencies: list[float] = []

    async def one(i: int) -> None:
        started = time.perf_counter()
        await producer.send(topic, str(i).encode(), b'{"v": 1, "padding": "' + b"x" * 120 + b'"}')
        latencies.append(time.perf_counter() - started)

    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*tasks)
    producer.close()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    name = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "order_producer_config()"
    return f"{name:42} p50 {pct(50):5.1f} ms  p90 {pct(90):5.1f}  p99 {pct(99):5.1f}  max {latencies[-1] * 1000:5.1f}"


def main() -> None:
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 200
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    topic = f"bench-producer-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(admin_config())
    replicas = settings.ORDERS_TOPIC_REPLICATION_FACTOR
    in_sync = settings.ORDERS_TOPIC_MIN_INSYNC_REPLICAS
    new = NewTopic(topic, num_partitions=3, replication_factor=replicas, config={"min.insync.replicas": str(in_sync)})
    for future in admin.create_topics([new]).values():
        future.result()
    # a new topic's followers join its ISR within a few seconds: measure after they have
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions.values()
        if partitions and all(len(p.isrs) == replicas for p in partitions):
            break
        time.sleep(0.2)
    try:
        print(f"{count} events at {rate:g}/s to {topic} (replication factor {replicas}, min in sync {in_sync})")
        for overrides in VARIANTS:
            print(asyncio.run(measure(topic, rate, count, overrides)))
    finally:
        admin.delete_topics([topic])


if __name__ == "__main__":
    main()
