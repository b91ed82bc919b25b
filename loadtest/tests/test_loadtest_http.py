"""The load generator's HTTP/1.1 client (``loadtest.http``) against a real TCP server.

Each scenario starts ``asyncio.start_server`` on 127.0.0.1 inside its own ``asyncio.run``; the server
counts the connections it accepts and records the request heads it reads, so the tests see what went
over the wire. Every scenario runs on the default asyncio loop and on uvloop, which the load test uses.
No database is needed.
"""

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import pytest
import uvloop

from loadtest.http import Connection, HttpError, Target

TIMEOUT = 0.2  # the client's time-out in the time-out scenarios
HANG = 2.0  # a send that takes longer than this is hung: the test fails instead of waiting


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request) -> Callable[[Awaitable], object]:
    """``asyncio.run`` on the default event loop, or on uvloop as ``manage.py loadtest`` runs."""

    def run(coro):
        if request.param == "asyncio":
            return asyncio.run(coro)
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        try:
            return asyncio.run(coro)
        finally:
            asyncio.set_event_loop_policy(None)

    return run


def answer(status: int, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} Whatever", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


Handler = Callable[["Server", asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class Server:
    """A real TCP server on 127.0.0.1: ``handler(server, reader, writer, n)`` serves its n-th connection."""

    def __init__(self, handler: Handler, sock: socket.socket | None = None):
        self.handler = handler
        self.sock = sock
        self.connections = 0
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request head)
        self.client_closed: dict[int, asyncio.Event] = {}  # set when the client closed connection n
        self.errors: list[BaseException] = []
        self._tasks: set[asyncio.Task] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> "Server":
        if self.sock is None:
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        else:
            self.server = await asyncio.start_server(self._serve, sock=self.sock)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.server.close()
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()
        if exc_info[0] is None:
            assert not self.errors, f"the test server's handler failed: {self.errors!r}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        n = self.connections
        self.client_closed[n] = asyncio.Event()
        self._writers.append(writer)
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection's handler in a task
        self._tasks.add(task)
        try:
            await self.handler(self, reader, writer, n)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as exc:
            self.errors.append(exc)
        finally:
            writer.close()
            self._tasks.discard(task)

    async def read_request(self, reader: asyncio.StreamReader, n: int) -> bytes | None:
        """The next request head (the client's requests have no body), or None once the client closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                self.requests.append((n, exc.partial))
            self.client_closed[n].set()
            return None
        self.requests.append((n, head))
        return head

    async def serve_forever(self, reader, writer, n: int, reply: Callable[[bytes], bytes]) -> None:
        """Answer every request on this connection with ``reply(head)`` until the client closes."""
        while (head := await self.read_request(reader, n)) is not None:
            writer.write(reply(head))
            await writer.drain()

    async def wait_client_closed(self, n: int, within: float = 1.0) -> bool:
        try:
            await asyncio.wait_for(self.client_closed[n].wait(), within)
        except TimeoutError:
            return False
        return True


async def within(coro: Awaitable, seconds: float = HANG):
    """Await ``coro``; fail the test (rather than hang) if it takes longer than ``seconds``."""
    task = asyncio.ensure_future(coro)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pytest.fail(f"no answer and no error after {seconds} s: the client hangs")
    return task.result()


async def get(connection: Connection, path: str, seconds: float = HANG):
    """``GET path`` over ``connection``, within ``seconds``."""
    return await within(connection.send(connection.target.request("GET", path)), seconds)


def ok(head: bytes) -> bytes:
    return answer(200, b"fresh")


def request_line(head: bytes) -> bytes:
    return head.split(b"\r\n", 1)[0]


# 1. keep-alive


def test_keep_alive_serves_three_requests_over_one_connection_each_with_its_own_answer(run):
    statuses = {b"/one": 200, b"/two": 404, b"/three": 409}

    def reply(head: bytes) -> bytes:
        path = request_line(head).split(b" ")[1]
        return answer(statuses[path], b"answer to " + path)

    async def handler(server, reader, writer, n):
        await server.serve_forever(reader, writer, n, reply)

    async def scenario():
        async with Server(handler) as server:
            target = Target(server.url)
            connection = Connection(target, timeout=1.0)
            results = []
            for method, path in [("POST", "/one"), ("GET", "/two"), ("POST", "/three")]:
                request = target.request(method, path, {"Authorization": "Bearer t0k3n", "X-Attempt": path[1:]})
                results.append(await within(connection.send(request)))
            connection.close()
            return server, results

    server, results = run(scenario())

    assert results == [(200, b"answer to /one"), (404, b"answer to /two"), (409, b"answer to /three")]
    assert server.connections == 1
    assert [n for n, _ in server.requests] == [1, 1, 1]
    for (_, head), (line, attempt) in zip(
        server.requests,
        [(b"POST /one HTTP/1.1", b"one"), (b"GET /two HTTP/1.1", b"two"), (b"POST /three HTTP/1.1", b"three")],
        strict=True,
    ):
        lines = head.split(b"\r\n")
        assert lines[0] == line
        headers = lines[1:-2]  # read_request reads up to the empty line
        assert sorted(headers) == sorted(
            [
                f"Host: 127.0.0.1:{server.port}".encode(),
                b"Content-Length: 0",
                b"Authorization: Bearer t0k3n",
                b"X-Attempt: " + attempt,
            ]
        )


# 2. Content-Length and chunked answers


def test_content_length_and_chunked_answers_are_read_completely(run):
    big = bytes(range(256)) * 600  # 150 kB: arrives in several reads
    chunks = [b"first\r\n", b"0\r\n\r\n", big, b"x"]  # chunk data that looks like chunk framing
    chunked_body = b"".join(chunks)

    async def handler(server, reader, writer, n):
        assert await server.read_request(reader, n)
        # A Content-Length answer written in pieces: the headers, then the body split in three writes.
        head, body = answer(200, big).split(b"\r\n\r\n", 1)
        for piece in (head + b"\r\n\r\n", body[:10], body[10:70_000], body[70_000:]):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)
        assert await server.read_request(reader, n)
        writer.write(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n")
        for chunk in chunks:
            framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            # Each chunk in two writes, cut inside the size line or the data.
            writer.write(framed[:2])
            await writer.drain()
            await asyncio.sleep(0.005)
            writer.write(framed[2:])
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        # Keep-alive still holds after a chunked answer.
        await server.serve_forever(reader, writer, n, ok)

    async def scenario():
        async with Server(handler) as server:
            target = Target(server.url)
            connection = Connection(target, timeout=2.0)
            first, second, third = [await get(connection, path) for path in ("/length", "/chunked", "/after")]
            connection.close()
            return server, first, second, third

    server, first, second, third = run(scenario())

    assert first[0] == 200 and len(first[1]) == len(big) and first[1] == big
    assert second[0] == 201 and len(second[1]) == len(chunked_body) and second[1] == chunked_body
    assert third == (200, b"fresh")
    assert server.connections == 1


# 3. Connection: close


@pytest.mark.parametrize("server_closes", ["at_once", "only_after_the_client"])
def test_after_connection_close_the_next_request_goes_over_a_new_connection(run, server_closes):
    """The client must not reuse a connection whose answer said ``Connection: close``, even while the
    server has not closed it yet (``only_after_the_client``: it waits for the client to close it)."""

    async def handler(server, reader, writer, n):
        if n == 1:
            assert await server.read_request(reader, n)
            writer.write(answer(200, b"last on this one", "Connection: close"))
            await writer.drain()
            if server_closes == "only_after_the_client":
                # Anything read here would be a request sent over a connection the server closed.
                await server.read_request(reader, n)
            return
        await server.serve_forever(reader, writer, n, ok)

    async def scenario():
        async with Server(handler) as server:
            target = Target(server.url)
            connection = Connection(target, timeout=1.0)
            first, second, third = [await get(connection, path) for path in ("/a", "/b", "/c")]
            # When the server waits, the client must close the connection it will not use again.
            client_closed_first = server_closes == "only_after_the_client" and await server.wait_client_closed(1)
            connection.close()
            return server, first, second, third, client_closed_first

    server, first, second, third, client_closed_first = run(scenario())

    assert first == (200, b"last on this one")
    assert second == third == (200, b"fresh")
    assert server.connections == 2
    assert [(n, request_line(head)) for n, head in server.requests] == [
        (1, b"GET /a HTTP/1.1"),
        (2, b"GET /b HTTP/1.1"),
        (2, b"GET /c HTTP/1.1"),
    ]
    if server_closes == "only_after_the_client":
        assert client_closed_first


# 4. time-out


@pytest.mark.parametrize("answered_before", [0, 1])
def test_a_server_that_does_not_answer_times_out_and_the_next_request_uses_a_new_connection(run, answered_before):
    """``answered_before``: how many requests the first connection answered before it stopped answering
    (1: the time-out also holds on a reused keep-alive connection)."""

    async def handler(server, reader, writer, n):
        if n == 1:
            for _ in range(answered_before):
                assert await server.read_request(reader, n)
                writer.write(answer(200, b"in time"))
                await writer.drain()
            assert await server.read_request(reader, n)
            # Never answer; read on until the client closes (anything read is a request sent on a
            # connection the client gave up on).
            await server.read_request(reader, n)
            return
        await server.serve_forever(reader, writer, n, ok)

    async def scenario():
        async with Server(handler) as server:
            target = Target(server.url)
            connection = Connection(target, timeout=TIMEOUT)
            for _ in range(answered_before):
                assert await get(connection, "/early") == (200, b"in time")
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await get(connection, "/slow")
            waited = time.monotonic() - started
            client_closed_first = await server.wait_client_closed(1)
            after = await get(connection, "/after")
            connection.close()
            return server, waited, client_closed_first, after

    server, waited, client_closed_first, after = run(scenario())

    assert TIMEOUT * 0.9 <= waited < TIMEOUT + 0.5
    assert client_closed_first, "the client did not close the connection that timed out"
    assert after == (200, b"fresh")
    assert server.connections == 2
    lines = [(n, request_line(head)) for n, head in server.requests]
    assert lines == [(1, b"GET /early HTTP/1.1")] * answered_before + [
        (1, b"GET /slow HTTP/1.1"),
        (2, b"GET /after HTTP/1.1"),
    ]


# 5. garbage


async def fails_then_recovers(server, client_closes: bool = False):
    """A GET that must fail with an OSError (not hang), then one that must succeed on the same Connection;
    ``client_closes``: also wait for the client to close the failed connection (True if it did)."""
    connection = Connection(Target(server.url), timeout=1.0)  # longer than within()'s limit: a hang is not a time-out
    with pytest.raises(OSError) as raised:
        await get(connection, "/", 0.8)
    closed = await server.wait_client_closed(1) if client_closes else None
    after = await get(connection, "/after")
    connection.close()
    return raised.value, closed, after


def test_an_answer_that_is_not_http_is_an_http_error_not_a_hang(run):
    async def handler(server, reader, writer, n):
        if n == 1:
            assert await server.read_request(reader, n)
            writer.write(b"NOT HTTP\r\n\r\n")
            await writer.drain()
            await server.read_request(reader, n)  # keep the connection open until the client closes it
            return
        await server.serve_forever(reader, writer, n, ok)

    async def scenario():
        async with Server(handler) as server:
            return server, *await fails_then_recovers(server, client_closes=True)

    server, error, client_closed_first, after = run(scenario())

    assert isinstance(error, HttpError)
    assert "invalid HTTP answer" in str(error)
    assert client_closed_first
    assert after == (200, b"fresh")
    assert server.connections == 2


# 6. closed mid-answer


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", id="in_the_body"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Len", id="in_the_headers"),
        pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", id="in_a_chunk"),
        pytest.param(b"", id="before_answering"),
    ],
)
def test_a_server_that_closes_mid_answer_gives_an_os_error(run, partial):
    async def handler(server, reader, writer, n):
        assert await server.read_request(reader, n)
        if n == 1:
            writer.write(partial)
            await writer.drain()
            return  # closes the connection
        writer.write(ok(b""))
        await server.serve_forever(reader, writer, n, ok)

    async def scenario():
        async with Server(handler) as server:
            return server, *await fails_then_recovers(server)

    server, error, _, after = run(scenario())

    assert isinstance(error, HttpError)
    assert "connection closed" in str(error)
    assert after == (200, b"fresh")
    assert server.connections == 2


# 7. connection refused


def test_connection_refused_is_an_os_error_and_the_connection_recovers_once_the_server_listens(run):
    async def handler(server, reader, writer, n):
        await server.serve_forever(reader, writer, n, ok)

    async def scenario():
        # A port bound but not listening: connecting to it is refused, and no one else can take it.
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        target = Target(f"http://127.0.0.1:{port}")
        connection = Connection(target, timeout=1.0)
        with pytest.raises(OSError) as raised:
            await get(connection, "/", 0.8)
        async with Server(handler, sock=sock) as server:  # now it listens on that very port
            after = await get(connection, "/after")
            connection.close()
        return server, raised.value, after

    server, error, after = run(scenario())

    assert isinstance(error, ConnectionRefusedError)
    assert after == (200, b"fresh")
    assert server.connections == 1


# 8. Target


@pytest.mark.parametrize("url", ["https://x", "ftp://x", "http://", "x", "//x:80", "http://:80"])
def test_target_accepts_only_http_urls_with_a_host(url):
    with pytest.raises(ValueError):
        Target(url)


def test_target_builds_requests_with_the_path_prefix_and_the_host_header():
    target = Target("http://h:81/base/")
    assert (target.host, target.port, target.host_header, target.prefix) == ("h", 81, "h:81", "/base")
    assert target.request("POST", "/api/buy", {"Authorization": "Bearer x", "X-Y": "z"}) == (
        b"POST /base/api/buy HTTP/1.1\r\nHost: h:81\r\nContent-Length: 0\r\nAuthorization: Bearer x\r\nX-Y: z\r\n\r\n"
    )
    plain = Target("http://example.test")
    assert (plain.host, plain.port, plain.host_header, plain.prefix) == ("example.test", 80, "example.test", "")
    assert plain.request("GET", "/s/1") == b"GET /s/1 HTTP/1.1\r\nHost: example.test\r\nContent-Length: 0\r\n\r\n"


def test_the_path_prefix_and_host_header_go_over_the_wire(run):
    async def handler(server, reader, writer, n):
        await server.serve_forever(reader, writer, n, ok)

    async def scenario():
        async with Server(handler) as server:
            target = Target(f"http://localhost:{server.port}/base/")
            connection = Connection(target, timeout=1.0)
            result = await get(connection, "/api/sales/1")
            connection.close()
            return server, result

    server, result = run(scenario())

    assert result == (200, b"fresh")
    [(_, head)] = server.requests
    assert head.startswith(f"GET /base/api/sales/1 HTTP/1.1\r\nHost: localhost:{server.port}\r\n".encode())


def test_a_cancelled_send_never_hands_its_answer_to_the_next_request(run):
    async def handler(server, reader, writer, n):
        while (head := await server.read_request(reader, n)) is not None:
            await asyncio.sleep(0.1)  # a slow site
            writer.write(answer(200, b"answer to " + request_line(head).split(b" ")[1]))
            await writer.drain()

    async def scenario():
        async with Server(handler) as server:
            target = Target(server.url)
            connection = Connection(target, timeout=1.0)
            with pytest.raises(TimeoutError):  # the caller gives up: asyncio.wait_for cancels send()
                await asyncio.wait_for(connection.send(target.request("GET", "/first")), 0.02)
            result = await get(connection, "/second")
            connection.close()
            return server, result

    server, result = run(scenario())

    assert result == (200, b"answer to /second")
    assert server.connections == 2  # the cancelled request's connection was not used again
