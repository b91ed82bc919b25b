"""A deadlock's victim runs again (``plumbing.transactions``): a real deadlock on the real MariaDB,
made on purpose by two transactions that lock two rows in opposite orders."""

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, transaction

from plumbing.tests import innodb
from plumbing.transactions import atomic_retrying

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()


def deadlock_against(work, *, outer_atomic: bool = False):
    """Run ``work`` (which locks row b, then row a) in a thread while another transaction holds
    row a (and many more rows, so InnoDB picks ``work`` as the victim) and then asks for b."""
    users = User.objects.bulk_create([User(username=f"u{i}") for i in range(50)])
    a, b = users[0].pk, users[1].pk

    def run():
        if not outer_atomic:
            return work(a, b)
        with transaction.atomic():
            return work(a, b)

    with innodb.other_transaction() as cursor:
        cursor.execute("UPDATE auth_user SET first_name = 'holder' WHERE id <> %s", [b])
        thread, outcome = innodb.in_a_thread(run)
        assert innodb.waits_for_a_lock(outcome.pop("connection"))  # work holds b and waits for a
        cursor.execute("UPDATE auth_user SET first_name = 'holder' WHERE id = %s", [b])  # the cycle
    thread.join(30)
    return outcome


def locker(attempts: list[int]):
    @atomic_retrying()
    def lock_b_then_a(a: int, b: int) -> str:
        attempts.append(1)
        User.objects.filter(pk=b).update(last_name="work")
        User.objects.filter(pk=a).update(last_name="work")
        return "done"

    return lock_b_then_a


def test_the_victim_of_a_real_deadlock_runs_again_and_finishes():
    attempts: list[int] = []
    before = innodb.deadlocks()
    outcome = deadlock_against(locker(attempts))
    assert outcome == {"result": "done"}
    assert innodb.deadlocks() == before + 1 and len(attempts) == 2
    assert set(User.objects.filter(last_name="work").values_list("first_name", flat=True)) == {"holder"}


def test_inside_another_transaction_the_deadlock_goes_up_to_its_owner():
    attempts: list[int] = []
    outcome = deadlock_against(locker(attempts), outer_atomic=True)
    assert isinstance(outcome.get("error"), OperationalError) and outcome["error"].args[0] == 1213
    assert len(attempts) == 1
    assert not User.objects.filter(last_name="work").exists()


def test_other_errors_are_not_run_again_and_the_attempts_are_bounded():
    calls: list[int] = []

    @atomic_retrying(attempts=3)
    def gone_away():
        calls.append(1)
        raise OperationalError(2006, "MySQL server has gone away")

    @atomic_retrying(attempts=3)
    def always_a_victim():
        calls.append(1)
        raise OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")

    with pytest.raises(OperationalError):
        gone_away()
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(OperationalError):
        always_a_victim()
    assert len(calls) == 3
