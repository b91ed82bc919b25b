#!/usr/bin/env python
"""Fan-out benchmark: N websocket viewers on one sale while purchases run.

Run against the site of ``scripts/run`` (N daphne processes + the stock ticker):

    python bench/fanout.py --viewers 1000 5000 10000

For each N it opens N viewers on a fresh sale, runs purchases over HTTP for a
few seconds (then buys the rest so the sale sells out), and prints: viewers
connected, updates received per viewer (median, max), the delay from a stock
change to its receipt (p50/p99), and how many viewers received the final value.

The delay of a message with ``remaining = r`` is measured from the moment the
request that took stock to ``r`` was *sent* (the change happened between send
and answer), so it is an upper bound that includes the buy's own latency.
"""

import argparse
import asyncio
import os
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seckill_site.settings.base")


def setup_django():
    import django

    django.setup()


FINAL_WAIT = 120  # seconds the viewers may take to receive the final value


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Viewer:
    def __init__(self):
        self.messages: list[tuple[float, int, str]] = []
        self.connected = False
        self.lost = ""  # why the socket ended before the run did


async def watch(session, url, origin, viewer: Viewer, ready: asyncio.Event, stop: asyncio.Event):
    try:
        # Origin as a browser sends it: the site refuses cross-origin sockets.
        timeout = aiohttp.ClientWSTimeout(ws_close=5)
        async with session.ws_connect(url, origin=origin, heartbeat=None, timeout=timeout) as ws:
            viewer.connected = True
            ready.set()
            # ws.receive's own timeout, not asyncio.wait_for (a task per message), and orjson:
            # the viewers share the cores with the site and must cost as little as they can.
            while not stop.is_set():
                try:
                    msg = await ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                received = time.monotonic()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    viewer.lost = msg.type.name
                    break
                data = orjson.loads(msg.data)
                if data.get("type") == "stock":
                    viewer.messages.append((received, data["remaining"], data["state"]))
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        viewer.lost = type(exc).__name__


async def buy_loop(session, url, tokens, rate, seconds, changes: dict[int, float]):
    """Buy at ``rate``/s for ``seconds``; record when each remaining value was sent for."""
    interval = 1 / rate
    started = time.monotonic()
    pending = set()

    async def one(token):
        sent = time.monotonic()
        async with session.post(url, headers={"Authorization": f"Bearer {token}"}) as r:
            body = await r.json()
        if body.get("status") == "reserved":
            changes.setdefault(body["remaining"], sent)

    for i, token in enumerate(tokens):
        due = started + i * interval
        if due - started > seconds:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        pending.add(asyncio.create_task(one(token)))
    await asyncio.gather(*pending, return_exceptions=True)
    return tokens[i:]


async def _viewers_main(url, origin, n, connected_q, stop_evt, final_value, result_q):
    viewers = [Viewer() for _ in range(n)]
    stop = asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = []
        for i, viewer in enumerate(viewers):
            tasks.append(asyncio.create_task(watch(session, url, origin, viewer, asyncio.Event(), stop)))
            if i % 200 == 199:
                await asyncio.sleep(0.05)  # don't SYN-flood our own listen queue
        deadline = time.monotonic() + 60
        while sum(v.connected for v in viewers) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        for v in viewers:
            v.messages.clear()  # count only what the purchases cause
        connected_q.put(sum(v.connected for v in viewers))
        # Until told the final value, then until every viewer has it (or stop).
        while not stop_evt.is_set():
            final = final_value.value
            if final >= 0 and all(
                v.messages and v.messages[-1][1] == final for v in viewers if v.connected and not v.lost
            ):
                break
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    result_q.put([(v.connected, v.messages, v.lost) for v in viewers])


