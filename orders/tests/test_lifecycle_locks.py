"""The order transitions against another transaction that holds an order's row, on the real MariaDB.

The pay race (test_pay_race) once lost payers to deadlock 1213: the expiry's UPDATE ran through
the (status, pay_by) index, locking an order's index entry before its row, while a payment held
the row and went on to change that entry. Here the payment's window is held open on purpose: a
transaction locks one due order's row, the expiry starts and waits for it, then the transaction
changes the order's status (as a payment does) and commits. Every transition must only wait, never
deadlock, and the order the other transaction paid must stay paid.
"""

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from orders import lifecycle
from orders.models import Order
from plumbing.tests import innodb
from sales.buyers import create_buyers
from sales.tests.factories import SaleFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

DUE, ENDED = 50, 3000  # a sale's table as it looks in production: many orders ended, a few due


def _orders(due: int = DUE, ended: int = ENDED) -> list[int]:
    """``due`` orders past ``pay_by`` and ``ended`` paid ones; returns the due ones' pks. The
    table's statistics are brought up to date, so the optimizer plans as it would on a table with
    a history (an UPDATE naming status then runs through the status indexes)."""
    sale = SaleFactory.create(total_stock=due + ended)
    buyers = create_buyers(due + ended)
    now = timezone.now()
    Order.objects.bulk_create(
        Order(
            order_id=uuid.uuid4(),
            sale=sale,
            buyer_id=b,
            price=sale.price,
            status=Order.Status.AWAITING_PAYMENT if i < due else Order.Status.PAID,
            reserved_at=now,
            pay_by=now - timedelta(seconds=1),
            kafka_partition=0,
            kafka_offset=i,
        )
        for i, b in enumerate(buyers)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE orders_order")
    return list(Order.objects.filter(status=Order.Status.AWAITING_PAYMENT).order_by("pk").values_list("pk", flat=True))


@pytest.mark.parametrize(
    "transition",
    [
        pytest.param(lambda due: lifecycle.expire(), id="expire-worker"),
        pytest.param(lambda due: lifecycle.expire(pks=due), id="expire-these"),
        pytest.param(lambda due: lifecycle.cancel(due), id="cancel"),
    ],
)
def test_a_transition_waits_for_a_payment_holding_an_order_and_never_deadlocks(transition):
    due = _orders()
    paid = due[len(due) // 2]
    before = innodb.deadlocks()
    with innodb.other_transaction() as cursor:
        # A payment's transaction: the order's row is locked (it changes no indexed column yet)...
        cursor.execute("UPDATE orders_order SET paid_at = NOW(6) WHERE id = %s", [paid])
        thread, outcome = innodb.in_a_thread(lambda: transition(due))
        assert innodb.waits_for_a_lock(outcome["connection"]), "the transition did not wait for the order"
        # ...then its status changes, as mark_paid's UPDATE does, while the transition waits.
        cursor.execute("UPDATE orders_order SET status = 'paid' WHERE id = %s", [paid])
    thread.join(30)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"] == DUE - 1
    assert innodb.deadlocks() == before  # it waited; it was not a deadlock's victim run again
    assert Order.objects.get(pk=paid).status == Order.Status.PAID
    assert Order.objects.filter(pk__in=due).exclude(pk=paid).exclude(status=Order.Status.AWAITING_PAYMENT).count() == (
        DUE - 1
    )


@pytest.mark.parametrize(("due", "ended"), [(3, 0), (DUE, ENDED)])
def test_the_lock_can_only_read_through_the_primary_key(due, ended):
    """What the lock order rests on: the optimizer has no other index to take, on a table with a
    history or without one (EXPLAIN's possible_keys)."""
    pks = _orders(due, ended)
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = lifecycle._locking(pks).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        columns = [c[0] for c in cursor.description]
        [plan] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    assert (plan["possible_keys"], plan["key"]) == ("PRIMARY", "PRIMARY"), plan
