"""1,000 orders whose payment and expiry fire at the same moment (issue 11), on the real MariaDB and Redis.

Payers (threads, each its own database connection) pay every order from a little before
its ``pay_by`` to after it, while two expiry workers run their rounds: each order must end
exactly one of paid or expired, units returned = orders expired, every payment of an
expired order refunded, and replaying every webhook changes nothing. The table holds an earlier
sale's orders too, as one in use does: on a fresh table the optimizer reads through the primary
key whatever the query, and the deadlock a status index allowed (orders/lifecycle.py) never showed.
"""

import random
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from orders import lifecycle
from orders.models import Order, Payment
from orders.payments import providers, signing, webhooks
from orders.payments.services import pay_order
from plumbing.tests import innodb
from sales import inventory
from sales.buyers import create_buyers
from sales.tests.factories import SaleFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ORDERS, PAYERS, EXPIRERS = 1000, 8, 2
HISTORY = 3000  # paid orders of an earlier sale: the optimizer then plans as on a table in use
LEAD = 1.5  # seconds before pay_by the payers start: about half the orders get paid in time


def test_pay_and_expiry_at_the_same_moment_end_each_order_exactly_once(monkeypatch):
    deadlocks = innodb.deadlocks()
    sale = SaleFactory(total_stock=ORDERS)
    buyers = create_buyers(ORDERS)
    holds = [(b, str(uuid.uuid4())) for b in buyers]
    inventory.reserve_many(sale.pk, holds)
    inventory.confirm([(sale.pk, o) for _, o in holds])
    pay_by = timezone.now() + timedelta(seconds=LEAD + 2)
    Order.objects.bulk_create(
        Order(
            order_id=o,
            sale=sale,
            buyer_id=b,
            price=sale.price,
            reserved_at=timezone.now(),
            pay_by=pay_by,
            kafka_partition=0,
            kafka_offset=i,
        )
        for i, (b, o) in enumerate(holds)
    )
    earlier = SaleFactory(total_stock=HISTORY)
    Order.objects.bulk_create(
        Order(
            order_id=uuid.uuid4(),
            sale=earlier,
            buyer_id=buyers[i % ORDERS],
            price=earlier.price,
            status=Order.Status.PAID,
            reserved_at=timezone.now(),
            pay_by=timezone.now(),
            kafka_partition=0,
            kafka_offset=i,
        )
        for i in range(HISTORY)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE orders_order")
    sent: list[bytes] = []  # every webhook body the mock provider sent
    receive = webhooks.receive

    def recording(provider, body, signature):
        sent.append(body)
        return receive(provider, body, signature)

    monkeypatch.setattr(webhooks, "receive", recording)
    mock = providers.provider("mock")

    start = pay_by.timestamp() - LEAD
    answers: list[str] = []
    todo = holds[:]
    random.shuffle(todo)

    def payer(share):
        time.sleep(max(0.0, start - time.time()))
        try:
            for buyer, order_id in share:
                answers.append(str(pay_order(uuid.UUID(order_id), buyer).status))
        finally:
            connection.close()

    done = threading.Event()

    def expirer():
        time.sleep(max(0.0, start - time.time()))
        try:
            while not done.is_set():
                lifecycle.expire()
                lifecycle.return_units()
                time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=payer, args=(todo[i::PAYERS],)) for i in range(PAYERS)]
    threads += [threading.Thread(target=expirer) for _ in range(EXPIRERS)]
    for t in threads:
        t.start()
    for t in threads[:PAYERS]:
        t.join()
    while Order.objects.filter(status="awaiting_payment").exists() or lifecycle.return_units():
        time.sleep(0.05)
    done.set()
    for t in threads[PAYERS:]:
        t.join()

    statuses = Counter(Order.objects.filter(sale=sale).values_list("status", flat=True))
    payments = Counter(Payment.objects.filter(order__sale=sale).values_list("order__status", "status"))
    left = inventory.remaining([sale.pk])[sale.pk]
    deadlocks = innodb.deadlocks() - deadlocks
    print(
        f"\nanswers {dict(Counter(answers))}; orders {dict(statuses)}; payments {dict(payments)}; "
        f"back in stock {left}; deadlocks {deadlocks}"
    )

    assert sum(statuses.values()) == ORDERS and set(statuses) <= {"paid", "expired"}
    assert statuses["paid"] > 0 and statuses["expired"] > 0, "the race did not happen: move LEAD"
    assert Counter(answers) == statuses  # each payer was told how its order ended
    assert deadlocks == 0  # the transitions queue for the rows they share (orders/lifecycle.py's lock order)
    assert left == statuses["expired"]  # units returned = orders expired, once each
    assert not Order.objects.filter(status="paid", unit_returned=True).exists()  # never paid and returned
    assert Order.objects.filter(status="expired", unit_returned=True).count() == statuses["expired"]
    assert payments[("paid", "captured")] == statuses["paid"]  # one captured payment per paid order
    assert payments[("expired", "captured")] == 0  # a capture that came late was refunded
    assert set(payments) <= {("paid", "captured"), ("expired", "refunded")}
    assert inventory.held_by_buyer(sale.pk).keys() == set(
        Order.objects.filter(sale=sale, status="paid").values_list("buyer_id", flat=True)
    )

    before = (statuses, payments, left)
    secret = mock.webhook_secret()
    replayed = Counter()
    for body in sent:
        replayed[receive("mock", body, signing.sign(body, secret))] += 1
    assert replayed == {"duplicate": len(sent)}
    statuses = Counter(Order.objects.filter(sale=sale).values_list("status", flat=True))
    payments = Counter(Payment.objects.filter(order__sale=sale).values_list("order__status", "status"))
    assert (statuses, payments, inventory.remaining([sale.pk])[sale.pk]) == before