def viewers_process(url, origin, n, connected_q, stop_evt, final_value, result_q):
    """A separate process of viewers, so the buyer's event loop is not theirs."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_viewers_main(url, origin, n, connected_q, stop_evt, final_value, result_q))


async def run_one(base, ws_base, n_viewers, stock, rate, seconds, processes):
    import multiprocessing as mp

    from asgiref.sync import sync_to_async

    from sales import inventory
    from sales.buyers import create_buyers, mint_token
    from sales.services import create_sale

    @sync_to_async
    def prepare():
        from decimal import Decimal

        sale = create_sale(title=f"fan-out {n_viewers}", stock=stock, price=Decimal("1.00"))
        tokens = [mint_token(b) for b in create_buyers(stock + 50)]
        return sale.pk, tokens

    sale_id, tokens = await prepare()
    ctx = mp.get_context("spawn")
    connected_q, result_q, stop_evt = ctx.Queue(), ctx.Queue(), ctx.Event()
    final_value = ctx.Value("i", -1)
    share = [n_viewers // processes + (1 if i < n_viewers % processes else 0) for i in range(processes)]
    procs = [
        ctx.Process(
            target=viewers_process,
            args=(f"{ws_base}/ws/sales/{sale_id}/", base, n, connected_q, stop_evt, final_value, result_q),
        )
        for n in share
    ]
    for p in procs:
        p.start()
    loop = asyncio.get_running_loop()
    connected = 0
    for _ in procs:
        connected += await loop.run_in_executor(None, connected_q.get)

    changes: dict[int, float] = {}
    buy_url = f"{base}/api/sales/{sale_id}/buy"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as buy_session:
        rest = await buy_loop(buy_session, buy_url, tokens, rate, seconds, changes)
        sem = asyncio.Semaphore(50)  # then sell out the rest quickly: final value 0 / sold_out

        async def finish(token):
            async with sem:
                sent = time.monotonic()
                async with buy_session.post(buy_url, headers={"Authorization": f"Bearer {token}"}) as r:
                    body = await r.json()
                if body.get("status") == "reserved":
                    changes.setdefault(body["remaining"], sent)

        await asyncio.gather(*(finish(t) for t in rest))
    purchase_seconds = max(changes.values()) - min(changes.values()) if changes else 0
    final_value.value = inventory.remaining([sale_id])[sale_id]
    loop.call_later(FINAL_WAIT, stop_evt.set)  # bound the wait for the final value
    results = []
    for _ in procs:
        results.extend(await loop.run_in_executor(None, result_q.get))
    stop_evt.set()
    for p in procs:
        p.join()

    final = inventory.remaining([sale_id])[sale_id]
    final_state = "sold_out" if final == 0 else "open"
    delays, per_viewer, got_final = [], [], 0
    lost = Counter()
    for was_connected, messages, why in results:
        if not was_connected:
            continue
        if why:
            lost[why] += 1
        per_viewer.append(len(messages))
        seen = set()
        for received, remaining, _state in messages:
            # The first receipt of each value: the ticker repeats an unchanged value every
            # few seconds, and a repeat is not a late delivery.
            if remaining in changes and remaining not in seen:
                seen.add(remaining)
                delays.append((received - changes[remaining]) * 1000)
        if messages and messages[-1][1] == final and messages[-1][2] == final_state:
            got_final += 1
    return {
        "viewers": n_viewers,
        "connected": connected,
        "purchase_seconds": purchase_seconds,
        "final": final,
        "updates_median": statistics.median(per_viewer) if per_viewer else 0,
        "updates_max": max(per_viewer) if per_viewer else 0,
        "delay_p50_ms": percentile(delays, 50),
        "delay_p99_ms": percentile(delays, 99),
        "final_value_received": got_final,
        "lost": dict(lost),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--viewers", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--stock", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=300, help="purchases per second while measuring")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--processes", type=int, default=2, help="viewer processes")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    setup_django()
    ws_base = args.url.replace("http", "ws", 1)
    print(
        f"{'viewers':>8} {'connected':>9} {'buy s':>6} {'upd/viewer med':>14} {'max':>4} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'got final':>10}"
    )
    for n in args.viewers:
        r = asyncio.run(run_one(args.url, ws_base, n, args.stock, args.rate, args.seconds, args.processes))
        print(
            f"{r['viewers']:>8} {r['connected']:>9} {r['purchase_seconds']:>6.1f} {r['updates_median']:>14} "
            f"{r['updates_max']:>4} {r['delay_p50_ms']:>7.0f} {r['delay_p99_ms']:>7.0f} "
            f"{r['final_value_received']:>6}/{r['connected']}" + (f"  lost: {r['lost']}" if r["lost"] else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
