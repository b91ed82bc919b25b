"""``manage.py reconcile`` against the real Redis, Kafka and MariaDB, with planted differences."""

import time
import uuid

import pytest

from conftest import run_manage
from orders.tests.groups import fresh_group
from plumbing.redis_clients import sync_redis
from sales import inventory
from sales.inventory import keys
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("kafka_topics")]

SHORT_BOUND = {"BUY_PRODUCE_WITHIN": "0.2", "BUY_ACK_TIMEOUT": "0.5", "HOLD_SLACK": "0.3"}  # 1 s
LONG_BOUND = {"BUY_PRODUCE_WITHIN": "0.2", "BUY_ACK_TIMEOUT": "0.5", "HOLD_SLACK": "59.3"}  # 60 s


def reconcile(*args, bound=SHORT_BOUND):
    return run_manage("reconcile", *args, **bound)


def test_an_abandoned_hold_is_reported_then_repaired():
    sale = SaleFactory(total_stock=3)
    group, _ = fresh_group()
    inventory.reserve_many(sale.pk, [(BuyerFactory().pk, str(uuid.uuid4()))])
    # A hold younger than the bound is work in flight. A long bound here: the command's own start-up
    # can take longer than the short one on a loaded machine (a clean-clone CI run saw it).
    assert reconcile("--group", group, bound=LONG_BOUND).returncode == 0
    time.sleep(1.1)

    found = reconcile("--group", group)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "1 hold(s) older than 1 s: abandoned" in found.stdout

    repaired = reconcile("--group", group, "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "repair: gave back 1 abandoned hold(s)" in repaired.stdout
    assert inventory.remaining([sale.pk])[sale.pk] == 3


def test_units_missing_in_redis_are_a_difference():
    sale, other = SaleFactory(total_stock=5), SaleFactory(total_stock=2)
    group, _ = fresh_group()
    sync_redis().decr(keys.stock(sale.pk))  # a unit gone from the stock with no hold: lost data
    found = reconcile("--group", group)
    assert found.returncode == 1
    lines = {line.split()[0]: line for line in found.stdout.splitlines() if line.strip()[:1].isdigit()}
    assert "Redis: in stock 4 + held 0 != total 5" in lines[str(sale.pk)]
    assert lines[str(other.pk)].endswith("none")
    assert reconcile("--group", group, "--sale", str(other.pk)).returncode == 0
