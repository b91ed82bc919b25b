"""A sale's stock updates to the viewers in this process: one Redis subscription per
process, one websocket frame per viewer, nothing per viewer in Redis.

Why not the channel layer's groups (what carried stock updates until issue 9):
the pubsub layer delivers a group message by putting it on every member's queue;
each viewer's consumer task then wakes, decodes its own copy with msgpack and
dispatches it before the frame goes out. Measured with `bench/fanout.py --viewers
10000` under granian with 2 workers: with groups, the purchases beside the viewers took 14.4 s
and 74 viewers never got the final value; with this module, 5.6 s and every viewer
got it. Buyers' own confirmations still go through the channel layer (``buyer.<id>``
groups): they are one frame to one or two sockets.

A viewer that missed an update (its process was resubscribing after a Redis
error) is not left behind: the ticker repeats an unchanged value every
``KEYFRAME`` seconds (``sales.live.ticker``).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from plumbing.redis_clients import async_redis
from sales.live import messages

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]
# Frames written concurrently; between batches the event loop serves buys.
BATCH = 512
RETRY_AFTER = 1.0  # seconds before resubscribing after a Redis error


class LocalAudience:
    """This process's viewers per sale, and the two tasks that feed them.

    One task reads the subscription and keeps only the newest message of each sale;
    the other writes it out. So an audience larger than the process can write to
    in one interval gets fewer, newer updates, never a growing queue of old ones.
    """

    def __init__(self):
        self.viewers: dict[int, set[Send]] = {}
        self.frames_sent = 0
        self._due: dict[int, str] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def join(self, sale_id: int, send: Send) -> None:
        self.viewers.setdefault(sale_id, set()).add(send)
        if not self._tasks or any(task.done() for task in self._tasks):
            for task in self._tasks:
                task.cancel()
            self._tasks = [
                asyncio.create_task(self._listen(), name="live-audience-listen"),
                asyncio.create_task(self._write(), name="live-audience-write"),
            ]

    def leave(self, sale_id: int, send: Send) -> None:
        viewers = self.viewers.get(sale_id)
        if viewers is not None:
            viewers.discard(send)
            if not viewers:
                del self.viewers[sale_id]

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()

    def receive(self, sale_id: int, text: str) -> None:
        """A message for a sale: it replaces any of the sale's not yet written."""
        if sale_id in self.viewers:
            self._due[sale_id] = text
            self._wake.set()

    async def deliver(self, sale_id: int, text: str) -> int:
        """Write ``text`` to every viewer of the sale here; returns how many frames went out.

        The writes of a batch run concurrently: a server's ``send`` may wait for its
        own I/O thread (granian) or for the socket (uvicorn), and one at a time that
        wait was most of the cost.
        """
        viewers = tuple(self.viewers.get(sale_id, ()))
        sent = 0
        for start in range(0, len(viewers), BATCH):
            batch = viewers[start : start + BATCH]
            results = await asyncio.gather(*(send(text) for send in batch), return_exceptions=True)
            sent += results.count(None)  # the others were sockets closing under us
        self.frames_sent += sent
        return sent

    async def _write(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            due, self._due = self._due, {}
            for sale_id, text in due.items():
                await self.deliver(sale_id, text)

    async def _listen(self) -> None:
        while True:
            pubsub = async_redis().pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(messages.STOCK_CHANNELS)
                async for message in pubsub.listen():
                    self.receive(messages.sale_of_stock_channel(message["channel"]), message["data"].decode())
            except RedisError:
                log.warning("live audience: Redis subscription lost; resubscribing", exc_info=True)
                await asyncio.sleep(RETRY_AFTER)
            finally:
                await pubsub.aclose()


_audiences: dict[int, LocalAudience] = {}


def local_audience() -> LocalAudience:
    """This event loop's audience (a web process runs one loop; tests run several)."""
    loop_id = id(asyncio.get_running_loop())
    audience = _audiences.get(loop_id)
    if audience is None:
        audience = _audiences[loop_id] = LocalAudience()
    return audience


async def publish_stock(sale_id: int, text: str) -> None:
    """Send a sale's stock message to its viewers in every web process."""
    await async_redis().publish(messages.stock_channel(sale_id), text)
