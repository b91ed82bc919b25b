"""The project's Redis clients on a Redis Cluster (``REDIS_CLUSTER=true``; README, "Scaling out").

``REDIS_URL`` names one node; the clients learn the others and which master serves which of
the 16,384 hash slots. They know nothing of what the keys mean: the apps keep together what
one command or script touches by giving those keys one hash tag (``sales.inventory.keys``).

- ``PipelinedCluster``: the buy path's pipelined client (``plumbing.redis_pipe``) with one
  pipelined connection per master. A command goes to the master of its key's slot; ``MOVED``
  (the slot has moved: after a failover or a resharding) updates the map and sends the command
  again, ``ASK`` (a slot being migrated) sends it to the target after ``ASKING``, ``TRYAGAIN``
  waits a moment: in all three the node did not run the command, so sending it again is safe
  even for a purchase. A lost connection is not retried unless the command is idempotent (as
  on one node) and makes the client read the slot map again: after a master dies, the next
  buys of its sales answer 503 retry until its replica is promoted and the map says so.
- ``ClusterClient``: django-redis's client class on redis-py's ``RedisCluster`` (django-redis
  has none of its own).
"""

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django_redis.client import DefaultClient
from redis.cluster import RedisCluster
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from plumbing.redis_pipe import Commands, PipelinedRedis

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
# The slot map is read again at most this often (seconds) when connections fail.
REFRESH_AT_MOST_EVERY = 0.25
# Commands without a key (PING, INFO): sent to the startup node's slot owner, slot 0's.
_KEYLESS = frozenset({b"PING", b"INFO", b"TIME", b"CLUSTER", b"ASKING"})


def slot_of(command: tuple) -> int:
    """The hash slot a command's key is in (its first key for a script)."""
    name = command[0].encode().upper() if isinstance(command[0], str) else bytes(command[0]).upper()
    if name in _KEYLESS:
        return 0
    if name in (b"EVAL", b"EVALSHA"):
        if int(command[2]) == 0:
            return 0
        key = command[3]
    else:
        key = command[1]
    return key_slot(key.encode() if isinstance(key, str) else key)


def node_url(url: str, address: str) -> str:
    """``url`` (the startup node's, with its credentials) pointed at ``address`` ("host:port")."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit((parts.scheme, f"{userinfo}@{address}" if userinfo else address, "/0", "", ""))


class PipelinedCluster(Commands):
    """The pipelined client of ``plumbing.redis_pipe`` over a Redis Cluster (see the module)."""

    def __init__(self, url: str):
        self._url = url
        startup = urlsplit(url)
        self._startup = f"{startup.hostname or '127.0.0.1'}:{startup.port or 6379}"
        self._nodes: dict[str, PipelinedRedis] = {}
        self._owners: list[str | None] = [None] * REDIS_CLUSTER_HASH_SLOTS
        self._mapped = False
        self._refreshing: asyncio.Task | None = None
        self._refreshed_at = 0.0

    def _node(self, address: str) -> PipelinedRedis:
        node = self._nodes.get(address)
        if node is None:
            node = self._nodes[address] = PipelinedRedis(node_url(self._url, address))
        return node

    async def execute(self, *args, retry: bool = False):
        """One command's reply, from the master of its key's slot (see the module)."""
        if not self._mapped:
            await self._refresh()
        slot = slot_of(args)
        asking: str | None = None
        for _ in range(MAX_REDIRECTS):
            address = asking or self._owners[slot] or self._startup
            node = self._node(address)
            try:
                if asking:
                    return (await node.execute_many(("ASKING",), args, retry=retry))[1]
                return await node.execute(*args, retry=retry)
            except ResponseError as exc:
                kind, _, rest = str(exc).partition(" ")
                if kind == "MOVED":
                    moved_slot, target = rest.split()
                    self._owners[int(moved_slot)] = target
                    asking = None
                    self._refresh_soon()
                elif kind == "ASK":
                    asking = rest.split()[1]
                elif kind == "TRYAGAIN":
                    await asyncio.sleep(0.05)
                else:
                    raise
            except RedisConnectionError:
                self._refresh_soon()
                raise
        raise RedisConnectionError(f"slot {slot}: more than {MAX_REDIRECTS} cluster redirections")

    async def execute_many(self, *commands: tuple, retry: bool = False) -> list:
        """Each command to its own slot's master; queued in one turn of the loop, so each node's
        share still goes out in one write."""
        return list(await asyncio.gather(*(self.execute(*command, retry=retry) for command in commands)))

    async def delete(self, *keys):
        return sum(await self.execute_many(*(("DEL", key) for key in keys), retry=True))

    def _refresh_soon(self) -> None:
        if self._refreshing is None and time.monotonic() - self._refreshed_at >= REFRESH_AT_MOST_EVERY:
            self._refreshing = asyncio.ensure_future(self._refresh())
            self._refreshing.add_done_callback(self._refreshed)

    def _refreshed(self, task: asyncio.Task) -> None:
        self._refreshing = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("redis cluster: slot map not refreshed: %r", task.exception())

    async def _refresh(self) -> None:
        """Read ``CLUSTER SLOTS`` from the first node that answers: the startup node, then the
        others known."""
        self._refreshed_at = time.monotonic()
        failure: Exception | None = None
        for address in dict.fromkeys([self._startup, *self._nodes]):
            try:
                ranges = await self._node(address).execute("CLUSTER", "SLOTS", retry=True)
            except (RedisConnectionError, ResponseError) as exc:
                failure = exc
                continue
            owners: list[str | None] = [None] * REDIS_CLUSTER_HASH_SLOTS
            for start, end, master, *_replicas in ranges:
                host = master[0].decode() if master[0] else address.rpartition(":")[0]
                owners[start : end + 1] = [f"{host}:{master[1]}"] * (end + 1 - start)
            self._owners = owners
            self._mapped = True
            return
        raise RedisConnectionError(f"no Redis Cluster node answered CLUSTER SLOTS: {failure!r}")

    async def close(self) -> None:
        for node in self._nodes.values():
            await node.close()
        self._nodes.clear()


class ClusterClient(DefaultClient):
    """django-redis's client on ``RedisCluster``: one per location, which manages its own
    connections to every node (it takes no connection pool from outside)."""

    def connect(self, index: int = 0) -> Any:
        return RedisCluster.from_url(self._server[index])

    def disconnect(self, index: int = 0, client: Any = None) -> None:
        client = client or self._clients[index]
        if client is not None:
            client.close()

    def get_many(self, keys, version=None, client=None) -> dict:
        """``MGET`` needs its keys in one slot; a cache's keys are spread over them all."""
        if client is None:
            client = self.get_client(write=False)
        if not keys:
            return {}
        by_key = {self.make_key(k, version=version): k for k in keys}
        values = client.mget_nonatomic(list(by_key))
        return {by_key[key]: self.decode(value) for key, value in zip(by_key, values, strict=True) if value is not None}
