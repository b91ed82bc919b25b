"""Redis clients, all on ``settings.REDIS_URL``: django-redis for synchronous code,
redis-py asyncio for the websocket side, and the pipelined client of
``plumbing.redis_pipe`` for the buy hot path. With ``settings.REDIS_CLUSTER`` each is its
Redis Cluster kind (``plumbing.redis_cluster``), with the same interface.

The asyncio clients are made once per event loop (daphne runs one loop per
process; tests run several).
"""

import asyncio
from typing import Any

import redis.asyncio
import redis.asyncio.cluster
from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import AskError, ClusterDownError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from plumbing.redis_cluster import PipelinedCluster
from plumbing.redis_pipe import Commands, PipelinedRedis

_async_clients: dict[int, Any] = {}
_pipelined_clients: dict[int, Commands] = {}


def sync_redis() -> Any:
    """django-redis's client: redis-py's ``Redis``, or its ``RedisCluster``."""
    return get_redis_connection("default")


def sync_mget_across_slots(keys: list[str]) -> list:
    """``MGET`` of keys that may be in different slots of a cluster (not atomic there)."""
    client = sync_redis()
    return client.mget_nonatomic(keys) if settings.REDIS_CLUSTER else client.mget(keys)


class SlotPipelines:
    """Pipelined commands, scripts included, over the nodes that serve their keys: one
    pipeline per node (redis-py's cluster pipeline refuses scripts), the replies in the order
    the commands were queued. ``for_key(key)`` is the pipeline for one command about ``key``:
    queue exactly one command on each pipeline it returns. On one server, one pipeline."""

    def __init__(self):
        self._client = sync_redis()
        self._pipes: dict[str, Any] = {}
        self._order: list[str] = []

    def for_key(self, key: str) -> Any:
        if settings.REDIS_CLUSTER:
            node = self._client.get_node_from_key(key)
            name = node.name
            if name not in self._pipes:
                self._pipes[name] = self._client.get_redis_connection(node).pipeline(transaction=False)
        else:
            name = ""
            if name not in self._pipes:
                self._pipes[name] = self._client.pipeline(transaction=False)
        self._order.append(name)
        return self._pipes[name]

    def execute(self) -> list:
        """The replies, in the order queued. On a cluster whose slots moved (a failover: MOVED,
        ASK, TRYAGAIN, CLUSTERDOWN) or a node lost, the slot map is read again and a
        ``ConnectionError`` raised: like a lost connection, something to retry (the callers'
        scripts are idempotent), never a refusal of the commands."""
        try:
            replies = {name: iter(pipe.execute()) for name, pipe in self._pipes.items()}
        except (RedisConnectionError, RedisTimeoutError, AskError, TryAgainError, ClusterDownError) as exc:
            if not settings.REDIS_CLUSTER:
                raise
            self._client.nodes_manager.initialize()  # learn where the slots are now
            raise RedisConnectionError(f"Redis Cluster slots moved or a node was lost: {exc}") from exc
        return [next(replies[name]) for name in self._order]


def run_ids_of(keys: list[str]) -> list[str]:
    """The ``run_id`` of the Redis server that holds each key: the one server's, or on a cluster
    that of the master serving the key's slot now."""
    client = sync_redis()
    if not settings.REDIS_CLUSTER:
        return [client.info("server")["run_id"]] * len(keys)
    by_node: dict[str, str] = {}
    found = []
    for key in keys:
        node = client.get_node_from_key(key)
        if node.name not in by_node:
            by_node[node.name] = client.info("server", target_nodes=node)["run_id"]
        found.append(by_node[node.name])
    return found


def async_redis() -> Any:
    """redis-py's asyncio ``Redis``, or its ``RedisCluster`` (the same commands; ``mget`` across
    slots is ``mget_across_slots``)."""
    loop_id = id(asyncio.get_running_loop())
    client = _async_clients.get(loop_id)
    if client is None:
        if settings.REDIS_CLUSTER:
            client = redis.asyncio.cluster.RedisCluster.from_url(settings.REDIS_URL)
        else:
            # A blocking pool makes a burst wait for a connection instead of failing.
            pool = redis.asyncio.BlockingConnectionPool.from_url(settings.REDIS_URL, max_connections=256, timeout=5)
            client = redis.asyncio.Redis(connection_pool=pool)
        _async_clients[loop_id] = client
    return client


async def mget_across_slots(keys: list[str]) -> list:
    """``MGET`` of keys that may be in different slots of a cluster (not atomic there)."""
    client = async_redis()
    if settings.REDIS_CLUSTER:
        return await client.mget_nonatomic(keys)
    return await client.mget(keys)


def pipelined_redis() -> Commands:
    """The hot path's client (see ``plumbing.redis_pipe`` for why it is not redis-py's)."""
    loop_id = id(asyncio.get_running_loop())
    client = _pipelined_clients.get(loop_id)
    if client is None:
        url = settings.REDIS_URL
        client = _pipelined_clients[loop_id] = PipelinedCluster(url) if settings.REDIS_CLUSTER else PipelinedRedis(url)
    return client
