"""The audit hash chain: pure logic, no service (the log's storage and endpoint come later)."""

import dataclasses

import pytest

from sales import audit
from sales.audit import ChainBroken, Entry

SALE = 7


def entries(n=6):
    out = []
    for seq in range(1, n + 1):
        kind = "pass" if seq % 2 else "reserved"
        order_id = f"order-{seq}" if kind == "reserved" else ""
        out.append(Entry(seq=seq, at_ms=1_000 + seq // 2, kind=kind, buyer=f"b{seq % 3}", order_id=order_id))
    return out


def chain(n=6):
    links = audit.build(SALE, entries(n))
    return links, audit.head(SALE, links)


def test_a_built_chain_verifies_and_survives_json():
    links, head = chain()
    audit.verify(SALE, links, head)
    audit.verify(SALE, audit.from_json(audit.to_json(links)), head)


def test_an_empty_log_ends_at_the_genesis():
    audit.verify(SALE, [], audit.head(SALE, []))
    assert audit.genesis(SALE) != audit.genesis(SALE + 1)


def test_another_sales_head_does_not_verify():
    links, _ = chain()
    with pytest.raises(ChainBroken):
        audit.verify(SALE + 1, links, audit.head(SALE + 1, audit.build(SALE + 1, entries())))


@pytest.mark.parametrize("field", ["at_ms", "buyer", "order_id", "kind"])
def test_altering_any_entry_breaks_it(field):
    links, head = chain()
    changed = {"at_ms": 1_003, "buyer": "someone else", "order_id": "order-99", "kind": "pass"}[field]
    links[3] = dataclasses.replace(links[3], entry=dataclasses.replace(links[3].entry, **{field: changed}))
    with pytest.raises(ChainBroken):
        audit.verify(SALE, links, head)


def test_altering_an_entry_and_rehashing_the_rest_misses_the_published_head():
    _, head = chain()
    altered = entries()
    altered[2] = dataclasses.replace(altered[2], buyer="the operator's friend")
    with pytest.raises(ChainBroken, match="published head"):
        audit.verify(SALE, audit.build(SALE, altered), head)


@pytest.mark.parametrize("index", [0, 3, 5])
def test_dropping_any_entry_breaks_it(index):
    links, head = chain()
    del links[index]
    with pytest.raises(ChainBroken):
        audit.verify(SALE, links, head)


def test_reordering_breaks_it_even_with_renumbered_and_rehashed_entries():
    links, head = chain()
    swapped = [links[0], links[2], links[1], *links[3:]]
    with pytest.raises(ChainBroken):
        audit.verify(SALE, swapped, head)
    renumbered = [dataclasses.replace(link.entry, seq=i + 1) for i, link in enumerate(swapped)]
    with pytest.raises(ChainBroken, match="published head"):
        audit.verify(SALE, audit.build(SALE, renumbered), head)


def test_time_going_back_or_a_gap_in_seq_is_refused_when_building():
    es = entries()
    with pytest.raises(ChainBroken, match="time"):
        audit.build(SALE, [es[0], dataclasses.replace(es[1], at_ms=es[0].at_ms - 1)])
    with pytest.raises(ChainBroken, match="expected seq 2"):
        audit.build(SALE, [es[0], es[2]])
    with pytest.raises(ChainBroken, match="without its order id"):
        audit.build(SALE, [es[0], dataclasses.replace(es[1], order_id="")])


def test_a_malformed_served_row_is_a_broken_chain():
    with pytest.raises(ChainBroken, match="malformed"):
        audit.from_json([{"seq": "1", "at_ms": 1, "kind": "pass", "buyer": "b", "hash": "x"}])
    with pytest.raises(ChainBroken, match="malformed"):
        audit.from_json([{"seq": 1, "kind": "pass", "buyer": "b", "hash": "x"}])


def test_pseudonyms_are_stable_per_sale_and_differ_across_sales():
    secret = b"k" * 32
    assert audit.pseudonym(secret, 1, 42) == audit.pseudonym(secret, 1, 42)
    assert audit.pseudonym(secret, 1, 42) != audit.pseudonym(secret, 2, 42)
    assert audit.pseudonym(secret, 1, 42) != audit.pseudonym(b"j" * 32, 1, 42)
