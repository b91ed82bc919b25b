"""What InnoDB says of its locks, for the tests that make transactions meet on purpose."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection


def deadlocks() -> int:
    """InnoDB's count of deadlocks since the server started (a victim run again still counts)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")
        return int(cursor.fetchone()[1])


def connection_id() -> int:
    """The server's id of this thread's connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        return int(cursor.fetchone()[0])


def waits_for_a_lock(connection_id: int, timeout: float = 10) -> bool:
    """Whether the transaction of that connection is (or comes within ``timeout``) waiting for a
    row lock. Only that one: other processes of the test run may be waiting for their own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.INNODB_TRX"
                " WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id = %s",
                [connection_id],
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.2)  # InnoDB refreshes this table only when it was not read for 0.1 s
    return False


def in_a_thread(work: Callable[[], object]) -> tuple[threading.Thread, dict]:
    """Start ``work`` in a thread, on a connection of its own; returns once that connection is
    open, with the outcome dict: "connection" (its id), then "result" or "error"."""
    outcome: dict = {}
    started = threading.Event()

    def run():
        try:
            outcome["connection"] = connection_id()
            started.set()
            outcome["result"] = work()
        except Exception as exc:  # the test reports it
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(10)
    return thread, outcome


@contextmanager
def other_transaction() -> Iterator:
    """A cursor in a transaction of a second connection (READ COMMITTED, as Django's are),
    committed when the block ends."""
    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        holder.autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            yield cursor
        holder.commit()
    finally:
        holder.close()
