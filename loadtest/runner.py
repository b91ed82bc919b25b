"""One load-test run from start to finish: ``run_loadtest(config)``.

1. buyers and their tokens (bulk), then the sale (fresh, starting ``start_in``
   seconds later, or an existing one given by ``sale_id``);
2. the load: every buyer's requests against the site, stock and rows sampled;
3. the drain: wait (bounded) until ``consume_orders`` has written a row for
   every reserved answer;
4. the verification of answers against Redis and the database.
"""

import asyncio
import time
from dataclasses import dataclass, field

import uvloop
from django.db import close_old_connections
from rich.console import Console

from loadtest.bots import BotPlan, BotRecording, run_bots
from loadtest.client import CATEGORIES, NETWORK_ERROR, LoadPlan, Recording, run_load
from loadtest.payments import run_payments
from loadtest.prepare import SaleUnderTest, existing_sale, make_buyers, new_sale
from loadtest.processes import run_load_in_processes
from loadtest.progress import DrainProgress, LoadProgress
from loadtest.sampler import SaleSampler, Samples
from loadtest.scenarios import LoadTestConfig
from loadtest.stats import Generator, Summary, generator_health, rows_complete_at, summarize
from loadtest.verify import Answers, Verification, verify
from orders.models import Order

# An existing sale that starts later than this is not waited for.
MAX_WAIT_FOR_START = 120.0
# First requests go this long after the sale's start, so that no clock rounding
# turns the first clicks into "not started".
START_MARGIN = 0.05


@dataclass
class RunResult:
    config: LoadTestConfig
    sale: SaleUnderTest
    recording: Recording
    summary: Summary
    generator: Generator
    samples: Samples
    answers: Answers
    verification: Verification
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent in each phase
    bots: BotRecording | None = None  # with --bots: what the swarm sent and won


def _prepare(config: LoadTestConfig, console: Console) -> tuple[SaleUnderTest, list[tuple[int, str]], list, dict]:
    phases = {}
    began = time.monotonic()
    with console.status(f"creating {config.buyers + config.bots:,} buyers and their tokens…"):
        buyers = make_buyers(config.buyers)
        bots = make_buyers(config.bots) if config.bots else []
    phases["buyers"] = time.monotonic() - began
    if config.sale_id is not None:
        sale = existing_sale(config.sale_id)
        wait = sale.starts_at_epoch - time.time()
        if wait > MAX_WAIT_FOR_START:
            raise ValueError(f"sale {sale.sale_id} starts in {wait:.0f} s; use an open sale or --stock")
    else:
        window = round(config.payment_window) if config.pay_ratio is not None else None
        gate = (config.challenge_bits, config.pass_multiple) if config.gate else None
        sale = new_sale(config.stock, config.limit_per_buyer, config.start_in, payment_window=window, gate=gate)
    console.print(
        f"sale {sale.sale_id}: {sale.total_stock:,} units, limit {sale.limit_per_buyer} per buyer"
        f"{' (created for this run)' if sale.created else ''}; {config.buyers:,} buyers x {config.attempts} "
        f"attempt(s), {config.concurrency} connections"
        f"{f' over {config.processes} processes' if config.processes > 1 else ''}, "
        f"ramp {config.ramp:g} s → {config.url}"
        + (f"; gated ({config.challenge_bits} bits, {config.pass_multiple}x passes)" if config.gate else "")
        + (f"; {config.bots:,} bots" if config.bots else ""),
        highlight=False,
    )
    return sale, buyers, bots, phases


