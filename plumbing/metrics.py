"""Prometheus metrics, correct across processes: prometheus-client's multiprocess mode.

Every process of a deployment (the web processes, the order worker, the ticker, ...)
writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` (``scripts/serve.py`` makes
a fresh one for all of them), and ``GET /metrics`` on any web process adds them up.
Without the variable (a test, a single process) metrics live in the process's memory
and ``/metrics`` shows that process's. Knows no metric of its own: the apps define
theirs (``orders/metrics.py``, ``sales/live/metrics.py``).
"""

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> tuple[bytes, str]:
    """The text of ``/metrics`` and its content type."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Drop a dead process's live gauges (``scripts/serve.py`` calls it when a child exits)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)
