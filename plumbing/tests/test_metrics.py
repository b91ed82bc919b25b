"""Buffered metrics end as the same samples as direct ones (prometheus-client's own values)."""

from prometheus_client import CollectorRegistry, Counter, Histogram

from plumbing.metrics import BufferedCounter, BufferedHistogram, flush_all

BUCKETS = (0.001, 0.01, 0.1, 1.0)
VALUES = [0.0005, 0.001, 0.002, 0.05, 0.1, 0.5, 3.0, 0.0, 7.5]


def samples(registry):
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for m in registry.collect()
        for s in m.samples
        if not s.name.endswith("_created")
    }


def test_buffered_samples_equal_direct_ones_once_flushed():
    direct, buffered = CollectorRegistry(), CollectorRegistry()
    h1 = Histogram("h", "h", buckets=BUCKETS, registry=direct)
    c1 = Counter("c", "c", ["status"], registry=direct)
    h2 = BufferedHistogram(Histogram("h", "h", buckets=BUCKETS, registry=buffered))
    c2 = BufferedCounter(Counter("c", "c", ["status"], registry=buffered))
    for i, v in enumerate(VALUES):
        h1.observe(v)
        h2.observe(v)
        c1.labels("sold_out" if i % 3 else "reserved").inc()
        c2.inc("sold_out" if i % 3 else "reserved")
    flush_all()
    assert samples(buffered) == samples(direct)
    assert samples(direct)[("h_count", ())] == len(VALUES)


def test_a_process_that_goes_quiet_still_flushes_its_last_samples(monkeypatch):
    """The last answers before a lull reach the metric within FLUSH_EVERY, with no further sample."""
    import asyncio

    from plumbing import metrics

    monkeypatch.setattr(metrics, "FLUSH_EVERY", 0.1)
    monkeypatch.setattr(metrics, "_next_flush", float("inf"))  # no flush on the sample itself: only the timer's
    monkeypatch.setattr(metrics, "_timer", None)
    registry = CollectorRegistry()
    counter = BufferedCounter(Counter("quiet", "quiet", ["status"], registry=registry))

    async def one_answer_then_quiet():
        counter.inc("reserved")
        assert samples(registry).get(("quiet_total", (("status", "reserved"),))) is None  # still buffered
        await asyncio.sleep(0.3)

    asyncio.run(one_answer_then_quiet())
    assert samples(registry)[("quiet_total", (("status", "reserved"),))] == 1
