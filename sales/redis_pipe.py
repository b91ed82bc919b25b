"""The buy hot path's Redis client: one connection per event loop, every command pipelined.

Why not redis-py's asyncio client here: for each command it takes a
connection from a pool, wraps the call in its retry and timeout helpers and
writes to the socket on its own. That was ~100 µs of CPU per command, about a
fifth of a daphne process under a stampede (bench/RESULTS.md). Redis answers
the commands of a connection in the order they came, so many concurrent buys
can share one connection: each command is queued with a future, the commands
queued during one turn of the event loop go out in one write, and hiredis's
parser hands the replies to the futures first in, first out (the
"auto-pipelining" of ioredis and node-redis). A buy costs one packed command
and one future instead.

It does only what ``sales.buying`` needs: plain commands and the project's Lua
scripts (``register_script`` has redis-py's shape, so ``sales.scripts.ScriptSet``
binds to it unchanged). Everything else keeps redis-py.
"""

import asyncio
import hashlib
from collections import deque

import hiredis
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError


class _Protocol(asyncio.Protocol):
    def __init__(self, on_lost):
        self.transport = None
        self.waiting: deque[asyncio.Future] = deque()
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._out: list[bytes] = []
        self._on_lost = on_lost

    def connection_made(self, transport):
        self.transport = transport

    def send(self, packed: bytes) -> asyncio.Future:
        if self.transport is None or self.transport.is_closing():
            raise RedisConnectionError("connection to Redis lost")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.append(future)
        if not self._out:
            loop.call_soon(self._flush)
        self._out.append(packed)
        return future

    def _flush(self):
        out, self._out = self._out, []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))

    def data_received(self, data):
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            future = self.waiting.popleft()
            if future.done():  # its caller was cancelled; the reply is just dropped
                continue
            if isinstance(reply, ResponseError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc):
        self.transport = None
        self._on_lost(self)
        error = RedisConnectionError(f"connection to Redis lost: {exc or 'closed'}")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class PipelinedRedis:
    """Commands from any number of coroutines of one event loop, over one connection."""

    def __init__(self, url: str):
        options = parse_url(url)
        self._host = options.get("host", "localhost")
        self._port = int(options.get("port", 6379))
        self._path = options.get("path")  # unix:// URLs
        self._hello = []
        if options.get("password"):
            auth = [options["username"], options["password"]] if options.get("username") else [options["password"]]
            self._hello.append(["AUTH", *auth])
        if int(options.get("db", 0) or 0):
            self._hello.append(["SELECT", int(options["db"])])
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future | None = None

    async def _connect(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
        try:
            return await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        try:
            if self._path:
                _, protocol = await loop.create_unix_connection(lambda: _Protocol(self._lost), self._path)
            else:
                _, protocol = await loop.create_connection(lambda: _Protocol(self._lost), self._host, self._port)
        except OSError as exc:
            raise RedisConnectionError(f"cannot connect to Redis: {exc}") from exc
        for command in self._hello:
            await protocol.send(hiredis.pack_command(tuple(command)))
        self._protocol = protocol
        return protocol

    def _lost(self, protocol: _Protocol) -> None:
        if self._protocol is protocol:
            self._protocol = None

    async def execute(self, *args):
        protocol = self._protocol or await self._connect()
        return await protocol.send(hiredis.pack_command(args))

    async def execute_many(self, *commands: tuple) -> list:
        """Several commands in one write; their replies in order."""
        protocol = self._protocol or await self._connect()
        futures = [protocol.send(hiredis.pack_command(c)) for c in commands]
        return [await f for f in futures]

    async def set(self, key, value, ex: int | None = None):
        return await (self.execute("SET", key, value, "EX", ex) if ex else self.execute("SET", key, value))

    async def delete(self, *keys):
        return await self.execute("DEL", *keys)

    def register_script(self, source: str) -> "PipelinedScript":
        return PipelinedScript(self, source)

    async def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None


class PipelinedScript:
    """Runs a Lua script by its SHA1, sending the source once if Redis does not know it."""

    def __init__(self, client: PipelinedRedis, source: str):
        self._client = client
        self._source = source
        self._sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, keys=(), args=(), client=None):
        try:
            return await self._client.execute("EVALSHA", self._sha, len(keys), *keys, *args)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self._client.execute("EVAL", self._source, len(keys), *keys, *args)
