"""Worker liveness: each long-running command beats from its own loop, ``check_workers`` reads them.

A beat is a Redis key ``heartbeat:<name>:<host>:<pid>`` holding Redis's time (one clock
for every host and process: theirs may differ), with a TTL of
``STALE`` seconds: a worker whose loop stopped turning (hung, killed, its Redis gone)
disappears within that. Beats from the loop itself, not from a side thread, so a loop
stuck in a handler stops beating. At most one write a second per worker.
"""

import os
import socket
import time

from plumbing.redis_clients import sync_redis

STALE = 30  # seconds without a beat before a worker counts as gone
_last: dict[str, float] = {}


def beat(name: str) -> None:
    now = time.time()
    if now - _last.get(name, 0.0) < 1.0:
        return
    _last[name] = now
    try:
        r = sync_redis()
        seconds, micros = r.time()
        r.set(f"heartbeat:{name}:{socket.gethostname()}:{os.getpid()}", f"{seconds + micros / 1e6:.3f}", ex=STALE)
    except Exception:  # liveness reporting must never stop the worker
        _last.pop(name, None)


def alive() -> list[tuple[str, str, int, float]]:
    """(name, host, pid, seconds since its last beat) of every worker beating."""
    r = sync_redis()
    found = []
    seconds, micros = r.time()
    now = seconds + micros / 1e6
    for key in r.scan_iter("heartbeat:*"):
        _, name, host, pid = key.decode().split(":", 3)
        value = r.get(key)
        if value is not None:
            found.append((name, host, int(pid), now - float(value)))
    return sorted(found)
