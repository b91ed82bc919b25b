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
