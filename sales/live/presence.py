"""Who is watching: open websockets per sale and per signed-in buyer, counted in Redis.

The stock ticker paces each sale's updates to its audience (``audiences``); the
order worker pushes confirmations only to buyers with a socket open
(``watching``). Both counts are site-wide hashes, one field per sale or buyer.
"""

from plumbing.redis_clients import async_redis, sync_redis

VIEWERS = "live:viewers"  # sale id -> open websockets
BUYERS = "live:buyers"  # buyer id -> open websockets


async def count_viewer(sale_id: int, by: int) -> None:
    await async_redis().hincrby(VIEWERS, sale_id, by)


async def count_buyer(buyer_id: int, by: int) -> None:
    await async_redis().hincrby(BUYERS, buyer_id, by)


async def audiences() -> dict[int, int]:
    """Sale id -> open websockets."""
    return {int(sale): int(n) for sale, n in (await async_redis().hgetall(VIEWERS)).items()}


def watching(buyer_ids: list[int]) -> set[int]:
    """Those of ``buyer_ids`` with a socket open: one HMGET."""
    counts = sync_redis().hmget(BUYERS, buyer_ids)
    return {b for b, n in zip(buyer_ids, counts, strict=True) if n is not None and int(n) > 0}
