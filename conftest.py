"""Fixtures shared by every app's tests: the real Redis, Kafka and MariaDB of
``scripts/stack``, and a real daphne serving the site."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty test Redis database."""
    from sales.redis_clients import sync_redis

    sync_redis().flushdb()
    yield


@pytest.fixture(scope="session")
def kafka_topics(django_db_blocker):
    """This run's order topic and dead-letter topic, deleted afterwards."""
    from confluent_kafka.admin import AdminClient

    from orders.kafka_config import admin_config
    from orders.topics import ensure_topics

    ensure_topics()
    yield settings.ORDERS_TOPIC
    AdminClient(admin_config()).delete_topics([settings.ORDERS_TOPIC, settings.ORDERS_DLQ_TOPIC])


def subprocess_env(**overrides) -> dict:
    """Environment for a daphne or manage.py child: same settings, the test database."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "seckill_site.test_settings"
    env["DATABASE_URL"] = f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


class LiveSite:
    def __init__(self, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(ROOT / ".pytest_cache" / f"daphne-{self.port}.log", "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "seckill_site.daphne_server",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "seckill_site.asgi:application",
            ],
            cwd=ROOT,
            env=subprocess_env(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.proc)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def live_site(transactional_db, kafka_topics):
    """A real daphne serving the site, on the test database."""
    (ROOT / ".pytest_cache").mkdir(exist_ok=True)
    site = LiveSite()
    yield site
    site.stop()


def run_manage(*args, timeout: float = 120, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class ManageProcess:
    """A long-running ``manage.py`` command as a real child process."""

    def __init__(self, command: str, *args, **env):
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", command, *args],
            cwd=ROOT,
            env=subprocess_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop(self, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM, then the exit code and what it printed."""
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out


class OrderConsumerProcess(ManageProcess):
    """``manage.py consume_orders`` as a real child process."""

    def __init__(self, *args, **env):
        super().__init__("consume_orders", *args, **env)


def wait_until(predicate, timeout: float, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; that value, or the last one."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def drain_orders(group: str, sale_id: int, expected: int, timeout: float = 60) -> int:
    """Run a consumer in ``group`` (see ``orders.tests.groups.fresh_group``) until the
    sale has ``expected`` rows; returns the row count."""
    from orders.models import Order

    consumer = OrderConsumerProcess("--group", group)
    try:
        wait_until(lambda: Order.objects.filter(sale_id=sale_id).count() >= expected, timeout)
        time.sleep(0.5)  # anything beyond the expectation would show up now
    finally:
        code, out = consumer.stop()
    rows = Order.objects.filter(sale_id=sale_id).count()
    assert code == 0 and rows == expected, f"{rows} rows of {expected}; consumer exit {code}:\n{out[-3000:]}"
    return rows
