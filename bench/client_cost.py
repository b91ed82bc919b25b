"""Which async HTTP client costs the load generator least CPU per request?

aiohttp, httpx, and the generator's own keep-alive client (``loadtest.http``,
httptools) on asyncio's and on uvloop's event loop.

    python bench/client_cost.py [URL] [REQUESTS] [CONCURRENCY]

Each client sends the same keep-alive requests (GET of a small JSON document,
default ``/api/sales/1`` of the local site) with the same concurrency; what
counts is the client's own CPU time per request (``time.process_time``), not
the wall time, which the server decides. Each client runs twice and the
second run counts (the first warms up imports and connections).
"""

import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadtest.http import Connection, Target


async def with_aiohttp(url: str, n: int, concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def worker(count):
            for _ in range(count):
                async with session.get(url) as response:
                    await response.read()

        await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))


async def with_httpx(url: str, n: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker(count):
            for _ in range(count):
                response = await client.get(url)
                response.read()

        await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))


async def with_httptools(url: str, n: int, concurrency: int) -> None:
    target = Target(url.split("/api/")[0])
    request = target.request("GET", "/api/" + url.split("/api/", 1)[1])

    async def worker(count):
        connection = Connection(target, 30)
        for _ in range(count):
            await connection.send(request)
        connection.close()

    await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))


def measure(fn, url, n, concurrency, run=asyncio.run) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    run(fn(url, n, concurrency))
    return (time.process_time() - cpu) / n, n / (time.perf_counter() - wall)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/api/sales/1"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    clients = (
        ("aiohttp", with_aiohttp, asyncio.run),
        ("aiohttp + uvloop", with_aiohttp, uvloop.run),
        ("httpx", with_httpx, asyncio.run),
        ("httptools (loadtest)", with_httptools, asyncio.run),
        ("httptools + uvloop", with_httptools, uvloop.run),
    )
    for name, fn, run in clients:
        measure(fn, url, n // 4, concurrency, run)
        cpu_per_request, rate = measure(fn, url, n, concurrency, run)
        print(
            f"{name:21} {cpu_per_request * 1e6:7.0f} µs client CPU per request   ({rate:,.0f} req/s wall, {n} requests)"
        )


if __name__ == "__main__":
    main()
