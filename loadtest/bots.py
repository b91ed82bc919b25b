"""A bot swarm beside the human buyers (``loadtest --bots N``): scripts that skip the page.

The N bots are four equal crews, each playing one trick the admission gate (issue 14) is meant
to beat; every bot has an account of its own, as a farm that mints accounts would:

- ``direct``: no challenge, straight at the buy endpoint the moment the sale opens, clicking
  again at once (``BOT_CLICKS`` times);
- ``replay``: one bot of each group of ``REPLAY_GROUP`` earns a pass honestly, and the whole
  group replays it (their own tokens, the owner's pass) and replays its solution for passes;
- ``farm``: many accounts from few addresses (``FARM_ADDRESSES``, sent as X-Forwarded-For):
  they solve the challenge like the page and buy with the pass, retrying what the per-address
  limit refuses;
- ``early``: requests before the start (a pass and buys from ``EARLY_BY`` seconds ahead), then
  ``direct`` once the sale is open.

What a bot does when the sale is not gated: the challenge answers ``not_required`` and it buys
without a pass, which is what the same scripts win on a site without the gate.
"""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson

from loadtest.client import buyer_address
from loadtest.gate import earn_pass, forwarded
from loadtest.http import Connection, Target

KINDS = ("direct", "replay", "farm", "early")
BOT_CLICKS = 3
REPLAY_GROUP = 10
FARM_ADDRESSES = ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4")
FARM_RETRIES = 10
EARLY_BY = 1.0  # seconds before the start


@dataclass
class BotPlan:
    url: str
    sale_id: int
    bots: list[tuple[int, str]]  # (buyer id, token)
    start_epoch: float
    timeout: float
    concurrency: int = 64


@dataclass
class BotRecording:
    answers: Counter = field(default_factory=Counter)  # (kind, "403 pass_required") -> count
    reserved: list[tuple[str, int, str]] = field(default_factory=list)  # order id, buyer id, kind
    hashes: int = 0  # SHA-256 the bots computed for their solutions
    requests: int = 0

    def won_by_kind(self) -> Counter:
        return Counter(kind for _, _, kind in self.reserved)


def crews(bots: list[tuple[int, str]]) -> dict[str, list[tuple[int, str]]]:
    """The bots dealt into the four crews, in turn."""
    return {kind: bots[i :: len(KINDS)] for i, kind in enumerate(KINDS)}


async def run_bots(plan: BotPlan) -> BotRecording:
    target = Target(plan.url)
    rec = BotRecording()
    buy_path = f"/api/sales/{plan.sale_id}/buy"
    pass_path = f"/api/sales/{plan.sale_id}/pass"
    perf_offset = time.perf_counter() - time.time()
    t0 = plan.start_epoch + perf_offset

    async def send(connection: Connection, kind: str, buyer_id: int, request: bytes) -> dict:
        rec.requests += 1
        try:
            http_status, body = await connection.send(request)
        except (TimeoutError, OSError) as exc:
            rec.answers[(kind, type(exc).__name__)] += 1
            return {}
        data = orjson.loads(body) if body[:1] == b"{" else {}
        rec.answers[(kind, f"{http_status} {data.get('status', '?')}")] += 1
        if http_status == 201 and data.get("status") == "reserved":
            rec.reserved.append((data["order_id"], buyer_id, kind))
        return data

    def buy(buyer_id: int, token: str, pass_id: str | None = None, address: str | None = None) -> bytes:
        # every bot but the farm's sends from an address of its own (rented proxies)
        headers = {"Authorization": "Bearer " + token, **forwarded(address or buyer_address(buyer_id))}
        if pass_id:
            headers["Purchase-Pass"] = pass_id
        return target.request("POST", buy_path, headers)

    async def until(moment: float) -> None:
        wait = moment - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)

    async def direct(connection, buyer_id, token, kind="direct"):
        await until(t0)
        for _ in range(BOT_CLICKS):
            if (await send(connection, kind, buyer_id, buy(buyer_id, token))).get("status") == "reserved":
                return

    async def early(connection, buyer_id, token):
        await until(t0 - EARLY_BY)
        await _admit(connection, "early", buyer_id, token)
        await send(connection, "early", buyer_id, buy(buyer_id, token))
        await direct(connection, buyer_id, token, kind="early")

    async def _admit(connection, kind, buyer_id, token, address=None):
        try:
            admitted = await earn_pass(connection, target, plan.sale_id, token, address or buyer_address(buyer_id))
        except (TimeoutError, OSError) as exc:
            rec.answers[(kind, f"pass {type(exc).__name__}")] += 1
            return None
        rec.hashes += admitted.hashes
        rec.answers[(kind, f"pass {admitted.http_status} {admitted.status}")] += 1
        return admitted

    async def farm(connection, buyer_id, token, address):
        await until(t0)
        admitted = await _admit(connection, "farm", buyer_id, token, address)
        pass_id = admitted.pass_id if admitted else None
        for _ in range(FARM_RETRIES):
            answer = await send(connection, "farm", buyer_id, buy(buyer_id, token, pass_id, address))
            if answer.get("status") not in ("address_limited", "rate_limited"):
                return
            await asyncio.sleep(0.2)

    async def replay(connection, group):
        await until(t0)
        (owner_id, owner_token), *others = group
        admitted = await _admit(connection, "replay", owner_id, owner_token)
        if admitted is None or admitted.pass_id is None:  # not gated: plain clicks
            for buyer_id, token in others:
                await send(connection, "replay", buyer_id, buy(buyer_id, token))
            if admitted is not None and admitted.status == "not_required":
                await send(connection, "replay", owner_id, buy(owner_id, owner_token))
            return
        for buyer_id, token in others:  # another buyer's pass
            await send(connection, "replay", buyer_id, buy(buyer_id, token, admitted.pass_id))
        await send(connection, "replay", owner_id, buy(owner_id, owner_token, admitted.pass_id))  # its one use
        await send(connection, "replay", owner_id, buy(owner_id, owner_token, admitted.pass_id))  # used up
        for buyer_id, token in group:  # the solution again, for another pass
            headers = {"Authorization": "Bearer " + token, **forwarded(buyer_address(buyer_id))}
            request = target.request("POST", pass_path, headers, admitted.solution)
            answer = await send(connection, "replay", buyer_id, request)
            if answer.get("pass"):  # a second pass from one solution would be a defect: spend it
                await send(connection, "replay", buyer_id, buy(buyer_id, token, answer["pass"]))

    crew = crews(plan.bots)
    # (script, its arguments after the connection); the early crew first: its requests are due first
    jobs: list[tuple] = [(early, b, t) for b, t in crew["early"]]
    jobs += [(direct, b, t) for b, t in crew["direct"]]
    jobs += [(farm, b, t, FARM_ADDRESSES[i % len(FARM_ADDRESSES)]) for i, (b, t) in enumerate(crew["farm"])]
    jobs += [(replay, crew["replay"][i : i + REPLAY_GROUP]) for i in range(0, len(crew["replay"]), REPLAY_GROUP)]
    pending = list(reversed(jobs))

    async def worker():
        connection = Connection(target, plan.timeout)
        try:
            while pending:
                script, *args = pending.pop()
                await script(connection, *args)
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(max(1, min(plan.concurrency, len(jobs))))))
    return rec
