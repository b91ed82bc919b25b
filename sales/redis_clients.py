"""Redis clients: django-redis for synchronous code, redis-py asyncio for the
websocket side, and the pipelined client of ``sales.redis_pipe`` for the buy hot path.

All talk to ``settings.REDIS_URL``. The asyncio clients are made once per event
loop (daphne runs one loop per process; tests run several).
"""

import asyncio

import redis.asyncio
from django.conf import settings
from django_redis import get_redis_connection

from sales.redis_pipe import PipelinedRedis
from sales.scripts import ScriptSet

_sync_scripts: ScriptSet | None = None
_async_clients: dict[int, redis.asyncio.Redis] = {}
_hot_clients: dict[int, tuple[PipelinedRedis, ScriptSet]] = {}


def sync_redis():
    return get_redis_connection("default")


def sync_scripts() -> ScriptSet:
    global _sync_scripts
    if _sync_scripts is None:
        _sync_scripts = ScriptSet(sync_redis())
    return _sync_scripts


def async_redis() -> redis.asyncio.Redis:
    loop_id = id(asyncio.get_running_loop())
    client = _async_clients.get(loop_id)
    if client is None:
        # A blocking pool makes a burst wait for a connection instead of failing.
        pool = redis.asyncio.BlockingConnectionPool.from_url(settings.REDIS_URL, max_connections=256, timeout=5)
        client = _async_clients[loop_id] = redis.asyncio.Redis(connection_pool=pool)
    return client


def hot_redis() -> tuple[PipelinedRedis, ScriptSet]:
    """The buy path's client (see ``sales.redis_pipe`` for why it is not redis-py's)."""
    loop_id = id(asyncio.get_running_loop())
    pair = _hot_clients.get(loop_id)
    if pair is None:
        client = PipelinedRedis(settings.REDIS_URL)
        pair = (client, ScriptSet(client))
        _hot_clients[loop_id] = pair
    return pair
