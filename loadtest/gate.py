"""Getting through a gated sale's admission as the page does (``sales.admission``): ask for a
challenge, solve it, trade the solution for a purchase pass. Used by the human buyers of a
gated run and by the bots that play by the rules (``loadtest.bots``).

The generator solves with ``sales.challenge.solve`` in its own process, so a run's sale uses a
small difficulty (``--challenge-bits``): the generator stands for thousands of phones, and a
real buyer's solve time is the page's (measured in the browser test), not the generator's.
"""

from dataclasses import dataclass

import orjson

from loadtest.http import Connection, Target
from sales import challenge


@dataclass(frozen=True, slots=True)
class Admitted:
    pass_id: str | None  # None: refused, see status
    http_status: int
    status: str
    hashes: int  # SHA-256 computed for the solution
    solution: bytes = b""  # the pass request's body (a bot replays it)


def forwarded(address: str | None) -> dict[str, str]:
    return {"X-Forwarded-For": address} if address else {}


async def earn_pass(connection: Connection, target: Target, sale_id: int, token: str, address: str | None = None):
    headers = {"Authorization": "Bearer " + token, **forwarded(address)}
    http_status, body = await connection.send(target.request("POST", f"/api/sales/{sale_id}/challenge", headers))
    issued = _json(body)
    if http_status != 200:
        return Admitted(None, http_status, issued.get("status", "?"), 0)
    counter = challenge.solve(challenge.Challenge(issued["seed"], issued["difficulty"]))
    solution = orjson.dumps({"seed": issued["seed"], "counter": counter})
    http_status, body = await connection.send(target.request("POST", f"/api/sales/{sale_id}/pass", headers, solution))
    answer = _json(body)
    return Admitted(answer.get("pass"), http_status, answer.get("status", "?"), counter + 1, solution)


def _json(body: bytes) -> dict:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
