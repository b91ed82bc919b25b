"""A sale's audit log: chained from Redis's admissions, published by the operator, served with
buyers pseudonymised (issue 14). ``sales.audit`` is the chain's pure logic; this gives it data.

Before it is published the log is built live from Redis (``sales.inventory.admissions``) on each
request; ``publish`` freezes it with its head in the database, where it outlives the sale's
Redis keys, and from then on the published copy is what is served. A buyer learns their own
pseudonym and entries (``own_entries``) and can check them against the published head
(``manage.py verify_audit``, or the audit page).
"""

import hashlib

from django.conf import settings

from sales import audit, inventory
from sales.models import PublishedAudit, Sale


def _secret() -> bytes:
    return hashlib.sha256(b"seckill.audit-pseudonyms:" + settings.SECRET_KEY.encode()).digest()


def pseudonym(sale_id: int, buyer_id: int) -> str:
    return audit.pseudonym(_secret(), sale_id, buyer_id)


def live_chain(sale_id: int) -> list[audit.Link]:
    """The chain of what Redis holds now, in its order."""
    secret = _secret()
    entries = (
        audit.Entry(
            seq=seq,
            at_ms=admission.at_ms,
            kind=admission.kind,
            buyer=audit.pseudonym(secret, sale_id, admission.buyer_id),
            order_id=admission.order_id,
        )
        for seq, admission in enumerate(inventory.admissions(sale_id), start=1)
    )
    return audit.build(sale_id, entries)


def publish(sale: Sale) -> PublishedAudit:
    """Freeze the log as it stands, with its head; publishing again replaces it (a later head
    covers everything the earlier one did, and what came after)."""
    links = live_chain(sale.pk)
    published, _ = PublishedAudit.objects.update_or_create(
        sale=sale,
        defaults={"head": audit.head(sale.pk, links), "entries": len(links), "log": audit.to_json(links)},
    )
    return published


def served_log(sale_id: int) -> dict | None:
    """What ``GET /api/sales/<id>/audit`` answers; None for an unknown sale."""
    if not Sale.objects.filter(pk=sale_id).exists():
        return None
    published = PublishedAudit.objects.filter(sale_id=sale_id).first()
    if published is not None:
        rows, head = published.log, published.head
    else:
        links = live_chain(sale_id)
        rows, head = audit.to_json(links), audit.head(sale_id, links)
    return {
        "sale_id": sale_id,
        "genesis": audit.genesis(sale_id),
        "head": head,
        "published": published is not None,
        "published_at": published.published_at.isoformat() if published else None,
        "entries": rows,
    }


def own_entries(sale_id: int, buyer_id: int) -> dict | None:
    """The buyer's pseudonym and their entries of the served log (their proof); None for an unknown sale."""
    log = served_log(sale_id)
    if log is None:
        return None
    mine = pseudonym(sale_id, buyer_id)
    return {
        "sale_id": sale_id,
        "pseudonym": mine,
        "head": log["head"],
        "published": log["published"],
        "entries": [row for row in log["entries"] if row["buyer"] == mine],
    }
