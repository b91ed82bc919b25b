"""Numbers from a recording: answers by status, throughput, latency, time series."""

import math
from dataclasses import dataclass, field

from loadtest.client import CATEGORIES, NETWORK_ERROR, SOLD_OUT, Recording
from loadtest.sampler import Samples

PERCENTILES = (50, 90, 99)
# The generator counts as saturated when it used about a whole core, or its event
# loop fell behind: then latencies include the generator's own queueing.
SATURATED_CPU_RATIO = 0.85
SATURATED_LOOP_LAG = 0.020  # seconds, at the 90th percentile of the lag probes
_NICE_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60)


def percentile(sorted_values, pct: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Generator:
    cpu_seconds: float
    wall_seconds: float
    loop_lag_p90: float | None
    loop_lag_max: float | None
    start_lag_p99: float | None
    start_lag_max: float | None
    connections: int
    processes: int = 1

    @property
    def cpu_ratio(self) -> float:
        """CPU used per generator process, as a fraction of one core."""
        return self.cpu_seconds / (self.wall_seconds * self.processes) if self.wall_seconds > 0 else 0.0

    @property
    def saturated(self) -> bool:
        return self.cpu_ratio >= SATURATED_CPU_RATIO or (self.loop_lag_p90 or 0) >= SATURATED_LOOP_LAG

    def verdict(self) -> str:
        lag = f"{self.loop_lag_p90 * 1000:.0f} ms" if self.loop_lag_p90 is not None else "n/a"
        where = f"each of its {self.processes} processes used" if self.processes > 1 else "generator used"
        text = f"{where} {self.cpu_ratio:.0%} of one core; event-loop lag p90 {lag}"
        if self.cpu_ratio >= SATURATED_CPU_RATIO:
            return (
                text + " — SATURATED: the generator's own CPU limited the rate and inflated latency "
                "(--processes spreads it, where there are cores to spare)"
            )
        if self.saturated:
            return (
                text + " — CONTENDED: its event loop ran late with CPU to spare, so the cores are busy "
                "(site and generator share them); latencies include that wait"
            )
        return text + " — not saturated"


@dataclass
class TimeSeries:
    step: float
    starts: list[float]
    answers: dict[str, list[int]]  # category -> answers per bucket (by time of the answer)
    sent: list[int]
    p50: list[float | None]
    p99: list[float | None]


@dataclass
class Summary:
    requests: int
    counts: dict[str, int]
    answered: int  # requests that got an HTTP answer (any status)
    duration: float  # first request sent -> last answer
    throughput: float  # answers per second over ``duration``
    reserved_per_second: float
    latency: dict[str, float | None]  # p50, p90, p99, max, mean (seconds, answered requests)
    sell_out_at: float | None  # seconds after the first request
    first_sent_at: float
    last_answer_at: float | None
    last_reserved_at: float | None
    rows_complete_at: float | None = None
    latency_by_status: dict[str, dict[str, float | None]] = field(default_factory=dict)
    details: dict[str, int] = field(default_factory=dict)

    @property
    def rows_after_last_answer(self) -> float | None:
        if self.rows_complete_at is None or self.last_answer_at is None:
            return None
        return max(0.0, self.rows_complete_at - self.last_answer_at)

    @property
    def rows_after_last_reserved(self) -> float | None:
        if self.rows_complete_at is None or self.last_reserved_at is None:
            return None
        return max(0.0, self.rows_complete_at - self.last_reserved_at)


def summarize(rec: Recording) -> Summary:
    n = len(rec.category)
    counts = dict.fromkeys(CATEGORIES, 0)
    answered_latency = []
    first_sent = min(rec.sent) if n else 0.0
    last_answer = None
    first_sold_out = None
    for sent, lat, cat in zip(rec.sent, rec.latency, rec.category, strict=True):
        counts[CATEGORIES[cat]] += 1
        if cat == NETWORK_ERROR:
            continue
        answered_latency.append(lat)
        at = sent + lat
        if last_answer is None or at > last_answer:
            last_answer = at
        if cat == SOLD_OUT and (first_sold_out is None or at < first_sold_out):
            first_sold_out = at
    answered_latency.sort()
    answered = len(answered_latency)
    by_status: dict[str, list[float]] = {}
    for lat, cat in zip(rec.latency, rec.category, strict=True):
        if cat != NETWORK_ERROR:
            by_status.setdefault(CATEGORIES[cat], []).append(lat)
    for values in by_status.values():
        values.sort()
    duration = (last_answer - first_sent) if last_answer is not None else 0.0
    sold_out_answers = [at for _, _, remaining, at in rec.reserved if remaining == 0]
    sell_out = min(sold_out_answers) if sold_out_answers else first_sold_out
    latency = {f"p{p}": percentile(answered_latency, p) for p in PERCENTILES}
    latency["max"] = answered_latency[-1] if answered_latency else None
    latency["mean"] = sum(answered_latency) / answered if answered else None
    return Summary(
        requests=n,
        counts=counts,
        answered=answered,
        duration=duration,
        throughput=answered / duration if duration > 0 else 0.0,
        reserved_per_second=counts["reserved"] / duration if duration > 0 else 0.0,
        latency=latency,
        sell_out_at=(sell_out - first_sent) if sell_out is not None else None,
        first_sent_at=first_sent,
        last_answer_at=last_answer,
        last_reserved_at=max((at for *_, at in rec.reserved), default=None),
        details=dict(rec.details.most_common()),
        latency_by_status={
            status: {"p50": percentile(v, 50), "p99": percentile(v, 99), "max": v[-1]}
            for status, v in by_status.items()
        },
    )


def rows_complete_at(samples: Samples, expected: int) -> float | None:
    """Seconds after t0 of the first sample that saw all ``expected`` rows."""
    return next((at for at, rows in samples.rows if rows >= expected), None)


def generator_health(rec: Recording) -> Generator:
    lag = sorted(rec.loop_lag)
    start_lag = sorted(rec.start_lag)
    return Generator(
        cpu_seconds=rec.cpu_seconds,
        wall_seconds=rec.wall_seconds,
        loop_lag_p90=percentile(lag, 90),
        loop_lag_max=lag[-1] if lag else None,
        start_lag_p99=percentile(start_lag, 99),
        start_lag_max=start_lag[-1] if start_lag else None,
        connections=rec.connections,
        processes=rec.processes,
    )


def nice_step(span: float, buckets: int = 120) -> float:
    raw = max(span, 0.01) / buckets
    return next((s for s in _NICE_STEPS if s >= raw), _NICE_STEPS[-1])


def time_series(rec: Recording, until: float | None = None) -> TimeSeries:
    """Answers per bucket and status, requests sent, p50/p99 latency per bucket."""
    n = len(rec.category)
    if until is None:
        until = max((s + lat for s, lat in zip(rec.sent, rec.latency, strict=True)), default=0.0)
    end = until
    start = min(0.0, min(rec.sent, default=0.0))
    step = nice_step(end - start)
    size = max(1, math.ceil((end - start) / step) + 1)
    answers = {c: [0] * size for c in CATEGORIES}
    sent = [0] * size
    latencies: list[list[float]] = [[] for _ in range(size)]
    columns = [answers[c] for c in CATEGORIES]
    for i in range(n):
        s, lat, cat = rec.sent[i], rec.latency[i], rec.category[i]
        sent[min(size - 1, int((s - start) / step))] += 1
        b = min(size - 1, int((s + lat - start) / step))
        columns[cat][b] += 1
        if cat != NETWORK_ERROR:
            latencies[b].append(lat)
    p50, p99 = [], []
    for values in latencies:
        values.sort()
        p50.append(percentile(values, 50))
        p99.append(percentile(values, 99))
    return TimeSeries(
        step=step,
        starts=[start + i * step for i in range(size)],
        answers=answers,
        sent=sent,
        p50=p50,
        p99=p99,
    )


def latency_histogram(rec: Recording, bins_per_decade: int = 10) -> list[tuple[float, float, int]]:
    """(low, high, count) on a log scale, over answered requests."""
    values = [lat for lat, cat in zip(rec.latency, rec.category, strict=True) if cat != NETWORK_ERROR and lat > 0]
    if not values:
        return []
    lo = math.floor(math.log10(min(values)) * bins_per_decade)
    hi = math.floor(math.log10(max(values)) * bins_per_decade)
    counts = [0] * (hi - lo + 1)
    for v in values:
        counts[math.floor(math.log10(v) * bins_per_decade) - lo] += 1
    return [
        (10 ** ((lo + i) / bins_per_decade), 10 ** ((lo + i + 1) / bins_per_decade), c) for i, c in enumerate(counts)
    ]
