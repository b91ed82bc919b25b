"""Live progress on the terminal: requests sent, answers by status, current rate.

On a terminal this is a rich progress bar redrawn in place; when the output is
a file or a pipe (CI, ``call_command`` in tests) it is a plain line every few
seconds instead.
"""

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loadtest.client import CATEGORIES, Live

PLAIN_EVERY = 2.0  # seconds between plain progress lines
_SHORT = {
    "reserved": "res",
    "sold_out": "sold",
    "limit_reached": "limit",
    "rate_limited": "rate",
    "not_started": "early",
    "other_4xx": "4xx",
    "5xx": "5xx",
    "network_error": "net",
}


def counts_text(live: Live) -> str:
    parts = [f"{_SHORT[c]} {n:,}" for c, n in zip(CATEGORIES, live.counts, strict=True) if n]
    return " · ".join(parts) or "waiting for answers"


class _Bar:
    def __init__(self, console: Console, description: str, total: int | None, unit: str):
        self.console = console
        self.unit = unit
        self.total = total
        self.plain = not console.is_terminal
        self._last_plain = 0.0
        self._progress = None
        if not self.plain:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[info]}"),
                console=console,
                transient=False,
                refresh_per_second=4,
            )
            self._task = self._progress.add_task(description, total=total, info="")
        self.description = description

    def __enter__(self):
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()

    def update(self, completed: int, info: str, force: bool = False) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed, info=info)
            return
        now = time.monotonic()
        if force or now - self._last_plain >= PLAIN_EVERY:
            self._last_plain = now
            of = f"/{self.total:,}" if self.total is not None else ""
            self.console.print(f"{self.description}: {completed:,}{of} {self.unit} — {info}", highlight=False)


class LoadProgress(_Bar):
    """Progress of the load phase; ``tick`` is the load generator's ``on_tick``."""

    def __init__(self, console: Console, planned: int):
        super().__init__(console, "load", planned, "answered")

    def tick(self, live: Live) -> None:
        info = f"sent {live.sent:,} · {live.rate:,.0f}/s · {counts_text(live)}"
        self.update(live.answered, info, force=live.answered == live.planned)


class DrainProgress(_Bar):
    """Progress of the wait for ``consume_orders`` to write the rows."""

    def __init__(self, console: Console, expected: int):
        super().__init__(console, "order rows", expected, "rows")

    def poll(self, elapsed: float, rows: int) -> None:
        self.update(min(rows, self.total or rows), f"{rows:,} rows after {elapsed:.1f} s")
