#!/usr/bin/env python3
"""Benchmarks of the local stack (not tests): the numbers behind bench/RESULTS.md.

    scripts/run &                      # the site on :8000 (2 daphne + consume_orders)
    python bench/bench.py all          # or one of: seed stampede wrk djangoview consumer client

- ``seed``/``stampede``: ``manage.py loadtest --scenario ...`` end to end, with
  its JSON and HTML report in ``--out``.
- ``wrk``: the server's ceiling on the full reserve path (a sale with 10 million
  units and a limit as high, bearer tokens rotated over 20,000 buyers so none
  hits the rate limit), and on the rejection path (a sale with 0 units left).
- ``djangoview``: the same purchase as a regular Django view through the full
  middleware stack (``bench/djangoview``), under ``scripts/serve.py`` with the
  same number of daphne processes on port 8001, driven by the same wrk
  command; printed as a ratio to the hot path.
- ``consumer``: N order events with their reservations, then
  ``consume_orders --max-messages N`` timed alone → orders/s.
- ``client``: the load generator's httptools client against aiohttp and httpx,
  client CPU per request (``bench/client_cost.py``).

The machine is small and shared: run it when nothing else is busy, and read
one run's figures as indications, not as a distribution.
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seckill_site.settings.base")

import django  # noqa: E402

django.setup()

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.utils import timezone  # noqa: E402

from orders import events  # noqa: E402
from orders.models import Order  # noqa: E402
from plumbing.kafka.config import admin_config, producer_config  # noqa: E402
from sales import inventory  # noqa: E402
from sales.buyers import create_buyers, mint_token  # noqa: E402
from sales.services import create_sale  # noqa: E402

WRK_BUYERS = 20_000
BIG = 10_000_000


def say(text: str) -> None:
    print(f"[bench] {text}", flush=True)


# ------------------------------------------------------------------ presets


def preset(name: str, url: str, out: Path) -> dict:
    json_path, html_path = out / f"{name}.json", out / f"{name}.html"
    command = [sys.executable, "manage.py", "loadtest", "--scenario", name, "--url", url]
    command += ["--json", str(json_path), "--report", str(html_path)]
    say(" ".join(["python", *command[1:]]))
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    (out / f"{name}.log").write_text(done.stdout + done.stderr)
    if not json_path.exists():
        raise RuntimeError(f"loadtest {name} wrote no JSON:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    data = json.loads(json_path.read_text())
    s, g = data["summary"], data["generator"]
    figures = {
        "exit": done.returncode,
        "verified": data["verification"]["passed"],
        "requests": s["requests"],
        "counts": s["counts"],
        "answers_per_s": round(s["throughput"]),
        "duration_s": round(s["duration"], 2),
        "p50_ms": round(s["latency"]["p50"] * 1000, 1),
        "p90_ms": round(s["latency"]["p90"] * 1000, 1),
        "p99_ms": round(s["latency"]["p99"] * 1000, 1),
        "max_ms": round(s["latency"]["max"] * 1000, 1),
        "by_status": {
            k: {q: round(v * 1000, 1) for q, v in lat.items()} for k, lat in s.get("latency_by_status", {}).items()
        },
        "sell_out_s": s["sell_out_at"] and round(s["sell_out_at"], 2),
        "rows": data["verification"]["rows"],
        "rows_after_last_answer_s": s["rows_after_last_answer"],
        "rows_after_last_reserved_s": s.get("rows_after_last_reserved"),
        "generator_cpu_ratio": round(g["cpu_ratio"], 2),
        "generator_loop_lag_p90_ms": g["loop_lag_p90"] and round(g["loop_lag_p90"] * 1000, 1),
        "generator_saturated": g["saturated"],
    }
    say(f"{name}: {json.dumps(figures)}")
    return figures


def warm_up(url: str) -> None:
    """A small throwaway run first: each daphne process connects its Kafka producer
    on its first buy (about half a second), which is not what the presets measure."""
    command = [sys.executable, "manage.py", "loadtest", "--url", url, "--stock", "50", "--buyers", "400"]
    say("warm-up: " + " ".join(["python", *command[1:]]))
    subprocess.run([*command, "--start-in", "1"], cwd=ROOT, capture_output=True, check=False)


# ------------------------------------------------------------------ wrk


def wrk_target(out: Path, stock: int = BIG) -> tuple[int, Path]:
    """A sale open now with ``stock`` units and as high a limit, and a tokens file."""
    tokens = out / "tokens.txt"
    if not tokens.exists():
        say(f"creating {WRK_BUYERS:,} buyers for wrk")
        ids = create_buyers(WRK_BUYERS, prefix="wrk")
        tokens.write_text("\n".join(mint_token(i) for i in ids) + "\n")
    sale = create_sale(
        title=f"wrk {stock}",
        stock=stock,
        price=Decimal("1.00"),
        starts_at=timezone.now() - timedelta(seconds=1),
        duration=timedelta(hours=2),
        limit_per_buyer=max(stock, 1),
    )
    return sale.pk, tokens


def wrk(url: str, sale_id: int, tokens: Path, prefix: str, duration: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", str(ROOT / "bench" / "wrk_buy.lua"), url]
    command += ["--", str(sale_id), str(tokens), prefix]
    # a short warm-up first: every process opens its Redis pool and Kafka producer
    subprocess.run([*command[:3], "-d2s", *command[4:]], capture_output=True, check=False)
    say(" ".join(command))
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(_wrk_figure(r"Requests/sec:\s+([\d.]+)", text))
    statuses = dict(re.findall(r"(\d{3})=(\d+)", _wrk_figure(r"statuses:(.*)", text)))
    latency = dict(re.findall(r"(p50|p90|p99|max)=([\d.]+)", _wrk_figure(r"latency_ms:(.*)", text)))
    figures = {"req_per_s": round(rate), "statuses": statuses, "latency_ms": latency}
    say(f"  → {json.dumps(figures)}")
    return figures


def _wrk_figure(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{text}")
    return match.group(1)


def bench_wrk(url: str, out: Path, duration: int, connections: int) -> dict:
    sale_id, tokens = wrk_target(out)
    reserve = wrk(url, sale_id, tokens, "/api/sales/", duration, connections)
    sold_out, _ = wrk_target(out, stock=0)
    reject = wrk(url, sold_out, tokens, "/api/sales/", duration, connections)
    return {"reserve": reserve, "sold_out": reject}


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


def bench_djangoview(url: str, out: Path, duration: int, connections: int, rounds: int = 3, port: int = 8001) -> dict:
    """wrk the same purchase as a plain Django view and on the hot path, alternating
    ``rounds`` times (the machine is noisy and the site's consumer writes each
    run's orders during the next one); medians and their ratio."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.djangoview.settings", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "scripts/serve.py", "--port", str(port), "--consumers", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    views, hots = [], []
    try:
        wait_for_port(port)
        time.sleep(2)
        for _ in range(rounds):
            sale_id, tokens = wrk_target(out)
            views.append(wrk(f"http://127.0.0.1:{port}", sale_id, tokens, "/bench/sales/", duration, connections))
            sale_id, tokens = wrk_target(out)
            hots.append(wrk(url, sale_id, tokens, "/api/sales/", duration, connections))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    view = statistics.median(r["req_per_s"] for r in views)
    hot = statistics.median(r["req_per_s"] for r in hots)
    ratio = hot / max(1, view)
    say(f"median hot path {hot:.0f}/s, median Django view {view:.0f}/s: {ratio:.1f}x")
    return {"django_view": views, "hot_path": hots, "median_view": view, "median_hot": hot, "ratio": round(ratio, 2)}


# ------------------------------------------------------------------ consumer


def bench_consumer(n: int, batch_size: int = 1000, profile: str | None = None) -> dict:
    """Produce ``n`` events with their reservations, then time consume_orders alone."""
    run = uuid.uuid4().hex[:8]
    topic, dlq, group = f"bench-orders-{run}", f"bench-orders-{run}.dlq", f"bench-{run}"
    admin = AdminClient(admin_config())
    for future in admin.create_topics(
        [NewTopic(topic, num_partitions=settings.ORDERS_TOPIC_PARTITIONS, replication_factor=1), NewTopic(dlq, 1, 1)]
    ).values():
        future.result()
    try:
        buyers = create_buyers(1000, prefix="bench-consumer")
        sale = create_sale(title="consumer bench", stock=n, price=Decimal("1.00"), limit_per_buyer=n)
        say(f"producing {n:,} order events to {topic} (sale {sale.pk})")
        producer = Producer(producer_config(client_id="bench-consumer", delivery_timeout=30))
        now = timezone.now()
        for start in range(0, n, 5000):
            holds = [(buyers[i % len(buyers)], str(uuid.uuid4())) for i in range(start, min(start + 5000, n))]
            taken = inventory.reserve_many(sale.pk, holds)
            assert all(isinstance(t, inventory.Hold) for t in taken), "the bench sale refused a reservation"
            for buyer, order_id in holds:
                event = events.encode(order_id, sale.pk, buyer, "1.00", now)
                producer.produce(topic, key=order_id.encode(), value=event)
            producer.poll(0)
        assert producer.flush(60) == 0, "events not delivered"

        env = {**os.environ, "ORDERS_TOPIC": topic, "ORDERS_DLQ_TOPIC": dlq}
        command = ["python", "manage.py", "consume_orders", "--max-messages", str(n), "--group", group]
        command += ["--batch-size", str(batch_size)]
        say(" ".join(command) + f"  (ORDERS_TOPIC={topic})")
        argv = [sys.executable, *command[1:]]
        if profile:  # py-spy (pip install py-spy) samples the consumer; raw stacks for flamegraph.pl
            argv = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", profile, "--", *argv]
        started = time.monotonic()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        rows = Order.objects.filter(sale=sale)
        span = rows.aggregate(first=Min("created_at"), last=Max("created_at"))
        written = rows.count()
        steady = (span["last"] - span["first"]).total_seconds() if written else 0
        figures = {
            "events": n,
            "rows": written,
            "wall_s": round(wall, 2),
            "orders_per_s_incl_startup": round(written / wall),
            "first_to_last_row_s": round(steady, 2),
            "orders_per_s_steady": round(written / steady) if steady > 0 else None,
            "exit": done.returncode,
            "output": done.stdout.strip().splitlines()[-1:],
        }
        say(f"  → {json.dumps(figures)}")
        return figures
    finally:
        admin.delete_topics([topic, dlq])


# ------------------------------------------------------------------ main


def client_cost(url: str) -> str:
    text = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "client_cost.py"), f"{url}/api/sales/{_any_sale()}", "4000", "32"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    say(text.strip())
    return text


