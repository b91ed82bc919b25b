"""``manage.py check_workers`` sees the workers that ``scripts/run`` starts, from their own loops."""

import pytest

from conftest import ManageProcess, OrderConsumerProcess, run_manage, wait_until
from orders.tests.groups import fresh_group
from plumbing.redis_clients import sync_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_check_workers_reports_each_worker_and_fails_when_one_is_gone(kafka_topics):
    for key in sync_redis().scan_iter("heartbeat:*"):
        sync_redis().delete(key)  # earlier tests' workers
    group, _ = fresh_group()
    workers = [
        OrderConsumerProcess("--group", group),
        ManageProcess("publish_stock"),
        ManageProcess("reconcile", "--repair", "--every", "0.5", "--group", group),
        ManageProcess("expire_orders"),
    ]
    try:
        wait_until(lambda: run_manage("check_workers").returncode == 0, 30, lambda: run_manage("check_workers").stderr)
        report = run_manage("check_workers").stdout
        for name in ("consume_orders", "publish_stock", "reconcile", "expire_orders"):
            assert name in report
    finally:
        expirer = workers.pop()
        expirer.stop()
        for key in sync_redis().scan_iter("heartbeat:expire_orders:*"):
            sync_redis().delete(key)  # what its TTL would do 30 s later
        done = run_manage("check_workers")
        for worker in workers:
            worker.stop()
    assert done.returncode == 1 and "no heartbeat from: expire_orders" in done.stderr
