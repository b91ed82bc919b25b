"""A sale's admissions as a hash chain anyone can check (issue 14): pure logic, no storage.

Why a chain: after a sale, buyers who lost suspect the order was rigged. The operator
publishes the chain's head when the sale ends; from then on no entry can be altered,
dropped, inserted or moved without every later hash changing, so a buyer holding the
published head and the log can check that their entry is where the server says, and that
reservations were taken in sequence order, first come, first served.

An entry is what Redis decided, in the order it decided it: ``seq`` (1, 2, 3, … with no
gap), ``at_ms`` (the Redis server time, never decreasing), ``kind`` (``pass`` issued or
unit ``reserved``), ``buyer`` (a pseudonym: see ``pseudonym``) and ``order_id`` for a
reservation. Each hash is SHA-256 over the previous hash and the entry's canonical JSON;
the first entry's previous hash is the sale's genesis, so no two sales share a chain.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

KINDS = ("pass", "reserved")


class ChainBroken(Exception):
    """The log does not verify; the text says at which entry and why."""


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    at_ms: int
    kind: str
    buyer: str
    order_id: str = ""

    def canonical(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Link:
    entry: Entry
    hash: str  # hex SHA-256 of the previous hash and this entry


def genesis(sale_id: int) -> str:
    return hashlib.sha256(f"seckill audit chain of sale {sale_id}".encode()).hexdigest()


def link_hash(previous: str, entry: Entry) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + entry.canonical()).hexdigest()


def pseudonym(secret: bytes, sale_id: int, buyer_id: int) -> str:
    """What the public log shows for a buyer: stable within a sale, unlinkable across sales
    and to the account without the server's secret; the buyer is told their own."""
    return hmac.new(secret, f"{sale_id}:{buyer_id}".encode(), hashlib.sha256).hexdigest()[:16]


def build(sale_id: int, entries: Iterable[Entry]) -> list[Link]:
    """Chain entries already in Redis's order (checked as ``verify`` does)."""
    links: list[Link] = []
    previous = genesis(sale_id)
    for entry in entries:
        _check_entry(links[-1].entry if links else None, entry)
        previous = link_hash(previous, entry)
        links.append(Link(entry=entry, hash=previous))
    return links


def head(sale_id: int, links: Sequence[Link]) -> str:
    return links[-1].hash if links else genesis(sale_id)


def verify(sale_id: int, links: Sequence[Link], published_head: str) -> None:
    """Raise ``ChainBroken`` unless every hash follows from the one before, the sequence has
    no gap and no step back, time never goes back, and the last hash is the published head."""
    previous = genesis(sale_id)
    for index, link in enumerate(links):
        _check_entry(links[index - 1].entry if index else None, link.entry)
        previous = link_hash(previous, link.entry)
        if link.hash != previous:
            raise ChainBroken(f"entry seq {link.entry.seq}: its hash does not follow from the entries before it")
    if previous != published_head:
        raise ChainBroken("the log does not end at the published head (an entry was dropped, added or changed)")


def _check_entry(before: Entry | None, entry: Entry) -> None:
    expected = before.seq + 1 if before else 1
    if entry.seq != expected:
        raise ChainBroken(f"entry seq {entry.seq}: expected seq {expected}")
    if before and entry.at_ms < before.at_ms:
        raise ChainBroken(f"entry seq {entry.seq}: its time is before the previous entry's")
    if entry.kind not in KINDS:
        raise ChainBroken(f"entry seq {entry.seq}: unknown kind {entry.kind!r}")
    if entry.kind == "reserved" and not entry.order_id:
        raise ChainBroken(f"entry seq {entry.seq}: a reservation without its order id")


def to_json(links: Sequence[Link]) -> list[dict]:
    return [{**asdict(link.entry), "hash": link.hash} for link in links]


def from_json(rows: Iterable[dict]) -> list[Link]:
    """The served log back into links; a malformed row is a ``ChainBroken``."""
    links = []
    for row in rows:
        try:
            fields = {name: row[name] for name in ("seq", "at_ms", "kind", "buyer")}
            entry = Entry(**fields, order_id=row.get("order_id", ""))
            if not isinstance(entry.seq, int) or not isinstance(entry.at_ms, int):
                raise TypeError("seq and at_ms are integers")
            links.append(Link(entry=entry, hash=str(row["hash"])))
        except (KeyError, TypeError) as exc:
            raise ChainBroken(f"malformed entry {row!r}: {exc}") from None
    return links


def check_own(links: Sequence[Link], own: Iterable[dict]) -> int:
    """Raise ``ChainBroken`` unless each of a buyer's own entries (as the server told them,
    with its hash) is in the log at its ``seq``, unchanged; returns how many were checked."""
    by_seq = {link.entry.seq: link for link in links}
    checked = 0
    for mine in from_json(own):
        found = by_seq.get(mine.entry.seq)
        if found is None or found != mine:
            raise ChainBroken(f"your entry seq {mine.entry.seq} is not in the log as you were told it")
        checked += 1
    return checked
