"""The load spread over several generator processes: ``run_load_in_processes(plan, n)``.

One asyncio process sends about 9,000 requests a second on a third of a core here;
when a faster site (or a bigger machine) needs more, the generator itself must not
be what limits the rate. Each process gets every ``n``-th buyer and its share of the
connections, keeps each buyer's due time of the single-process plan, and sends its
``Recording`` back; the parent merges them and shows the live totals of all.

The child processes are spawned, not forked: they import only ``loadtest.client``
(no Django, no database connection shared with the parent).
"""

import ctypes
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import uvloop

from loadtest.client import CATEGORIES, TICK, Live, LoadPlan, Recording, run_load

# Per process in the shared array: sent, answered, then the answers per category.
_SLOTS = 2 + len(CATEGORIES)


def split(plan: LoadPlan, n: int) -> list[LoadPlan]:
    """``n`` plans that together send what ``plan`` sends, on the same schedule."""
    n = max(1, min(n, len(plan.buyers)))
    share = [plan.concurrency // n + (1 if k < plan.concurrency % n else 0) for k in range(n)]
    return [
        replace(
            plan,
            buyers=plan.buyers[k::n],
            concurrency=max(1, share[k]),
            offset=plan.offset + k * plan.stride,
            stride=plan.stride * n,
            total=plan.total or len(plan.buyers),
        )
        for k in range(n)
    ]


def merge(recordings: list[Recording]) -> Recording:
    """One recording of all the processes' requests (their clocks share ``t0_epoch``)."""
    merged = Recording(t0_epoch=recordings[0].t0_epoch, processes=len(recordings))
    for rec in recordings:
        merged.sent.extend(rec.sent)
        merged.latency.extend(rec.latency)
        merged.category.extend(rec.category)
        merged.reserved.extend(rec.reserved)
        merged.details.update(rec.details)
        merged.start_lag.extend(rec.start_lag)
        merged.admission.extend(rec.admission)
        merged.loop_lag.extend(rec.loop_lag)
        merged.cpu_seconds += rec.cpu_seconds
        merged.wall_seconds = max(merged.wall_seconds, rec.wall_seconds)
        merged.connections += rec.connections
    return merged


# This child's view of the shared array (set by the pool's initializer).
_totals: ctypes.Array[ctypes.c_longlong] | None = None


def _share(totals: ctypes.Array[ctypes.c_longlong]) -> None:
    global _totals
    _totals = totals


def _child(plan: LoadPlan, slot: int) -> Recording:
    base = slot * _SLOTS
    totals = _totals
    assert totals is not None  # the pool's initializer ran first

    def tick(live: Live) -> None:
        totals[base] = live.sent
        totals[base + 1] = live.answered
        # mypy's ctypes plugin takes a slice's value for an (invariant) list[c_longlong | int]
        totals[base + 2 : base + _SLOTS] = live.counts  # type: ignore[assignment]

    recording = uvloop.run(run_load(plan, tick))
    answered = len(recording.category)
    tick(
        Live(
            planned=0,
            sent=answered,
            answered=answered,
            counts=[recording.category.count(c) for c in range(len(CATEGORIES))],
        )
    )
    return recording


def run_load_in_processes(plan: LoadPlan, n: int, on_tick=None) -> Recording:
    plans = split(plan, n)
    context = multiprocessing.get_context("spawn")
    totals = context.RawArray("q", _SLOTS * len(plans))
    done = threading.Event()

    def report():
        live = Live(planned=len(plan.buyers) * plan.attempts)
        last_answered, last_at = 0, time.monotonic()
        while not done.wait(TICK):
            values = list(totals)
            rows = [values[k * _SLOTS : (k + 1) * _SLOTS] for k in range(len(plans))]
            live.sent = sum(row[0] for row in rows)
            live.answered = sum(row[1] for row in rows)
            live.counts = [sum(row[2 + c] for row in rows) for c in range(len(CATEGORIES))]
            now = time.monotonic()
            live.elapsed = max(0.0, time.time() - plan.start_epoch)
            live.rate = (live.answered - last_answered) / (now - last_at)
            last_answered, last_at = live.answered, now
            if on_tick is not None:
                on_tick(live)

    reporter = threading.Thread(target=report, daemon=True)
    reporter.start()
    try:
        with ProcessPoolExecutor(len(plans), mp_context=context, initializer=_share, initargs=(totals,)) as pool:
            futures = [pool.submit(_child, p, k) for k, p in enumerate(plans)]
            recordings = [f.result() for f in futures]
    finally:
        done.set()
        reporter.join()
    return merge(recordings)