def _any_sale() -> int | None:
    from sales.models import Sale

    return Sale.objects.order_by("-pk").values_list("pk", flat=True).first()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", nargs="*", default=["all"], help="all, seed, stampede, wrk, djangoview, consumer, client"
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="/tmp/seckill-bench", help="directory for reports, JSON and logs")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--events", type=int, default=50_000, help="order events for the consumer benchmark")
    parser.add_argument("--profile-consumer", metavar="FILE", help="run the consumer under py-spy, stacks to FILE")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.what)
    if "all" in wanted:
        wanted = {"client", "seed", "stampede", "wrk", "djangoview", "consumer"}
    results: dict[str, object] = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "cpus": os.cpu_count()}
    if "client" in wanted:
        results["client"] = client_cost(args.url)
    if wanted & {"seed", "stampede"}:
        warm_up(args.url)
    for name in ("seed", "stampede"):
        if name in wanted:
            results[name] = preset(name, args.url, out)
    if "wrk" in wanted:
        results["wrk"] = bench_wrk(args.url, out, args.duration, args.connections)
    if "djangoview" in wanted:
        results["djangoview"] = bench_djangoview(args.url, out, args.duration, args.connections)
    if "consumer" in wanted:
        results["consumer"] = bench_consumer(args.events, profile=args.profile_consumer)
    path = out / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1))
    say(f"all figures in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
