"""Running a transaction again when MariaDB chose it as a deadlock's victim.

InnoDB breaks a deadlock by rolling one transaction back whole (error 1213), and the MySQL
manual ("InnoDB Error Handling": "Retry the entire transaction when this happens") asks the
application to run it again: nothing of it was kept, so the same work may simply be done anew.
Only the outermost transaction can be run again; inside another one, the error goes up to
whoever owns that transaction.

Avoiding deadlocks is the first defence (a fixed lock order: ``orders.lifecycle``); this is
the second, for the cycles no order rules out (a redelivered batch of rows, say).
"""

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction

log = logging.getLogger(__name__)

ER_LOCK_DEADLOCK = 1213

P = ParamSpec("P")
T = TypeVar("T")


def is_deadlock(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and exc.args[:1] == (ER_LOCK_DEADLOCK,)


def atomic_retrying(attempts: int = 5, using: str = DEFAULT_DB_ALIAS) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Like ``transaction.atomic``, but a deadlock's victim runs again, up to ``attempts`` times
    in all, after a short random pause (so two victims do not meet again at once). The function
    must do nothing outside the database that a second run would repeat."""

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            for attempt in range(1, attempts + 1):
                try:
                    with transaction.atomic(using=using):
                        return fn(*args, **kwargs)
                except OperationalError as exc:
                    if not is_deadlock(exc) or attempt == attempts or connections[using].in_atomic_block:
                        raise
                    log.warning("%s: deadlock, running the transaction again (attempt %d)", fn.__qualname__, attempt)
                    time.sleep(random.uniform(0, 0.01 * 2**attempt))
            raise AssertionError("unreachable")

        return run

    return decorate
