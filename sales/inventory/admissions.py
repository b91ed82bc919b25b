"""The sale's admissions as Redis decided them: the audit stream that ``admit.lua`` (a pass
issued) and ``purchase.lua`` (a unit reserved) append to in the same script as the decision,
so its order is the order Redis took them. ``sales.audit`` chains them; this reads them."""

from dataclasses import dataclass

from plumbing.redis_clients import sync_redis
from sales.inventory import keys

_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Admission:
    at_ms: int  # Redis time (the stream id's first part)
    kind: str  # "pass" or "reserved"
    buyer_id: int
    order_id: str  # "" for a pass


def admissions(sale_id: int) -> list[Admission]:
    """Every admission of the sale, oldest first."""
    client, found, start = sync_redis(), [], "-"
    while True:
        page = client.xrange(keys.audit(sale_id), min=start, max="+", count=_PAGE)
        for stream_id, fields in page:
            found.append(
                Admission(
                    at_ms=int(stream_id.split(b"-")[0]),
                    kind=fields[b"kind"].decode(),
                    buyer_id=int(fields[b"buyer"]),
                    order_id=fields.get(b"order", b"").decode(),
                )
            )
        if len(page) < _PAGE:
            return found
        start = "(" + page[-1][0].decode()