def run_loadtest(config: LoadTestConfig, console: Console | None = None) -> RunResult:
    console = console or Console()
    sale, buyers, bots, phases = _prepare(config, console)
    start_epoch = max(sale.starts_at_epoch, time.time()) + START_MARGIN
    plan = LoadPlan(
        url=config.url,
        sale_id=sale.sale_id,
        buyers=buyers,
        attempts=config.attempts,
        concurrency=config.concurrency,
        ramp=config.ramp,
        timeout=config.timeout,
        start_epoch=start_epoch,
        warmup=config.warmup,
        gated=config.gate,
        own_addresses=bool(bots),
    )
    bot_plan = BotPlan(config.url, sale.sale_id, bots, start_epoch, config.timeout) if bots else None
    bot_recording = None
    sampler = SaleSampler(sale.sale_id, start_epoch, rows_before=len(sale.baseline.order_ids))
    sampler.start()
    try:
        with LoadProgress(console, config.requests) as progress:
            if config.processes > 1:
                recording = run_load_in_processes(plan, config.processes, progress.tick)
            elif bot_plan is not None:
                recording, bot_recording = uvloop.run(_with_bots(plan, bot_plan, progress.tick))
            else:
                # uvloop: a cheaper event loop, as the generator shares the cores with the site
                recording = uvloop.run(run_load(plan, progress.tick))
    finally:
        sampler.stop()
    phases["load"] = recording.wall_seconds
    summary = summarize(recording)

    close_old_connections()
    bot_wins = [(order_id, buyer) for order_id, buyer, _ in bot_recording.reserved] if bot_recording else []
    reserved = summary.counts["reserved"] + len(bot_wins)
    began = time.monotonic()
    with DrainProgress(console, reserved) as drain:
        sampler.wait_for_rows(reserved, config.drain_timeout, drain.poll)
    phases["drain"] = time.monotonic() - began
    summary.rows_complete_at = rows_complete_at(sampler.samples, reserved)

    answers = Answers(
        sale_id=sale.sale_id,
        total_stock=sale.total_stock,
        limit_per_buyer=sale.limit_per_buyer,
        reserved=[(order_id, buyer) for order_id, buyer, _, _ in recording.reserved] + bot_wins,
        min_remaining_answered=min((r for _, _, r, _ in recording.reserved if r is not None), default=None),
        min_stock_sampled=min((v for _, v in sampler.samples.stock), default=None),
        unanswered=summary.counts[CATEGORIES[NETWORK_ERROR]],
        baseline_order_ids=sorted(sale.baseline.order_ids),
        baseline_units_sold=sale.baseline.units_sold,
    )
    verification = verify(answers)
    if config.pay_ratio is not None:
        began = time.monotonic()
        with console.status(f"paying ({config.pay_ratio:g} of the winners), waiting out the payment window…"):
            paid = run_payments(config, sale, answers.reserved, buyers, lambda losers: _resell(config, sale, losers))
        phases["payments"] = time.monotonic() - began
        verification.checks += paid.checks
        verification.notes.append(
            f"payments: {paid.paid} paid, {paid.let_expire} left to expire (returned after "
            f"{paid.expired_after or 0:.1f} s), pay answers {dict(paid.answers)}, {paid.resold} re-sold"
        )
    return RunResult(
        config=config,
        sale=sale,
        recording=recording,
        summary=summary,
        generator=generator_health(recording),
        samples=sampler.samples,
        answers=answers,
        verification=verification,
        phases=phases,
        bots=bot_recording,
    )


async def _with_bots(plan: LoadPlan, bot_plan: BotPlan, on_tick) -> tuple[Recording, BotRecording]:
    humans, bots = await asyncio.gather(run_load(plan, on_tick), run_bots(bot_plan))
    return humans, bots


def _resell(config: LoadTestConfig, sale: SaleUnderTest, losers: list[tuple[int, str]]) -> int:
    """The buyers who won nothing try once more, now that unpaid units are back; returns how many
    won, once their rows are written (waits up to ``drain_timeout``)."""
    if not losers:
        return 0
    rows_before = Order.objects.filter(sale_id=sale.sale_id).count()
    plan = LoadPlan(
        url=config.url,
        sale_id=sale.sale_id,
        buyers=losers,
        attempts=1,
        concurrency=config.concurrency,
        ramp=0.0,
        timeout=config.timeout,
        start_epoch=time.time() + START_MARGIN,
        warmup=False,
    )
    won = len(uvloop.run(run_load(plan)).reserved)
    deadline = time.monotonic() + config.drain_timeout
    while time.monotonic() < deadline:
        close_old_connections()
        if Order.objects.filter(sale_id=sale.sale_id).count() >= rows_before + won:
            break
        time.sleep(0.1)
    return won
