"""A crowd of buyers for the fault tests: arriving over a few seconds, trying again on 503 and
429 as clients should, while a fault strikes mid-sale."""

import asyncio
import threading
import time

import httpx

from conftest import LiveSite
from sales import inventory

TRY_FOR = 60.0  # seconds a buyer keeps trying again on 503
ARRIVALS = 3.0  # seconds over which the buyers arrive


async def crowd(site: LiveSite, sale_id: int, tokens: list[str], fault, strike_at: int) -> list[list[tuple[int, dict]]]:
    """Every buyer buys, arriving over ARRIVALS seconds, trying again on 503 and 429; ``fault()``
    strikes once the stock is down to ``strike_at``. Returns each buyer's answers, in order
    (code -1: no answer)."""
    answers: list[list[tuple[int, dict]]] = [[] for _ in tokens]
    limits = httpx.Limits(max_connections=len(tokens))
    async with httpx.AsyncClient(base_url=site.url, timeout=30, limits=limits) as client:

        async def buy(i: int, token: str) -> None:
            await asyncio.sleep(i * ARRIVALS / len(tokens))  # arriving through the fault, and after it
            give_up = time.monotonic() + TRY_FOR
            while time.monotonic() < give_up:
                try:
                    r = await client.post(f"/api/sales/{sale_id}/buy", headers={"Authorization": f"Bearer {token}"})
                except httpx.HTTPError:
                    answers[i].append((-1, {}))
                else:
                    answers[i].append((r.status_code, r.json()))
                    if r.status_code not in (503, 429):
                        return
                await asyncio.sleep(0.25)

        striker = threading.Thread(target=_strike_at, args=(sale_id, strike_at, fault))
        striker.start()
        await asyncio.gather(*(buy(i, t) for i, t in enumerate(tokens)))
        striker.join()
    return answers


def _strike_at(sale_id: int, strike_at: int, fault) -> None:
    while True:
        left = inventory.remaining([sale_id])[sale_id]
        assert left is not None, "the sale is not in Redis"
        if left <= strike_at:
            break
        time.sleep(0.0005)
    fault()
