"""The load generator: buyers clicking "buy" over keep-alive HTTP connections.

``concurrency`` workers each own one keep-alive connection
(``loadtest.http``, which says why it is not aiohttp). Buyers are handed out in order;
buyer ``i`` sends its first request ``i * ramp / buyers`` seconds after the
start (JMeter's ramp-up; ramp 0 = everyone at once) and its ``attempts``
requests one after the other, as one person clicking again. Latency is
measured from the moment a worker sends a request; when there are too few
workers for the ramp, buyers start late and ``start_lag`` shows by how much.

The generator also watches itself: CPU seconds against wall seconds and the
event loop's lag tell whether the numbers describe the site or the generator.
"""

import asyncio
import time
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from loadtest.gate import earn_pass
from loadtest.http import Connection, Target

RESERVED, SOLD_OUT, LIMIT_REACHED, RATE_LIMITED, NOT_STARTED, OTHER_4XX, SERVER_ERROR, NETWORK_ERROR = range(8)
CATEGORIES = (
    "reserved",
    "sold_out",
    "limit_reached",
    "rate_limited",
    "not_started",
    "other_4xx",
    "5xx",
    "network_error",
)
LABELS = (
    "reserved",
    "sold out",
    "limit reached",
    "rate limited",
    "not started",
    "other 4xx",
    "5xx",
    "network errors",
)
_BY_STATUS: dict[tuple[int, str | None], int] = {
    (201, "reserved"): RESERVED,
    (409, "sold_out"): SOLD_OUT,
    (409, "limit_reached"): LIMIT_REACHED,
    (429, "rate_limited"): RATE_LIMITED,
    (409, "not_started"): NOT_STARTED,
}
TICK = 0.25  # seconds between progress updates
LAG_PROBE = 0.05  # seconds between event-loop lag probes


class SiteMismatch(Exception):
    """The site does not answer for the sale (wrong URL, or it uses another Redis)."""


@dataclass
class LoadPlan:
    url: str
    sale_id: int
    buyers: list[tuple[int, str]]
    attempts: int
    concurrency: int
    ramp: float
    timeout: float
    start_epoch: float  # wall-clock moment of the first request
    warmup: bool = True
    gated: bool = False  # the sale requires a purchase pass: each buyer earns one first (loadtest.gate)
    # each buyer sends X-Forwarded-For with an address of its own (a site that trusts the generator
    # as its proxy then tells buyers apart from a bot farm's few addresses: loadtest.bots)
    own_addresses: bool = False
    # This plan's buyers are every ``stride``-th of ``total`` from ``offset`` (one of
    # several generator processes, ``loadtest.processes``): buyer i is due when it
    # would be in the whole plan.
    offset: int = 0
    stride: int = 1
    total: int | None = None

    @property
    def buy_path(self) -> str:
        return f"/api/sales/{self.sale_id}/buy"

    @property
    def sale_path(self) -> str:
        return f"/api/sales/{self.sale_id}"

    @property
    def sale_url(self) -> str:
        return f"{self.url.rstrip('/')}{self.sale_path}"


@dataclass
class Live:
    """Running totals for the progress display."""

    planned: int
    sent: int = 0
    answered: int = 0
    counts: list[int] = field(default_factory=lambda: [0] * len(CATEGORIES))
    elapsed: float = 0.0
    rate: float = 0.0  # answers per second over the last tick


@dataclass
class Recording:
    """Everything measured during the load phase; times in seconds after ``t0``."""

    t0_epoch: float
    sent: array = field(default_factory=lambda: array("d"))
    latency: array = field(default_factory=lambda: array("d"))
    category: bytearray = field(default_factory=bytearray)
    reserved: list[tuple[str, int, int | None, float]] = field(default_factory=list)  # order_id, buyer, remaining, at
    details: Counter = field(default_factory=Counter)  # "409 ended", "ClientOSError", ... outside the main statuses
    start_lag: array = field(default_factory=lambda: array("d"))  # per buyer: actual first send - due
    admission: array = field(default_factory=lambda: array("d"))  # per buyer of a gated sale: challenge to pass
    loop_lag: array = field(default_factory=lambda: array("d"))
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    connections: int = 0
    processes: int = 1


def categorize(http_status: int, body: bytes) -> tuple[int, dict | None]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    status = data.get("status") if isinstance(data, dict) else None
    category = _BY_STATUS.get((http_status, status))
    if category is None:
        category = SERVER_ERROR if http_status >= 500 else OTHER_4XX
    return category, data


async def _warm_up(target: Target, connections: list[Connection], plan: LoadPlan) -> int:
    """Check the site knows the sale; with ``warmup``, open every connection first."""
    request = target.request("GET", plan.sale_path)

    async def get(connection):
        status, _ = await connection.send(request)
        return status

    try:
        status = await get(connections[0])
    except (TimeoutError, OSError) as exc:
        raise SiteMismatch(f"cannot reach {plan.sale_url}: {exc}") from None
    if status == 404:
        raise SiteMismatch(
            f"{plan.sale_url} answered 404: the site does not know sale {plan.sale_id}. "
            "Does it use the same Redis and database as this command?"
        )
    if status != 200:
        raise SiteMismatch(f"{plan.sale_url} answered {status}")
    if plan.warmup and len(connections) > 1:
        results = await asyncio.gather(*(get(c) for c in connections[1:]), return_exceptions=True)
        return 1 + sum(1 for r in results if r == 200)
    return 1


