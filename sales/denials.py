"""The deny list on the hot path: buyers and address ranges that may not buy (issue 14).

The database (``sales.models.Denial``, edited in admin) is the source. ``publish`` projects
it into Redis as one numbered version: the version's two sets are written first, then the
``current`` pointer moves to it, so a reader never sees half a list. Every web process keeps
the list in memory and asks Redis for the pointer at most every ``DENY_REFRESH`` seconds,
in the background of the request that finds its copy stale: a change in admin is in force
everywhere within that bound (plus one round trip), without a restart, and a buy costs no
round trip for it. A Redis that lost the pointer (a restart without its data) gets the list
published again from the database by the first process that notices; until then each
process keeps the list it had, never an empty one.
"""

import asyncio
import ipaddress
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings

from plumbing.redis_clients import pipelined_redis, sync_redis
from sales import metrics

log = logging.getLogger(__name__)

DENIED = "denied"  # the status of a request the deny list refused (403), on every endpoint
# One hash tag: on a Redis Cluster the pointer and the sets live on one shard.
CURRENT = "{denials}:current"
NEXT = "{denials}:next"
OLD_VERSION_TTL = 60  # seconds an old version's sets outlive the pointer's move (slow readers)
_MAX_CACHED_ADDRESSES = 100_000


def _buyers_key(version: int) -> str:
    return f"{{denials}}:{version}:buyers"


def _networks_key(version: int) -> str:
    return f"{{denials}}:{version}:networks"


class _DenyList:
    def __init__(self):
        self.version: int | None = None
        self.buyers: frozenset[int] = frozenset()
        self.networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
        self.by_address: dict[str, bool] = {}
        self.checked_at = float("-inf")  # monotonic seconds
        self.refreshing: asyncio.Task | None = None

    def replace(self, version: int, buyers, networks) -> None:
        self.version = version
        self.buyers = frozenset(int(b) for b in buyers)
        self.networks = tuple(ipaddress.ip_network(n.decode() if isinstance(n, bytes) else n) for n in networks)
        self.by_address = {}

    def address_denied(self, address: str) -> bool:
        denied = self.by_address.get(address)
        if denied is None:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                return False  # not an address (a test client, a unix socket): nothing to match
            denied = any(ip in network for network in self.networks)
            if len(self.by_address) >= _MAX_CACHED_ADDRESSES:
                self.by_address.clear()
            self.by_address[address] = denied
        return denied


_list = _DenyList()


async def denied(buyer_id: int, address: str) -> str | None:
    """``"buyer"`` or ``"address"`` when the deny list refuses this request, else None.

    The first call in a process waits for the list; later ones use the copy in memory and
    refresh it in the background when it is older than ``DENY_REFRESH``.
    """
    now = time.monotonic()
    if now - _list.checked_at > settings.DENY_REFRESH:
        if _list.version is None:
            await _refresh()
        elif _list.refreshing is None or _list.refreshing.done():
            _list.refreshing = asyncio.ensure_future(_refresh())
    if buyer_id in _list.buyers:
        metrics.DENIED.inc("buyer")
        return "buyer"
    if address and _list.networks and _list.address_denied(address):
        metrics.DENIED.inc("address")
        return "address"
    return None


async def _refresh() -> None:
    _list.checked_at = time.monotonic()
    try:
        client = pipelined_redis()
        (current,) = await client.execute_many(("GET", CURRENT), retry=True)
        if current is None:
            await sync_to_async(publish)()
            (current,) = await client.execute_many(("GET", CURRENT), retry=True)
        version = int(current)
        if version != _list.version:
            buyers, networks = await client.execute_many(
                ("SMEMBERS", _buyers_key(version)), ("SMEMBERS", _networks_key(version)), retry=True
            )
            _list.replace(version, buyers, networks)
    except Exception:  # Redis or the database down: keep the list we have, try again next time
        log.warning("deny list not refreshed; keeping version %s", _list.version, exc_info=True)


def publish() -> int:
    """Project the database's deny list into Redis as a new version; returns it."""
    from sales.models import Denial

    client = sync_redis()
    version = int(client.incr(NEXT))  # numbered before the read: a higher number never holds older rows
    rows = list(Denial.objects.values_list("buyer_id", "network"))
    buyers = [buyer for buyer, _ in rows if buyer]
    networks = [network for _, network in rows if network]
    if buyers:
        client.sadd(_buyers_key(version), *buyers)
    if networks:
        client.sadd(_networks_key(version), *networks)
    previous = client.getset(CURRENT, version)
    if previous is not None and int(previous) > version:  # a newer publish moved it first: keep that one
        client.set(CURRENT, previous)
        version, previous = int(previous), version
    if previous is not None:
        client.expire(_buyers_key(int(previous)), OLD_VERSION_TTL)
        client.expire(_networks_key(int(previous)), OLD_VERSION_TTL)
    return version


def forget_cached() -> None:
    """Drop this process's copy (tests: each starts from what Redis holds)."""
    global _list
    _list = _DenyList()
