"""The end of a run on the terminal (rich tables) and in the ``--json`` file."""

import json
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from loadtest.client import CATEGORIES, LABELS
from loadtest.stats import Summary, latency_histogram, percentile, time_series
from loadtest.verify import Verification


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f} ms"


def secs(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:,.2f} s"


def summary_rows(summary: Summary, generator=None, phases=None) -> list[tuple[str, str]]:
    """The summary as (label, value) rows, shared by the terminal and the HTML report."""
    answered = summary.requests or 1
    rows = [("requests", f"{summary.requests:,}")]
    for category, label in zip(CATEGORIES, LABELS, strict=True):
        n = summary.counts[category]
        rows.append((f"  {label}", f"{n:,}  ({n / answered:.1%})"))
    rows += [
        ("throughput", f"{summary.throughput:,.0f} answers/s over {secs(summary.duration)}"),
        ("reserved per second", f"{summary.reserved_per_second:,.0f}/s"),
        ("latency p50", ms(summary.latency["p50"])),
        ("latency p90", ms(summary.latency["p90"])),
        ("latency p99", ms(summary.latency["p99"])),
        ("latency max", ms(summary.latency["max"])),
        *(
            (f"  {status.replace('_', ' ')} p50 / p99", f"{ms(lat['p50'])} / {ms(lat['p99'])}")
            for status, lat in summary.latency_by_status.items()
        ),
        ("first request → sell-out", secs(summary.sell_out_at) if summary.sell_out_at is not None else "not sold out"),
        ("all rows in DB after the last answer", _rows_after(summary.rows_after_last_answer)),
        ("all rows in DB after the last reserved answer", _rows_after(summary.rows_after_last_reserved)),
    ]
    if summary.details:
        rows.append(("other answers", ", ".join(f"{k}: {v:,}" for k, v in summary.details.items())))
    if generator is not None:
        rows.append(("load generator", generator.verdict()))
    if phases:
        rows.append(("phases", ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())))
    return rows


def _rows_after(after: float | None) -> str:
    if after is None:
        return "not all rows within the drain time-out"
    return f"≤ {after:.2f} s" if after > 0 else "already there at the last answer"


def gate_rows(result) -> list[tuple[str, str]]:
    """Who won the units, and what the admission cost the humans (with --gate or --bots)."""
    rows: list[tuple[str, str]] = []
    if result.recording.admission:
        admission = sorted(result.recording.admission)
        p50, p99 = percentile(admission, 50), percentile(admission, 99)
        rows.append(("humans: challenge + solve + pass p50 / p99", f"{ms(p50)} / {ms(p99)}"))
    bots = result.bots
    if bots is None:
        return rows
    humans_won = result.summary.counts["reserved"]
    won = len(bots.reserved)
    units = humans_won + won
    share = (lambda n: f"{n:,}  ({100 * n / units:.1f}%)") if units else (lambda n: f"{n:,}")
    rows.append(("units won by humans", share(humans_won)))
    rows.append(("units won by bots", share(won)))
    for kind, count in sorted(bots.won_by_kind().items()):
        rows.append((f"  by the {kind} crew", f"{count:,}"))
    rows.append(("bot requests", f"{bots.requests:,}; SHA-256 solved: {bots.hashes:,}"))
    for (kind, answer), count in sorted(bots.answers.items()):
        rows.append((f"  {kind}: {answer}", f"{count:,}"))
    return rows


def print_summary(console: Console, result) -> None:
    table = Table(title=f"Load test of sale {result.sale.sale_id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in summary_rows(result.summary, result.generator, result.phases) + gate_rows(result):
        table.add_row(label, value)
    console.print(table)
    print_verification(console, result.verification)


def print_verification(console: Console, verification: Verification) -> None:
    """One line per invariant (plain lines, not a table, so that they never wrap mid-number)."""
    console.print("[bold]Verification[/]")
    for check in verification.checks:
        mark = "[green]PASS[/]" if check.passed else "[bold red]FAIL[/]"
        console.print(f"  {mark}  {check.name}: {check.detail}", highlight=False, soft_wrap=True)
    for note in verification.notes:
        console.print(f"  note: {note}", highlight=False, soft_wrap=True)
    console.print("[green]all invariants hold[/]" if verification.passed else "[bold red]VERIFICATION FAILED[/]")


def result_to_json(result) -> dict:
    series = time_series(result.recording, result.summary.last_answer_at)
    return {
        "config": asdict(result.config),
        "sale": {
            "id": result.sale.sale_id,
            "total_stock": result.sale.total_stock,
            "limit_per_buyer": result.sale.limit_per_buyer,
            "created": result.sale.created,
            "starts_at_epoch": result.sale.starts_at_epoch,
        },
        "t0_epoch": result.recording.t0_epoch,
        "summary": {
            **asdict(result.summary),
            "rows_after_last_answer": result.summary.rows_after_last_answer,
            "rows_after_last_reserved": result.summary.rows_after_last_reserved,
        },
        "generator": {
            **asdict(result.generator),
            "cpu_ratio": result.generator.cpu_ratio,
            "saturated": result.generator.saturated,
        },
        "phases": result.phases,
        "summary_rows": summary_rows(result.summary, result.generator, result.phases),
        "gate_rows": gate_rows(result),
        "bots": None
        if result.bots is None
        else {
            "won": dict(result.bots.won_by_kind()),
            "answers": {f"{kind}: {answer}": n for (kind, answer), n in result.bots.answers.items()},
            "hashes": result.bots.hashes,
        },
        "verification": result.verification.to_json(),
        "time_series": asdict(series),
        "latency_histogram": latency_histogram(result.recording),
        "samples": {"stock": result.samples.stock, "rows": result.samples.rows},
        "answers": result.answers.to_json(),
    }


def write_json(path: str, data: dict) -> None:
    Path(path).write_text(json.dumps(data, indent=1))
