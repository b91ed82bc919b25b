"""Prometheus metrics, correct across processes: prometheus-client's multiprocess mode.

Every process of a deployment (the web processes, the order worker, the ticker, ...)
writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` (``scripts/serve.py`` makes
a fresh one for all of them), and ``GET /metrics`` on any web process adds them up.
Without the variable (a test, a single process) metrics live in the process's memory
and ``/metrics`` shows that process's. Knows no metric of its own: the apps define
theirs (``orders/metrics.py``, ``sales/live/metrics.py``) with the ``Counter``, ``Gauge`` and
``Histogram`` exported here, so that they are made after the file naming below is set.
"""

import asyncio
import os
import socket
import time
from bisect import bisect_left

from prometheus_client import (  # noqa: F401 - the apps make their metrics with these
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def process_identifier(pid: int | None = None) -> str:
    """What names a process's sample files: the host name and the pid. prometheus-client's own
    is the pid alone, and the containers of docker/compose.yml share the directory while each
    runs its command as pid 1: their files would be one file."""
    return f"{socket.gethostname()}-{os.getpid() if pid is None else pid}"


if MULTIPROCESS:
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)


def exposition() -> tuple[bytes, str]:
    """The text of ``/metrics`` and its content type (this process's buffered samples flushed first)."""
    flush_all()
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Drop a dead process's live gauges (``scripts/serve.py`` calls it when a child exits)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(process_identifier(pid))


class _Buffered:
    """Counts kept in plain Python numbers and added to their Prometheus metric once a second.

    A sample written straight through prometheus-client's multiprocess mode takes its lock
    and writes its mmapped file every time: on the buy path, where most answers cost a few
    microseconds (the sold-out flag), that was 30 % of the stampede's throughput (median
    12,642 answers/s without metrics against 8,877 with them, bench/RESULTS.md). Buffered,
    a sample is an add to a number; the flush, at most once a second per process (or when
    ``/metrics`` is read), is a handful of writes. For one event loop's use (the web
    processes run one): the metrics lag by at most ``FLUSH_EVERY``.
    """

    def flush(self) -> None:  # pragma: no cover - each kind has its own
        raise NotImplementedError


FLUSH_EVERY = 1.0
_buffers: list[_Buffered] = []
_next_flush = 0.0
_timer = None


def _due() -> None:
    global _next_flush, _timer
    now = time.monotonic()
    if now >= _next_flush:
        _next_flush = now + FLUSH_EVERY
        flush_all()
    if _timer is None:  # so that a process that stops getting requests still flushes its last ones
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        _timer = loop.call_later(FLUSH_EVERY, _tick)


def _tick() -> None:
    global _timer
    _timer = None
    flush_all()


def flush_all() -> None:
    for buffer in _buffers:
        buffer.flush()


class BufferedCounter(_Buffered):
    """``inc(label)`` of a Counter with one label, buffered."""

    def __init__(self, counter):
        self._counter = counter
        self._pending: dict[str, int] = {}
        _buffers.append(self)

    def inc(self, label: str) -> None:
        self._pending[label] = self._pending.get(label, 0) + 1
        _due()

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for label, n in pending.items():
            self._counter.labels(label).inc(n)


class BufferedHistogram(_Buffered):
    """``observe(seconds)`` of a Histogram without labels, buffered. Adds to the histogram's own
    bucket and sum values, as its ``observe`` does (prometheus-client 0.26; pinned)."""

    def __init__(self, histogram):
        self._histogram = histogram
        self._bounds = list(histogram._upper_bounds)
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0
        _buffers.append(self)

    def observe(self, amount: float) -> None:
        self._counts[bisect_left(self._bounds, amount)] += 1
        self._sum += amount
        _due()

    def flush(self) -> None:
        counts, total = self._counts, self._sum
        if not any(counts):
            return
        self._counts, self._sum = [0] * len(self._bounds), 0.0
        self._histogram._sum.inc(total)
        for bucket, n in zip(self._histogram._buckets, counts, strict=True):
            if n:
                bucket.inc(n)
