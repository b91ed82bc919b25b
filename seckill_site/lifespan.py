"""What a web process does before its first request and after its last (ASGI lifespan).

Startup connects the Kafka producer and the buy path's Redis connection, so the first
buyers do not pay for it (about half a second); a Redis that does not answer fails the
start-up (librdkafka connects in the background, so Kafka's absence does not). Shutdown comes after the server stopped
accepting: new buys answer "retry", every buy still in flight ends first (its broker
ack or its give-back, ``orders.placing.drain``), then the producer is flushed and closed. So a web process
stopped mid-sale (SIGTERM) leaves no unit held without an order.

granian and uvicorn speak lifespan. daphne does not: ``seckill_site.daphne_server``
runs the same ``startup``/``shutdown`` from Twisted's reactor instead, and plain
``daphne seckill_site.asgi:application`` connects on the first buy and, when it
stops, cancels the requests in flight and waits for them, which
``orders.placing.place_order`` turns into finishing them; it does not flush the
producer (there is nothing left to flush once every buy has its answer).
"""

import asyncio
import logging

from orders import placing
from plumbing.redis_clients import pipelined_redis

log = logging.getLogger("seckill_site")


async def startup() -> None:
    await asyncio.to_thread(placing.order_producer)
    await pipelined_redis().execute("PING")


async def shutdown() -> None:
    await placing.drain()
    left = await asyncio.to_thread(placing.close_producer)
    if left:
        log.warning("%d order events were still unacknowledged when the producer closed", left)


async def lifespan(scope, receive, send) -> None:
    """The ASGI lifespan application."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await startup()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await shutdown()
            except Exception as exc:
                await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return