def buyer_address(buyer_id: int) -> str:
    """A human buyer's own address (documentation-free 10/8 space, one per buyer)."""
    return f"10.{(buyer_id >> 16) & 255}.{(buyer_id >> 8) & 255}.{buyer_id & 255}"


async def _admission(connection: Connection, target: Target, plan: LoadPlan, token: str, headers: dict) -> str | None:
    """The buyer's purchase pass, or None (the gate refused one, or the network failed): the buy
    is then sent without one and its answer says what the buyer was told."""
    try:
        admitted = await earn_pass(connection, target, plan.sale_id, token, headers.get("X-Forwarded-For"))
    except (TimeoutError, OSError):
        return None
    return admitted.pass_id


async def run_load(plan: LoadPlan, on_tick: Callable[[Live], None] | None = None) -> Recording:
    """Send every buyer's requests; returns what was measured."""
    loop = asyncio.get_running_loop()
    target = Target(plan.url)
    pool = [Connection(target, plan.timeout) for _ in range(max(1, min(plan.concurrency, len(plan.buyers))))]
    try:
        connections = await _warm_up(target, pool, plan)
        perf_offset = time.perf_counter() - time.time()
        t0 = plan.start_epoch + perf_offset
        rec = Recording(t0_epoch=plan.start_epoch, connections=connections)
        live = Live(planned=len(plan.buyers) * plan.attempts)
        n = len(plan.buyers)
        spacing = plan.ramp / (plan.total or n) if plan.ramp > 0 else 0.0
        offset, stride = plan.offset, plan.stride
        buy_path = plan.buy_path
        perf = time.perf_counter
        next_buyer = 0
        done = asyncio.Event()

        # Hot loop: everything below runs once per request, keep it lean.
        sent_at, latency, category_of, counts = rec.sent, rec.latency, rec.category, live.counts
        reserved, details, start_lag = rec.reserved, rec.details, rec.start_lag

        async def worker(connection: Connection):
            nonlocal next_buyer
            while next_buyer < n:
                i = next_buyer
                next_buyer += 1
                buyer_id, token = plan.buyers[i]
                due = t0 + (offset + i * stride) * spacing
                wait = due - perf()
                if wait > 0:
                    await asyncio.sleep(wait)
                headers = {"Authorization": "Bearer " + token}
                if plan.own_addresses:
                    headers["X-Forwarded-For"] = buyer_address(buyer_id)
                if plan.gated:
                    admitted_at = perf()
                    if attempt_pass := await _admission(connection, target, plan, token, headers):
                        headers["Purchase-Pass"] = attempt_pass
                    rec.admission.append(perf() - admitted_at)
                request = target.request("POST", buy_path, headers)
                for attempt in range(plan.attempts):
                    started = perf()
                    if attempt == 0:
                        start_lag.append(started - due)
                    live.sent += 1
                    try:
                        http_status, body = await connection.send(request)
                    except (TimeoutError, OSError) as exc:
                        ended = perf()
                        category = NETWORK_ERROR
                        details[type(exc).__name__] += 1
                    else:
                        ended = perf()
                        category, data = categorize(http_status, body)
                        if category == RESERVED:
                            assert data is not None  # the category was read from its "status"
                            reserved.append((data["order_id"], buyer_id, data.get("remaining"), ended - t0))
                        elif category in (OTHER_4XX, SERVER_ERROR):
                            status = data.get("status") if isinstance(data, dict) else None
                            details[f"{http_status} {status or '(no status)'}"] += 1
                    sent_at.append(started - t0)
                    latency.append(ended - started)
                    category_of.append(category)
                    counts[category] += 1
                    live.answered += 1

        async def ticker():
            last_answered, last_at = 0, perf()
            while not done.is_set():
                try:
                    await asyncio.wait_for(done.wait(), TICK)
                except TimeoutError:
                    pass
                now = perf()
                live.elapsed = max(0.0, now - t0)
                live.rate = (live.answered - last_answered) / (now - last_at)
                last_answered, last_at = live.answered, now
                if on_tick is not None:
                    on_tick(live)

        async def lag_probe():
            while not done.is_set():
                before = loop.time()
                await asyncio.sleep(LAG_PROBE)
                rec.loop_lag.append(max(0.0, loop.time() - before - LAG_PROBE))

        wait = t0 - perf()
        if wait > 0:
            await asyncio.sleep(wait)
        cpu0, wall0 = time.process_time(), perf()
        watchers = [asyncio.create_task(ticker()), asyncio.create_task(lag_probe())]
        try:
            await asyncio.gather(*(worker(connection) for connection in pool))
        finally:
            rec.cpu_seconds = time.process_time() - cpu0
            rec.wall_seconds = perf() - wall0
            done.set()
            await asyncio.gather(*watchers)
    finally:
        for connection in pool:
            connection.close()
    return rec
