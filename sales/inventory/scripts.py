"""The Lua scripts of the stock, each defined once in ``sales/inventory/lua/<name>.lua``.

``ScriptSet(client)`` binds them to a client with redis-py's ``register_script``:
django-redis (admin, commands, the order worker; ``sync_scripts``) or
``plumbing.redis_pipe.PipelinedRedis`` (the buy hot path; ``hot_scripts``). Either
runs a script by its SHA and loads it again if Redis forgot it.

``purchase`` is told the run_id of the server it runs on: on the hot path's client the
connection fills it in (``plumbing.redis_pipe.SERVER_ID``, free); elsewhere the script
asks ``INFO`` itself. The scripts off the hot path always ask ``INFO``.
"""

from functools import cache
from pathlib import Path

from plumbing.redis_clients import pipelined_redis, sync_redis
from plumbing.redis_pipe import SERVER_ID
from sales.inventory import keys

LUA_DIR = Path(__file__).with_name("lua")


@cache
def source(name: str) -> str:
    return (LUA_DIR / f"{name}.lua").read_text()


class ScriptSet:
    """The scripts bound to one client, with their keys laid out."""

    def __init__(self, client, server=""):
        """``server``: what ``purchase`` is told of the server's run_id (see above)."""
        self._server = server
        self._purchase = client.register_script(source("purchase"))
        self._release = client.register_script(source("release"))
        self._confirm = client.register_script(source("confirm"))
        self._load_stock = client.register_script(source("load_stock"))
        self._rebuild = client.register_script(source("rebuild"))
        self._restock = client.register_script(source("restock"))
        self._admit = client.register_script(source("admit"))

    def purchase(
        self,
        sale_id: int,
        buyer_id: int,
        order_id: str,
        rate_limit: int,
        second: int,
        client=None,
        idempotency_key="",
        pass_id="",
        address="",
        address_limit=0,
    ):
        """``client`` may be a pipeline (``None``: the bound client)."""
        return self._purchase(
            keys=[
                keys.meta(sale_id),
                keys.stock(sale_id),
                keys.buyers(sale_id),
                keys.orders(sale_id),
                keys.rate(sale_id, buyer_id, second),
                keys.since(sale_id),
                keys.idempotency(sale_id),
                keys.passes(sale_id),
                keys.audit(sale_id),
                keys.address_rate(sale_id, address, second),
            ],
            args=[buyer_id, order_id, rate_limit, idempotency_key, self._server, pass_id, address_limit],
            client=client,
        )

    def release(self, sale_id: int, buyer_id: int, order_id: str, held_before_ms: int | None = None, **options):
        """``held_before_ms``: release only a hold older than that (2 = kept). ``options`` go to the
        client's script call (``retry=True`` on the hot path's client: the script is idempotent, a
        second run answers -1)."""
        return self._release(
            keys=[
                keys.stock(sale_id),
                keys.buyers(sale_id),
                keys.orders(sale_id),
                keys.confirmed(sale_id),
                keys.since(sale_id),
                keys.meta(sale_id),
            ],
            args=[buyer_id, order_id] if held_before_ms is None else [buyer_id, order_id, held_before_ms],
            **options,
        )

    def confirm(self, sale_id: int, order_ids: list[str], client=None) -> list[int] | int:
        """1 (confirmed) or 0 (released) per order id, or -1 (the sale's state is unchecked);
        ``client`` may be a pipeline."""
        return self._confirm(
            keys=[keys.meta(sale_id), keys.orders(sale_id), keys.confirmed(sale_id), keys.since(sale_id)],
            args=order_ids,
            client=client,
        )

    def load_stock(self, sale_id: int, *, total, starts_ms, ends_ms, limit, price, sold, title, fresh, gated="0"):
        return self._load_stock(
            keys=[keys.meta(sale_id), keys.stock(sale_id)],
            args=[total, starts_ms, ends_ms, limit, price, sold, title, int(fresh), gated],
        )

    def rebuild(
        self,
        sale_id: int,
        *,
        offer: list,
        confirmed: list[tuple[str, int]],
        held: list[tuple[str, int]],
        returned: list[str],
    ):
        """``offer``: total, starts_ms, ends_ms, limit, price, title, gated (``stock.gate_field``)."""
        pairs = [part for order_id, buyer_id in (*confirmed, *held) for part in (order_id, buyer_id)]
        return self._rebuild(
            keys=[
                keys.meta(sale_id),
                keys.stock(sale_id),
                keys.buyers(sale_id),
                keys.orders(sale_id),
                keys.confirmed(sale_id),
                keys.since(sale_id),
                keys.idempotency(sale_id),
                keys.returned(sale_id),
            ],
            args=[*offer, len(confirmed), len(returned), *returned, *pairs],
        )

    def restock(self, sale_id: int, buyer_id: int, order_id: str, client=None) -> int:
        """1 returned now, 0 before, -1 not a confirmed order, -2 the sale is unchecked."""
        return self._restock(
            keys=[
                keys.stock(sale_id),
                keys.buyers(sale_id),
                keys.orders(sale_id),
                keys.confirmed(sale_id),
                keys.returned(sale_id),
                keys.meta(sale_id),
            ],
            args=[buyer_id, order_id],
            client=client,
        )

    def admit(self, sale_id: int, buyer_id: int, nonce: str, pass_id: str, *, ttl_ms: int):
        return self._admit(
            keys=[
                keys.meta(sale_id),
                keys.stock(sale_id),
                keys.passes(sale_id),
                keys.seeds(sale_id),
                keys.audit(sale_id),
            ],
            args=[buyer_id, nonce, pass_id, ttl_ms],
        )


_sync: ScriptSet | None = None
_hot: dict[int, ScriptSet] = {}


def sync_scripts() -> ScriptSet:
    global _sync
    if _sync is None:
        _sync = ScriptSet(sync_redis())
    return _sync


def hot_scripts() -> ScriptSet:
    """The scripts on this event loop's pipelined client."""
    client = pipelined_redis()
    scripts = _hot.get(id(client))
    if scripts is None:
        scripts = _hot[id(client)] = ScriptSet(client, server=SERVER_ID)
    return scripts
