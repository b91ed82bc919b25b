"""Stopping a periodic worker on SIGTERM/SIGINT after the round in hand (Zulip's queue workers,
arroyo's strategies): the loop asks ``stop.requested`` and waits with ``stop.wait``."""

import signal
import time


class StopOnSignal:
    def __init__(self):
        self.requested = False
        signal.signal(signal.SIGTERM, self._set)
        signal.signal(signal.SIGINT, self._set)

    def _set(self, *_args) -> None:
        self.requested = True

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if a stop is asked meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.requested and time.monotonic() < deadline:
            time.sleep(0.05)
