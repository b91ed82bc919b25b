"""The stock ticker: publishes each running sale's stock to its viewers.

Why a ticker and not a publish per purchase: at the start of a sale thousands
of purchases a second change the stock, and nobody can read more than a few
updates a second. Every ``interval`` (0.1 s) the ticker reads the remaining
stock of the sales not over yet (or over for less than 30 s), and publishes
only what changed (and, every ``KEYFRAME`` seconds, what did not), so a sale's viewers
get at most ~10 messages a second, the newest value wins, and the last value (0, sold
out, ended) is always sent. The buy
hot path does no extra work at all.

Paced to the audience: every update is one websocket frame per viewer, and
a web process can send only so many frames a second. So a sale with many viewers
gets updates less often: its interval is ``max(interval, viewers / LIVE_PUSH_BUDGET)``
— 0.1 s up to 800 viewers with the default budget of 8,000 frames a second, 1.25 s
for 10,000 viewers. (Measured with ``bench/fanout.py`` under granian with 2 workers:
8,000 gave 1,000 and 3,000 viewers p99 delays of 121 and 281 ms against 244 and
545 ms at 4,000, and 10,000 viewers about the same at both, ~2 s; each web process
also keeps only the newest update per sale, ``sales.live.audience``, so a budget
set too high costs fresher updates, not a backlog.)

Published once for the whole site: a Redis lock elects one ticker; further
copies wait as hot standbys and take over within ``LOCK_TTL`` if it dies.
"""

import asyncio
import logging
import time
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from redis.exceptions import LockError, RedisError

from plumbing import heartbeat
from plumbing.redis_clients import async_redis
from sales import inventory
from sales.live import messages, metrics, presence
from sales.live.audience import publish_stock
from sales.models import Sale
from sales.state import sale_state, to_ms

log = logging.getLogger(__name__)

LEADER_LOCK = "stock-ticker:leader"
LOCK_TTL = 3.0
SALES_REFRESH = 1.0
# An unchanged value is sent again after this many seconds, for viewers that missed it
# (a process resubscribing after a Redis error, a socket that joined mid-update).
KEYFRAME = 5.0
# Sales that ended less than this long ago still get their final "ended" state out.
ENDED_GRACE = timedelta(seconds=30)


@database_sync_to_async  # closes connections that died meanwhile, as a request would
def _active_sales() -> dict[int, tuple[int, int]]:
    """Sale id -> (starts_ms, ends_ms) of sales not long over."""
    rows = Sale.objects.filter(ends_at__gt=timezone.now() - ENDED_GRACE).values_list("pk", "starts_at", "ends_at")
    return {pk: (to_ms(starts), to_ms(ends)) for pk, starts, ends in rows}


class StockTicker:
    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.stopping = False
        self.published: dict[int, tuple[int, str]] = {}
        self._sent_at: dict[int, float] = {}
        self._sales: dict[int, tuple[int, int]] = {}
        self._sales_loaded_at = 0.0
        self.messages_sent = 0

    def stop(self, *_args) -> None:
        self.stopping = True

    async def tick(self) -> int:
        """Publish what changed since the last tick (and is due for its audience); returns how many updates went out."""
        now = time.monotonic()
        if now - self._sales_loaded_at > SALES_REFRESH:
            self._sales = await _active_sales()
            self._sales_loaded_at = now
        if not self._sales:
            return 0
        stock = await inventory.remaining_now(list(self._sales))
        viewers = await presence.audiences()
        now_ms = int(time.time() * 1000)
        sent = 0
        for sale_id, remaining in stock.items():
            metrics.STOCK_REMAINING.labels(str(sale_id)).set(remaining)
            metrics.LIVE_VIEWERS.labels(str(sale_id)).set(viewers.get(sale_id, 0))
            starts_ms, ends_ms = self._sales[sale_id]
            current = (remaining, sale_state(now_ms, starts_ms, ends_ms, remaining))
            since = now - self._sent_at.get(sale_id, float("-inf"))
            if self.published.get(sale_id) == current and since < KEYFRAME:
                continue
            audience = viewers.get(sale_id, 0)
            pace = max(self.interval, audience / settings.LIVE_PUSH_BUDGET)
            if since < pace - self.interval / 2:
                continue  # too soon for this audience; the newest value goes out later
            self.published[sale_id] = current
            self._sent_at[sale_id] = now
            await publish_stock(sale_id, messages.text(messages.stock_payload(sale_id, *current)))
            self.messages_sent += 1
            sent += 1
        return sent

    async def run(self) -> None:
        client = async_redis()
        lock = client.lock(LEADER_LOCK, timeout=LOCK_TTL)
        leading = False
        while not self.stopping:
            started = time.monotonic()
            heartbeat.beat("publish_stock")
            try:
                if leading:
                    leading = await lock.reacquire()
                else:
                    leading = await lock.acquire(blocking=False)
                    if leading:
                        log.info("stock ticker: leading")
                        self.published.clear()
            except (RedisError, LockError):
                log.exception("stock ticker: leader lock")
                leading = False
            if leading:
                try:
                    await self.tick()
                except Exception:  # a failed tick keeps the lead; the next one sends what changed
                    log.exception("stock ticker: tick failed")
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
        if leading:
            await lock.release()
