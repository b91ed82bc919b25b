#!/usr/bin/env python3
"""Redis's share of a buy, on one Redis or a Redis Cluster: purchases without HTTP or Kafka.

    python bench/shards.py [--sales N] [--seconds S] [--processes P] [--concurrency C]

Loads N throwaway sales (ids from 900001, units and limit far above what a run takes), then P
processes of C coroutines each call ``sales.inventory.reserve`` (the buy path's own call: the
pipelined client, the purchase script) on the sales round-robin, each buy a new buyer, for S
seconds. Prints the reservations per second, and per master what Redis itself reports:
script calls and the microseconds each took inside Redis (``INFO commandstats``, reset first),
and the CPU the master's process used meanwhile per call (``/proc/<pid>/stat``, reading and
writing the sockets included: the figure that says what one core of that master could do
alone, 1e6 / µs per call; local Redis processes only). Run it with the stack's
environment of each mode (``eval "$(scripts/stack env)"``, then with ``STACK_REDIS_CLUSTER=1``).
"""

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seckill_site.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django

django.setup()

from django.conf import settings  # noqa: E402

from plumbing.redis_clients import sync_redis  # noqa: E402
from sales import inventory  # noqa: E402

FIRST_SALE = 900_001
UNITS = 10_000_000


def masters() -> list:
    """(name, redis.Redis) of every master: the one server, or each master of the cluster."""
    client = sync_redis()
    if not settings.REDIS_CLUSTER:
        return [(settings.REDIS_URL, client)]
    return [(node.name, client.get_redis_connection(node)) for node in client.get_primaries()]


def load(sales: list[int]) -> None:
    now = int(time.time() * 1000)
    for sale_id in sales:
        inventory.forget(sale_id)  # nothing left of an earlier run
        inventory.load(
            sale_id,
            total=UNITS,
            starts_ms=now - 60_000,
            ends_ms=now + 3_600_000,
            limit=UNITS,
            price="1.00",
            sold=0,
            title="bench",
            fresh=True,
        )


def drive(worker: int, sales: list[int], seconds: float, concurrency: int, counts) -> None:
    async def buyer(lane: int) -> int:
        done, i = 0, 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sale_id = sales[(lane + i) % len(sales)]
            i += 1
            buyer_id = (worker * 1_000 + lane) * 1_000_000 + i
            await inventory.reserve(sale_id, buyer_id, str(uuid.uuid4()), rate_limit=0)
            done += 1
        return done

    async def main() -> int:
        return sum(await asyncio.gather(*(buyer(lane) for lane in range(concurrency))))

    counts[worker] = asyncio.run(main())


def cpu_seconds(node) -> float:
    """CPU seconds (user + system) the node's process has used (it runs on this machine)."""
    pid = node.info("server")["process_id"]
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def purchase_stats(node) -> tuple[int, float]:
    """(calls, µs per call) of scripts on a node (the purchase script: evalsha, eval the first time)."""
    stats = node.info("commandstats")
    calls = sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("evalsha", "eval"))
    usec = sum(stats.get(f"cmdstat_{c}", {}).get("usec", 0) for c in ("evalsha", "eval"))
    return calls, (usec / calls if calls else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    sales = list(range(FIRST_SALE, FIRST_SALE + args.sales))
    load(sales)
    nodes = masters()
    for _, node in nodes:
        node.config_resetstat()
    cpu_before = [cpu_seconds(node) for _, node in nodes]
    counts = multiprocessing.Array("q", args.processes)
    workers = [
        multiprocessing.Process(target=drive, args=(w, sales, args.seconds, args.concurrency, counts))
        for w in range(args.processes)
    ]
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    took = time.monotonic() - started
    cpu_used = [cpu_seconds(node) - before for (_, node), before in zip(nodes, cpu_before, strict=True)]
    total = sum(counts[:])
    mode = "cluster" if settings.REDIS_CLUSTER else "one Redis"
    print(f"{mode}: {args.sales} sale(s), {args.processes} x {args.concurrency} buyers, {took:.1f} s")
    print(f"  reservations: {total:,} ({total / took:,.0f}/s)")
    for (name, node), cpu in zip(nodes, cpu_used, strict=True):
        calls, per_call = purchase_stats(node)
        process = cpu / calls * 1e6 if calls else 0.0
        ceiling = f"{1e6 / process:,.0f}/s on one core" if process else "-"
        print(
            f"  {name}: {calls:,} purchases, {per_call:.1f} µs each in the script, "
            f"{process:.1f} µs of the process's CPU each ({cpu / took:.2f} cores) -> {ceiling}"
        )
    for sale_id in sales:
        inventory.forget(sale_id)


if __name__ == "__main__":
    main()
