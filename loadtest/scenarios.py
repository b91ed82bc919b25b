"""The settings of one load-test run, and the named presets of ``--scenario``."""

from dataclasses import dataclass, fields, replace

from loadtest.http import Target

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class LoadTestConfig:
    url: str = DEFAULT_URL
    sale_id: int | None = None  # an existing sale; None = create one with ``stock`` units
    stock: int = 100
    limit_per_buyer: int = 1
    buyers: int = 300
    ramp: float = 0.0  # seconds over which the buyers' first requests are spread
    concurrency: int = 64  # open connections
    processes: int = 1  # generator processes the buyers and connections are spread over
    attempts: int = 1  # requests per buyer, one after the other
    timeout: float = 10.0  # seconds per request
    start_in: float = 3.0  # seconds from "buyers ready" to the sale's start
    drain_timeout: float = 60.0  # seconds to wait for the order rows
    pay_ratio: float | None = None  # the payment phase (loadtest.payments): winners pay with this probability
    payment_window: float = 20.0  # seconds to pay, for the fresh sale of a run with a payment phase
    bots: int = 0  # scripted buyers beside the humans (loadtest.bots)
    gate: bool = False  # the fresh sale requires a purchase pass (sales.admission)
    challenge_bits: int = 8  # the fresh gated sale's proof-of-work difficulty (loadtest.gate says why small)
    pass_multiple: int = 3  # the fresh gated sale's passes, as a multiple of its stock
    warmup: bool = True  # open the connections before the sale starts
    report: str | None = None
    json: str | None = None
    scenario: str | None = None

    @property
    def requests(self) -> int:
        return self.buyers * self.attempts

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when they are usable)."""
        found = []
        if self.sale_id is None and self.stock < 1:
            found.append("--stock must be at least 1")
        if self.limit_per_buyer < 1:
            found.append("--limit-per-buyer must be at least 1")
        if self.buyers < 1:
            found.append("--buyers must be at least 1")
        if self.ramp < 0:
            found.append("--ramp cannot be negative")
        if self.concurrency < 1:
            found.append("--concurrency must be at least 1")
        if self.processes < 1:
            found.append("--processes must be at least 1")
        if self.processes > self.concurrency:
            found.append("--processes cannot exceed --concurrency (each process needs a connection)")
        if self.pay_ratio is not None and not 0 <= self.pay_ratio <= 1:
            found.append("--pay-ratio must be between 0 and 1")
        if self.pay_ratio is not None and self.sale_id is not None:
            found.append("--pay-ratio needs a fresh sale (--stock), whose payment window it sets")
        if self.payment_window < 1:
            found.append("--payment-window must be at least 1 second")
        if self.bots < 0:
            found.append("--bots cannot be negative")
        if self.bots and self.processes > 1:
            found.append("--bots runs in one generator process: leave --processes at 1")
        if (self.gate or self.bots) and self.sale_id is not None:
            found.append("--gate and --bots need a fresh sale (--stock), whose gate they set")
        if not 0 <= self.challenge_bits <= 20:
            found.append("--challenge-bits must be 0 to 20 (the generator solves every buyer's challenge)")
        if self.pass_multiple < 1:
            found.append("--pass-multiple must be at least 1")
        if self.attempts < 1:
            found.append("--attempts must be at least 1")
        if self.timeout <= 0:
            found.append("--timeout must be positive")
        if self.start_in < 0:
            found.append("--start-in cannot be negative")
        if self.drain_timeout < 0:
            found.append("--drain-timeout cannot be negative")
        try:
            Target(self.url)
        except ValueError as exc:
            found.append(f"--url: {exc} (point it at the site's own address, behind any TLS terminator)")
        return found


SCENARIOS: dict[str, dict] = {
    # The demo's opening minute: 1000 units, 2000 buyers arriving over 5 s.
    "seed": {"stock": 1000, "buyers": 2000, "ramp": 5.0, "concurrency": 64},
    # Everyone at the same moment: 100,000 buyers for 10,000 units.
    "stampede": {"stock": 10_000, "buyers": 100_000, "ramp": 0.0, "concurrency": 256, "drain_timeout": 120.0},
}

_NAMES = {f.name for f in fields(LoadTestConfig)}


def build_config(scenario: str | None = None, **explicit) -> LoadTestConfig:
    """Defaults, then the scenario's values, then every option given explicitly (not None)."""
    values: dict = {}
    if scenario is not None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
        values.update(SCENARIOS[scenario])
    unknown = set(explicit) - _NAMES
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    values.update({k: v for k, v in explicit.items() if v is not None})
    return replace(LoadTestConfig(), scenario=scenario, **values)
