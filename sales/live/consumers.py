"""WebSocket ``/ws/sales/<id>/``: the sale's stock and state, pushed.

On connect the viewer gets a snapshot; afterwards the stock ticker
(``sales.live.ticker``) pushes changes, at most ~10 a second per sale, through this
process's ``LocalAudience``. A signed-in buyer (session cookie, or ``?token=`` for
clients without cookies) also gets its own order confirmations, through the channel
layer.
"""

from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

from plumbing.http import parse_id
from sales.buyers import InvalidToken, buyer_from_token
from sales.live import messages, presence
from sales.live.audience import local_audience
from sales.selectors import sale_public

CLOSE_UNKNOWN_SALE = 4404
CLOSE_BAD_TOKEN = 4401


class SaleConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.groups_joined = []
        self.watching = None
        self.counted_sale = None
        self.counted_buyer = None
        sale_id = parse_id(self.scope["url_route"]["kwargs"]["sale_id"])
        buyer_id, bad_token = self._buyer()
        await self.accept()
        if bad_token:
            await self.close(code=CLOSE_BAD_TOKEN)
            return
        snapshot = await sale_public(sale_id) if sale_id is not None else None
        if sale_id is None or snapshot is None:
            await self.close(code=CLOSE_UNKNOWN_SALE)
            return
        local_audience().join(sale_id, self.send_frame)
        self.watching = sale_id
        if buyer_id is not None:
            self.groups_joined.append(messages.buyer_group(buyer_id))
            await self.channel_layer.group_add(self.groups_joined[-1], self.channel_name)
        await presence.count_viewer(sale_id, 1)
        self.counted_sale = sale_id
        if buyer_id is not None:
            await presence.count_buyer(buyer_id, 1)
            self.counted_buyer = buyer_id
        await self.send_json(messages.stock_payload(sale_id, snapshot["remaining"], snapshot["state"]))

    def _buyer(self) -> tuple[int | None, bool]:
        token = parse_qs(self.scope.get("query_string", b"").decode()).get("token")
        if token:
            try:
                return buyer_from_token(token[0]), False
            except InvalidToken:
                return None, True
        user = self.scope.get("user")
        return (user.pk if user is not None and user.is_authenticated else None), False

    async def disconnect(self, code):
        if self.watching is not None:
            local_audience().leave(self.watching, self.send_frame)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.counted_sale is not None:
            await presence.count_viewer(self.counted_sale, -1)
        if self.counted_buyer is not None:
            await presence.count_buyer(self.counted_buyer, -1)

    async def dispatch(self, message):
        """Channels' dispatch, without its ``aclose_old_connections()`` per message.

        That call hops to a thread for every message, to close database
        connections this consumer never opens (it reads Redis only); with a
        thousand viewers and ten updates a second it was a third of a daphne
        process's CPU (profiled with py-spy during bench/fanout.py).
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_frame(self, text: str) -> None:
        await self.base_send({"type": "websocket.send", "text": text})

    async def live_message(self, event):
        await self.send_frame(event["text"])


class BuyerConsumer(SaleConsumer):
    """WebSocket ``/ws/orders/``: only the signed-in buyer's own order updates (the My orders page).
    A visitor who is not signed in (no session, no valid ``?token=``) is closed with 4401."""

    async def connect(self):
        self.groups_joined = []
        self.watching = None
        self.counted_sale = None
        self.counted_buyer = None
        buyer_id, bad_token = self._buyer()
        if not bad_token and buyer_id is not None:
            # joined before the socket is accepted: a change right after the page connects is not missed
            self.groups_joined.append(messages.buyer_group(buyer_id))
            await self.channel_layer.group_add(self.groups_joined[-1], self.channel_name)
            await presence.count_buyer(buyer_id, 1)
            self.counted_buyer = buyer_id
        await self.accept()
        if bad_token or buyer_id is None:
            await self.close(code=CLOSE_BAD_TOKEN)


class NoSuchPath(AsyncWebsocketConsumer):
    """Any other websocket path: accepted, then closed with the unknown-sale code."""

    async def connect(self):
        await self.accept()
        await self.close(code=CLOSE_UNKNOWN_SALE)
