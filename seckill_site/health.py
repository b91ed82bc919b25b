"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics``, answered ahead of Django like the buy path.

- ``/metrics``: Prometheus's text format, every process's samples added up
  (``plumbing.metrics``); read from files, so in a thread.

- ``/healthz``: the process answers; no I/O, so a load balancer's probe costs nothing.
- ``/readyz``: what a buy needs answers: Redis (a PING on the hot path's own connection),
  the Kafka brokers (a metadata request for the order topic through the process's
  producer) and the database (``SELECT 1``), each within ``CHECK_TIMEOUT``, all at once.
  ``200 {"status": "ready"}`` or ``503 {"status": "unready", "failing": [...]}``. The
  answer is kept ``CACHE_SECONDS``, so a burst of probes costs one round of checks.
"""

import asyncio
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from orders.placing import order_producer
from plumbing.http import send_json, status_body
from plumbing.metrics import exposition
from plumbing.redis_clients import pipelined_redis

CHECK_TIMEOUT = 1.0
CACHE_SECONDS = 1.0
_last: tuple[float, list[str]] | None = None


async def _redis() -> bool:
    return await pipelined_redis().execute("PING") == b"PONG"


async def _kafka() -> bool:
    return await asyncio.to_thread(order_producer().brokers_answer, settings.ORDERS_TOPIC, CHECK_TIMEOUT)


@sync_to_async
def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    finally:
        connection.close()  # a probe's thread keeps no connection open


CHECKS = {"redis": _redis, "kafka": _kafka, "database": _database}


async def _one(check) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), CHECK_TIMEOUT + 0.5))
    except Exception:  # any failure is "not ready", never a 500
        return False


async def failing() -> list[str]:
    global _last
    now = time.monotonic()
    if _last is not None and now - _last[0] < CACHE_SECONDS:
        return _last[1]
    results = await asyncio.gather(*(_one(check) for check in CHECKS.values()))
    found = [name for name, ok in zip(CHECKS, results, strict=True) if not ok]
    _last = (time.monotonic(), found)
    return found


async def healthz(scope, send) -> None:
    await send_json(send, 200, status_body("ok"))


async def readyz(scope, send) -> None:
    down = await failing()
    if down:
        return await send_json(send, 503, {"status": "unready", "failing": down})
    return await send_json(send, 200, status_body("ready"))


async def metrics(scope, send) -> None:
    payload, content_type = await asyncio.to_thread(exposition)
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": [*headers, (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": payload})
