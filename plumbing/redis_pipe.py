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

It does only what the buy path needs: plain commands and Lua scripts
(``register_script`` has redis-py's shape, so a script set written for redis-py
binds to it unchanged). Everything else keeps redis-py.

What keeps replies with their callers: a command's future and its bytes are
queued together with no ``await`` in between, one connection's replies only
settle that connection's futures, and anything unexpected (a reply nobody
waits for, a failed write, a command unanswered for ``COMMAND_TIMEOUT``)
aborts the connection, which fails everything in flight rather than risk a
shifted reply. Nothing is retried unless the caller says the command is
idempotent (``retry=True``): a purchase whose reply was lost must not run twice.

Each connection learns, when it opens, the ``run_id`` of the Redis server behind it
(a new one at every start of a server, and a promoted replica has its own). An
argument ``SERVER_ID`` in a command is replaced by it as the command goes out on
that connection: a script can then tell whether the data it is about to act on was
checked on this very server since it started (``sales.inventory``: a Redis that
restarted from an older AOF, or a replica that lagged, must not sell).
"""

import asyncio
import hashlib
import socket
from collections import deque
from typing import Any

import hiredis
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

CONNECT_TIMEOUT = 5.0
# A command unanswered this long means a dead peer (no RST ever came): abort.
# Checked every COMMAND_TIMEOUT seconds, so it fires after 1-2 times that.
COMMAND_TIMEOUT = 5.0
_INCOMPLETE = object()


class _ServerId:
    def __repr__(self):
        return "SERVER_ID"


# In a command's arguments: the run_id of the server the command is sent to (see above).
SERVER_ID = _ServerId()


def run_id_of(info_server: bytes | str) -> str:
    """The ``run_id`` in the text of ``INFO server``."""
    text = info_server.decode() if isinstance(info_server, bytes) else info_server
    for line in text.splitlines():
        if line.startswith("run_id:"):
            return line[len("run_id:") :].strip()
    raise RedisConnectionError("INFO server gave no run_id")


class _Protocol(asyncio.Protocol):
    def __init__(self, on_lost):
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future] = deque()
        self._reader = hiredis.Reader(replyError=ResponseError, notEnoughData=_INCOMPLETE)
        self._out: list[bytes] = []
        self._on_lost = on_lost
        self._watchdog = None
        self._oldest_seen = None
        self.server_id = ""

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self._watchdog = asyncio.get_running_loop().call_later(COMMAND_TIMEOUT, self._watch)

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def send(self, packed: bytes) -> asyncio.Future:
        if not self.usable:
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
        if self.usable:
            assert self.transport is not None  # usable
            try:
                self.transport.write(b"".join(out))
            except BaseException:
                self.abort()  # those commands' futures must not wait for replies that will not come
                raise

    def _watch(self):
        oldest = self.waiting[0] if self.waiting else None
        if oldest is not None and oldest is self._oldest_seen:
            self.abort()
            return
        self._oldest_seen = oldest
        self._watchdog = asyncio.get_running_loop().call_later(COMMAND_TIMEOUT, self._watch)

    def abort(self):
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data):
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not _INCOMPLETE:
            if not self.waiting:  # e.g. "-ERR max number of clients reached" on connect
                self.abort()
                return
            future = self.waiting.popleft()
            if future.done():  # its caller was cancelled; the reply is just dropped
                continue
            if isinstance(reply, ResponseError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc):
        self.transport = None
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._on_lost(self)
        error = RedisConnectionError(f"connection to Redis lost: {exc or 'closed'}")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class Commands:
    """The few commands the buy path sends, on ``execute`` (one node's or a cluster's)."""

    async def execute(self, *args, retry: bool = False) -> Any:
        raise NotImplementedError

    async def execute_many(self, *commands: tuple, retry: bool = False) -> list:
        raise NotImplementedError

    async def set(self, key, value, ex: int | None = None):
        command = ("SET", key, value, "EX", ex) if ex else ("SET", key, value)
        return await self.execute(*command, retry=True)

    async def hexists(self, key, field) -> bool:
        return await self.execute("HEXISTS", key, field, retry=True) == 1

    async def delete(self, *keys):
        return await self.execute("DEL", *keys, retry=True)

    def register_script(self, source: str) -> "PipelinedScript":
        return PipelinedScript(self, source)


class PipelinedRedis(Commands):
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
        self._connecting: asyncio.Task | None = None

    async def _connection(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and protocol.usable:
            return protocol
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
            self._connecting.add_done_callback(self._connected)
        return await asyncio.shield(self._connecting)

    def _connected(self, task: asyncio.Task) -> None:
        if self._connecting is task:
            self._connecting = None
        if not task.cancelled():
            task.exception()  # retrieved: the waiters (if any) were told

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        try:
            if self._path:
                opening = loop.create_unix_connection(lambda: _Protocol(self._lost), self._path)
            else:
                opening = loop.create_connection(lambda: _Protocol(self._lost), self._host, self._port)
            _, protocol = await asyncio.wait_for(opening, CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise RedisConnectionError(f"cannot connect to Redis: {exc!r}") from exc
        try:
            for command in self._hello:
                await protocol.send(hiredis.pack_command(tuple(command)))
            info = hiredis.pack_command(("INFO", "server"))  # type: ignore[arg-type]  # its stub says a 1-tuple
            protocol.server_id = run_id_of(await protocol.send(info))
        except BaseException:
            protocol.abort()
            raise
        self._protocol = protocol
        return protocol

    def _lost(self, protocol: _Protocol) -> None:
        if self._protocol is protocol:
            self._protocol = None

    async def execute(self, *args, retry: bool = False):
        """One command's reply (see ``execute_many``)."""
        [reply] = await self.execute_many(args, retry=retry)
        return reply

    async def execute_many(self, *commands: tuple, retry: bool = False) -> list:
        """Several commands in one write; their replies in order. ``retry``: the
        commands are idempotent, so after a lost connection they are sent once more
        on a new one."""
        try:
            return await self._send(commands)
        except RedisConnectionError:
            if not retry:
                raise
        return await self._send(commands)

    async def _send(self, commands: tuple[tuple, ...]) -> list:
        protocol = await self._connection()
        # packed only now, on the connection they go out on (SERVER_ID), with no await until sent
        futures = [protocol.send(hiredis.pack_command(_for_server(c, protocol.server_id))) for c in commands]
        return [await f for f in futures]

    async def close(self) -> None:
        if self._protocol is not None:
            self._protocol.abort()
        self._protocol = None


def _for_server(command: tuple, server_id: str) -> tuple:
    if SERVER_ID not in command:
        return command
    return tuple(server_id if part is SERVER_ID else part for part in command)


class PipelinedScript:
    """Runs a Lua script by its SHA1, sending the source once if Redis does not know it."""

    def __init__(self, client: Commands, source: str):
        self._client = client
        self._source = source
        self._sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, keys=(), args=(), client=None, retry: bool = False):
        """``retry``: the script is idempotent (see ``PipelinedRedis.execute_many``)."""
        try:
            return await self._client.execute("EVALSHA", self._sha, len(keys), *keys, *args, retry=retry)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self._client.execute("EVAL", self._source, len(keys), *keys, *args, retry=retry)
