"""The load generator's HTTP/1.1 client: keep-alive connections parsed by httptools.

Why not aiohttp (which the generator used first, and which beat httpx 20 times over in
``bench/client_cost.py``): on this 2-core machine the generator shares the
cores with the site, and aiohttp's ~170 µs of CPU per request capped even a
do-nothing daphne site at ~4,000 answers/s end to end. A buyer's request is
always the same few bytes, so each connection writes them pre-built and
llhttp (via httptools, the parser uvicorn uses) reads the answer: ~20-40 µs
per request. It does what the load test needs and no more: ``http://`` only,
keep-alive, Content-Length or chunked answers, a time-out per request, and a
fresh connection after any error or ``Connection: close``.
"""

import asyncio
from urllib.parse import urlsplit

import httptools


class HttpError(OSError):
    """The connection failed or the answer was not valid HTTP."""


class Target:
    """Where requests go: host, port and the ``Host`` header of an ``http://`` URL."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the load generator drives http:// URLs, not {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.host_header = parts.netloc
        self.prefix = parts.path.rstrip("/")

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
        """The bytes of one request (a JSON ``body`` when given)."""
        lines = [f"{method} {self.prefix}{path} HTTP/1.1", f"Host: {self.host_header}", f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/json")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Answer(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future | None = None
        self.body: list[bytes] = []
        self.reusable = True

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._fail(HttpError(f"invalid HTTP answer: {exc!r}"))

    def on_body(self, body: bytes):
        self.body.append(body)

    def on_message_complete(self):
        self.reusable = self.parser.should_keep_alive()
        waiter, self.waiter = self.waiter, None
        body, self.body = b"".join(self.body), []
        if waiter is not None and not waiter.done():
            waiter.set_result((self.parser.get_status_code(), body))

    def connection_lost(self, exc):
        self.transport = None
        self.reusable = False
        self._fail(HttpError(f"connection closed: {exc or 'by the server'}"))

    def _fail(self, exc: Exception):
        self.reusable = False
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()


class Connection:
    """A worker's connection: opened on first use, opened again after a failure."""

    def __init__(self, target: Target, timeout: float):
        self.target = target
        self.timeout = timeout
        self._answer: _Answer | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send ``request``; the answer's status and body, within ``timeout`` seconds
        (connecting included). Raises OSError or TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        if self._answer is not None and self._answer.reusable and self._answer.transport is not None:
            answer = self._answer
        else:
            self.close()
            _, answer = await asyncio.wait_for(
                loop.create_connection(_Answer, self.target.host, self.target.port), self.timeout
            )
            self._answer = answer
        if answer.transport is None:  # the server closed it before the first request
            raise HttpError("connection closed by the server")
        waiter = answer.waiter = loop.create_future()
        answer.transport.write(request)
        timer = loop.call_at(deadline, _expire, answer, waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            # The answer may still come: it must not be taken for the next request's.
            answer._fail(HttpError("request cancelled"))
            raise
        finally:
            timer.cancel()

    def close(self) -> None:
        if self._answer is not None and self._answer.transport is not None:
            self._answer.transport.close()
        self._answer = None


def _expire(answer: _Answer, waiter: asyncio.Future) -> None:
    if waiter is answer.waiter:
        answer._fail(TimeoutError("no answer in time"))
