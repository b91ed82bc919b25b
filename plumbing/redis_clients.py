"""Redis clients, all on ``settings.REDIS_URL``: django-redis for synchronous code,
redis-py asyncio for the websocket side, and the pipelined client of
``plumbing.redis_pipe`` for the buy hot path.

The asyncio clients are made once per event loop (daphne runs one loop per
process; tests run several).
"""

import asyncio

import redis.asyncio
from django.conf import settings
from django_redis import get_redis_connection

from plumbing.redis_pipe import PipelinedRedis

_async_clients: dict[int, redis.asyncio.Redis] = {}
_pipelined_clients: dict[int, PipelinedRedis] = {}


def sync_redis():
    return get_redis_connection("default")


def async_redis() -> redis.asyncio.Redis:
    loop_id = id(asyncio.get_running_loop())
    client = _async_clients.get(loop_id)
    if client is None:
        # A blocking pool makes a burst wait for a connection instead of failing.
        pool = redis.asyncio.BlockingConnectionPool.from_url(settings.REDIS_URL, max_connections=256, timeout=5)
        client = _async_clients[loop_id] = redis.asyncio.Redis(connection_pool=pool)
    return client


def pipelined_redis() -> PipelinedRedis:
    """The hot path's client (see ``plumbing.redis_pipe`` for why it is not redis-py's)."""
    loop_id = id(asyncio.get_running_loop())
    client = _pipelined_clients.get(loop_id)
    if client is None:
        client = _pipelined_clients[loop_id] = PipelinedRedis(settings.REDIS_URL)
    return client
