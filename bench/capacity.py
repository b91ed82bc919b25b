#!/usr/bin/env python3
"""What a buy, an order row and a broker event cost in CPU, per kind of process, during a loadtest.

    python bench/capacity.py [LOADTEST OPTIONS ...]     e.g.  python bench/capacity.py --scenario stampede

Runs ``manage.py loadtest`` with those options against the running site (``scripts/run``, or
``scripts/serve.py`` with the workers), while it samples every 0.2 s the CPU time (user +
system, ``/proc/<pid>/stat``) of each kind of process on this machine: the web processes,
Redis, Kafka, MariaDB, the order consumers, the other workers and the load generator. Over the
load and drain phases (from the first request until every row is written) it prints, per kind,
the CPU seconds, the cores it kept busy, and the microseconds per answer and per order: the
figures of README's capacity model. Linux only (``/proc``).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
INTERVAL = 0.2

# (kind, pattern on the command line); the first that matches names the process
KINDS = (
    ("load generator", re.compile(r"manage\.py loadtest")),
    ("order consumers", re.compile(r"manage\.py consume_orders")),
    ("other workers", re.compile(r"manage\.py (publish_stock|reconcile|expire_orders|release_abandoned)")),
    ("web", re.compile(r"granian|uvicorn|daphne|scripts/serve\.py|seckill_site\.(daphne_server|servers)")),
    ("redis", re.compile(r"redis-server")),
    ("kafka", re.compile(r"java .*kafka", re.S)),
    ("mariadb", re.compile(r"mariadbd|mysqld")),
)


def kind_of(cmdline: str) -> str | None:
    for kind, pattern in KINDS:
        if pattern.search(cmdline):
            return kind
    return None


def cpu_by_kind() -> dict[str, float]:
    """Kind -> CPU seconds used so far by the processes of that kind alive now."""
    totals: dict[str, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            kind = kind_of(cmdline)
            if kind is None:
                continue
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime = int(fields[11]), int(fields[12])
        totals[kind] = totals.get(kind, 0.0) + (utime + stime) / TICKS
    return totals


def used_between(samples, start: float, end: float) -> dict[str, float]:
    """CPU seconds per kind between the samples nearest ``start`` and ``end``. A process that
    started or ended in between counts from or up to its first or last sample (per-pid deltas
    would be exact; per-kind is enough for processes that live through the run)."""
    first = min(samples, key=lambda s: abs(s[0] - start))[1]
    last = min(samples, key=lambda s: abs(s[0] - end))[1]
    return {kind: max(0.0, last.get(kind, 0.0) - first.get(kind, 0.0)) for kind in {*first, *last}}


def main() -> None:
    samples: list[tuple[float, dict[str, float]]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), cpu_by_kind()))
            done.wait(INTERVAL)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, "manage.py", "loadtest", *sys.argv[1:], "--json", out.name]
        finished = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        done.set()
        sampler.join()
        if finished.returncode != 0:
            sys.exit(f"loadtest exited with {finished.returncode}")
        data = json.loads(Path(out.name).read_text())
    start = data["t0_epoch"]
    end = start + data["phases"]["load"] + data["phases"]["drain"]
    answers = sum(data["summary"]["counts"].values())
    orders = data["summary"]["counts"]["reserved"]
    used = used_between(samples, start, end)
    seconds = end - start
    print(
        f"{answers:,} answers ({orders:,} orders) in {seconds:.2f} s "
        f"(load {data['phases']['load']:.2f} s + drain {data['phases']['drain']:.2f} s), "
        f"{data['summary']['throughput']:,.0f} answers/s; verification "
        f"{'PASS' if data['verification']['passed'] else 'FAIL'}"
    )
    print(f"{'process kind':18}{'CPU s':>8}{'cores':>7}{'µs/answer':>11}{'µs/order':>10}")
    for kind, _ in KINDS:
        cpu = used.get(kind, 0.0)
        per_answer = cpu / answers * 1e6 if answers else 0.0
        per_order = cpu / orders * 1e6 if orders else 0.0
        print(f"{kind:18}{cpu:8.2f}{cpu / seconds:7.2f}{per_answer:11.0f}{per_order:10.0f}")
    total = sum(used.values())
    print(f"{'all':18}{total:8.2f}{total / seconds:7.2f}{total / answers * 1e6 if answers else 0:11.0f}")


if __name__ == "__main__":
    main()
