"""What InnoDB says of its locks, for the tests that make transactions meet on purpose."""

import time

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
