"""10,000 generated requests against a running site: no 5xx but ``503 retry``, JSON with a
``status`` on every ``/api/`` answer, stock and order rows unchanged, and a real buy
still works afterwards.

The generator is ours (seeded, so a failure repeats): random methods, paths, ids,
headers, tokens and bodies, syntactically valid HTTP/1.1 so that each reaches the
application, plus broken requests (partial bodies, garbage request lines, websocket
upgrades to bad paths) for which only "no 5xx" is asked, since the server's own
parser may answer them.
"""

import asyncio
import random
from datetime import timedelta

import httpx
import orjson
import pytest
from django.utils import timezone

from orders.models import Order
from plumbing.redis_clients import sync_redis
from sales.buyers import mint_token
from sales.inventory import keys
from sales.tests.factories import BuyerFactory, SaleFactory

REQUESTS = 10_000
CONCURRENCY = 32
SEED = 20261202

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD", "FOO"]
IDS = ["0", "-1", "1", "007", "abc", "%C2%B2", "%2F", "..", "", "9" * 25, "9" * 5000, "1e3", "0x10", "%00", "1%20"]
BODIES = [
    b"",
    b"{}",
    b"[]",
    b"null",
    b'{"quantity": 1}',
    b'{"quantity": true}',
    b'{"quantity": "1"}',
    b'{"quantity": 2}',
    b"{",
    b"\xff\xfe",
    b'{"a": ' * 200,
    b"x" * 5000,
]


def _requests(rng: random.Random, ended_sale: int, port: int, tokens: list[str]):
    """(raw request bytes, whether the app must answer it as the API)."""
    for _ in range(REQUESTS):
        sale = rng.choice([str(ended_sale), *IDS])
        path = rng.choice(
            [
                f"/api/sales/{sale}/buy",
                f"/api/sales/{sale}",
                f"/api/sales/{sale}/buy/x",
                f"/api/orders/{sale}",
                "/api/orders/" + "0" * 32,
                "/api/",
                "/api",
                "/api/unknown",
                f"/api/sales/{sale}?x=1",
            ]
        )
        if rng.random() < 0.05:
            path = f"http://127.0.0.1:{port}{path}"  # absolute-form target
        method = rng.choice(METHODS)
        headers = [("Host", f"127.0.0.1:{port}"), ("Connection", "close")]
        auth = rng.random()
        if auth < 0.4:
            headers.append(("Authorization", "Bearer " + rng.choice(tokens)))
        elif auth < 0.6:
            headers.append(
                ("Authorization", rng.choice(["Bearer", "Bearer x:y:z", "Basic Zm9v", "Bearer " + "a" * 3000]))
            )
        elif auth < 0.7:
            headers.append(("Cookie", "sessionid=" + rng.choice(["nope", "", "a" * 100])))
        body = rng.choice(BODIES)
        kind = rng.random()
        if kind < 0.9:
            head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
            yield (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body, True
        elif kind < 0.95:  # a body shorter than announced, then the client goes away
            head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
            yield (head + f"Content-Length: {len(body) + 100}\r\n\r\n").encode() + body, False
        else:  # a websocket upgrade to a bad sale path
            yield (
                (
                    f"GET /ws/sales/{rng.choice(IDS)}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Origin: http://127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                ).encode(),
                False,
            )


async def _send(port: int, raw: bytes, wait: float) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536 * 4), wait)
    except TimeoutError:
        return b""  # a partial request the server still waits for; it has answered nothing
    finally:
        writer.close()


def _problem(raw: bytes, answer: bytes, api: bool) -> str | None:
    if not answer:
        return None if not api else "no answer"
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    code = int(status_line.split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(b":") for h in header_lines)}
    if code >= 500 and code != 503:
        return f"{code}"
    if not api or code == 101:
        return None
    if not headers.get(b"content-type", b"").startswith(b"application/json"):
        return f"{code} not JSON: {headers.get(b'content-type')!r}"
    if raw.startswith(b"HEAD "):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"{code} body not JSON: {body[:80]!r}"
    if not isinstance(data, dict) or "status" not in data:
        return f"{code} without status: {body[:80]!r}"
    if code == 503 and data["status"] != "retry":
        return f"503 {data['status']}"
    return None


@pytest.mark.slow
def test_ten_thousand_generated_requests_get_clean_answers_and_change_nothing(live_site):
    starts = timezone.now() - timedelta(hours=3)
    ended = SaleFactory(total_stock=5, starts_at=starts, ends_at=starts + timedelta(hours=1))
    buyers = [BuyerFactory() for _ in range(3)]
    tokens = [mint_token(b.pk) for b in buyers]
    redis = sync_redis()
    before = (redis.get(keys.stock(ended.pk)), Order.objects.count())

    async def run():
        semaphore = asyncio.Semaphore(CONCURRENCY)
        problems: dict[str, list[bytes]] = {}

        async def one(raw, api):
            async with semaphore:
                answer = await _send(live_site.port, raw, 5.0 if api else 0.5)
            problem = _problem(raw, answer, api)
            if problem:
                problems.setdefault(problem, []).append(raw[:120])

        rng = random.Random(SEED)
        await asyncio.gather(*(one(raw, api) for raw, api in _requests(rng, ended.pk, live_site.port, tokens)))
        return problems

    problems = asyncio.run(run())
    assert not problems, {k: (len(v), v[:3]) for k, v in problems.items()}
    assert (redis.get(keys.stock(ended.pk)), Order.objects.count()) == before
    # the site still sells
    sale = SaleFactory(total_stock=1)
    answer = httpx.post(f"{live_site.url}/api/sales/{sale.pk}/buy", headers={"Authorization": f"Bearer {tokens[0]}"})
    assert answer.status_code == 201, answer.text
