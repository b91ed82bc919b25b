"""The sale's remaining stock (Redis) and order rows (database), sampled over time.

A daemon thread samples while the load runs, so the event loop of the
generator does no blocking I/O; after the load, ``wait_for_rows`` samples
from the caller's thread while the order consumer drains.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

from orders.models import Order
from sales import inventory


@dataclass
class Samples:
    """(seconds after t0, value) pairs."""

    stock: list[tuple[float, int]] = field(default_factory=list)
    rows: list[tuple[float, int]] = field(default_factory=list)


class SaleSampler:
    def __init__(self, sale_id: int, t0_epoch: float, rows_before: int = 0, interval: float = 0.1):
        self.sale_id = sale_id
        self.t0_epoch = t0_epoch
        self.rows_before = rows_before
        self.interval = interval
        self.samples = Samples()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def stock(self) -> int | None:
        return inventory.remaining([self.sale_id])[self.sale_id]

    def rows(self) -> int:
        """Order rows of the sale written during this run."""
        # every row, as rows_before counts every row the sale had (the consumer only writes confirmed ones)
        return Order.objects.filter(sale_id=self.sale_id).count() - self.rows_before

    def sample(self) -> tuple[float, int | None, int]:
        stock, rows = self.stock(), self.rows()
        at = time.time() - self.t0_epoch
        if stock is not None:
            self.samples.stock.append((at, stock))
        self.samples.rows.append((at, rows))
        return at, stock, rows

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.sample()
                self._stop.wait(self.interval)
        finally:
            connection.close()  # this thread's own database connection

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="loadtest-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def wait_for_rows(
        self,
        expected: int,
        timeout: float,
        on_poll: Callable[[float, int], None] | None = None,
        interval: float = 0.05,
        settle: float = 0.5,
    ) -> int:
        """Sample until ``expected`` rows exist (or ``timeout`` passes), then ``settle``
        seconds more, so that rows beyond the expectation show up too. Returns the rows."""
        close_old_connections()
        deadline = time.monotonic() + timeout
        _, _, rows = self.sample()
        while rows < expected and time.monotonic() < deadline:
            time.sleep(interval)
            _, _, rows = self.sample()
            if on_poll:
                on_poll(time.monotonic() - deadline + timeout, rows)
        settle_until = time.monotonic() + settle
        while time.monotonic() < settle_until:
            time.sleep(interval)
            _, _, rows = self.sample()
        if on_poll:
            on_poll(time.monotonic() - deadline + timeout, rows)
        return rows
