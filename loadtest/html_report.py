"""The ``--report`` file: one self-contained HTML page (inline CSS and SVG, no
scripts, nothing fetched), built from the same data as the ``--json`` file, so
``write_report(path, json.load(...))`` can redraw an old run."""

import time
from html import escape
from itertools import accumulate
from pathlib import Path

from loadtest import charts
from loadtest.client import CATEGORIES, LABELS

COLORS = {
    "reserved": "#228833",
    "sold out": "#4477aa",
    "limit reached": "#66ccee",
    "rate limited": "#ccbb44",
    "not started": "#aa3377",
    "other 4xx": "#ee6677",
    "5xx": "#bb0000",
    "network errors": "#000000",
}
CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1020px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px; border-bottom: 1px solid #e4e4e4;
  text-align: left; vertical-align: top; } th { background: #f4f4f4; }
td.num { font-variant-numeric: tabular-nums; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #c00; font-weight: 700; }
.verdict { padding: 8px 12px; border-radius: 4px; display: inline-block; font-weight: 600; }
.verdict.pass { background: #e6f4ea; } .verdict.fail { background: #fde7e9; }
svg { font: 11px system-ui, sans-serif; display: block; margin: 4px 0 12px; }
svg .grid { stroke: #eee; } svg .axis { stroke: #888; } svg .label { fill: #555; font-size: 12px; }
svg .marker { stroke: #c00; stroke-dasharray: 4 3; } svg .marker-label { fill: #c00; }
.note { color: #555; font-size: 13px; }
"""


def _table(rows, header=None) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td class='num'>{cell}</td>" for cell in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _markers(summary: dict) -> list[tuple[float, str]]:
    markers = []
    if summary.get("sell_out_at") is not None:
        markers.append((summary["first_sent_at"] + summary["sell_out_at"], "sold out"))
    if summary.get("last_answer_at") is not None:
        markers.append((summary["last_answer_at"], "last answer"))
    return markers


def answers_chart(data: dict) -> str:
    series = data["time_series"]
    stacks = {label: series["answers"][cat] for cat, label in zip(CATEGORIES, LABELS, strict=True)}
    stacks = {k: v for k, v in stacks.items() if any(v)}
    return charts.stacked_bars(
        series["starts"],
        series["step"],
        stacks,
        COLORS,
        "Answers per second by status",
        f"seconds after the start (bars of {series['step']:g} s)",
        "answers / s",
        scale=1 / series["step"],
        markers=_markers(data["summary"])[:1],
    )


def latency_over_time_chart(data: dict) -> str:
    series = data["time_series"]
    to_ms = (
        [(None if v is None else v * 1000) for v in series["p50"]],
        [(None if v is None else v * 1000) for v in series["p99"]],
    )
    mid = [s + series["step"] / 2 for s in series["starts"]]
    return charts.lines(
        [
            ("p50", "#4477aa", list(zip(mid, to_ms[0], strict=True))),
            ("p99", "#ee6677", list(zip(mid, to_ms[1], strict=True))),
        ],
        "Latency over time",
        "seconds after the start (time of the answer)",
        "ms",
    )


def histogram_chart(data: dict) -> str:
    latency = data["summary"]["latency"]
    markers = [(latency[p], p) for p in ("p50", "p90", "p99") if latency.get(p) is not None]
    return charts.histogram(data["latency_histogram"], "Latency histogram", "latency (ms, log scale)", markers)


def _from_start(points) -> list:
    """Samples from shortly before the start on (the sampler runs during the warm-up too)."""
    return [(at, v) for at, v in points if at >= -0.25]


def stock_chart(data: dict) -> str:
    points = _from_start(data["samples"]["stock"])
    return charts.lines(
        [("remaining", "#228833", points)],
        "Remaining stock (Redis)",
        "seconds after the start",
        "units",
        markers=_markers(data["summary"]),
        step_lines=True,
    )


def rows_chart(data: dict) -> str:
    series = data["time_series"]
    ends = [s + series["step"] for s in series["starts"]]
    answered = list(accumulate(series["answers"]["reserved"]))
    summary = data["summary"]
    markers = _markers(summary)[1:]
    if summary.get("rows_complete_at") is not None:
        markers.append((summary["rows_complete_at"], "all rows"))
    return charts.lines(
        [
            ("reserved answers", "#4477aa", list(zip(ends, answered, strict=True))),
            ("order rows (DB)", "#228833", _from_start(data["samples"]["rows"])),
        ],
        "Reserved answers and order rows persisted",
        "seconds after the start",
        "orders",
        markers=markers,
        step_lines=True,
    )


def render(data: dict) -> str:
    config, sale, verification = data["config"], data["sale"], data["verification"]
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(data["t0_epoch"]))
    passed = verification["passed"]
    verdict = (
        '<span class="verdict pass">all invariants hold</span>'
        if passed
        else '<span class="verdict fail">VERIFICATION FAILED</span>'
    )
    checks = [
        (
            escape(c["name"]),
            '<span class="pass">PASS</span>' if c["passed"] else '<span class="fail">FAIL</span>',
            escape(c["detail"]),
        )
        for c in verification["checks"]
    ]
    notes = "".join(f"<p class='note'>{escape(n)}</p>" for n in verification["notes"])
    scenario = f" — scenario {escape(config['scenario'])}" if config.get("scenario") else ""
    settings_rows = [
        (escape(k), escape(str(v))) for k, v in config.items() if k not in ("report", "json") and v is not None
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Load test of sale {sale["id"]}</title>
<style>{CSS}</style></head><body>
<h1>Load test of sale {sale["id"]}{scenario}</h1>
<p class="sub">{started} · {escape(config["url"])} · {sale["total_stock"]:,} units, limit {sale["limit_per_buyer"]}
per buyer · {config["buyers"]:,} buyers &times; {config["attempts"]} attempt(s) · {config["concurrency"]} connections ·
ramp {config["ramp"]:g} s</p>
<p>{verdict}</p>
<h2>Summary</h2>
{_table((escape(label), escape(value)) for label, value in data["summary_rows"])}
<h2>Verification</h2>
{_table(checks, ("invariant", "result", "numbers"))}
{notes}
<h2>Throughput</h2>
{answers_chart(data)}
<h2>Latency</h2>
{histogram_chart(data)}
{latency_over_time_chart(data)}
<h2>Stock and orders</h2>
{stock_chart(data)}
{rows_chart(data)}
<h2>Settings</h2>
{_table(settings_rows)}
<p class="note">Times are seconds after the sale's start (the moment the first requests were due). Latency is
measured by the load generator from sending a request to reading its answer, so it includes the generator's own
queueing when it is saturated (see "load generator" above).</p>
</body></html>
"""


def write_report(path: str, data: dict) -> None:
    Path(path).write_text(render(data), encoding="utf-8")
