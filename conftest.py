"""Fixtures shared by every app's tests: the real Redis, Kafka and MariaDB of
``scripts/stack``, and a real daphne serving the site."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty test Redis database. On a Redis Cluster the slot map is read
    again first: a test that killed a master (test_redis_loss) leaves it back as a replica, and
    FLUSHDB, a command without a key, goes to the masters the client last knew."""
    from plumbing.redis_clients import sync_redis

    client = sync_redis()
    if settings.REDIS_CLUSTER:
        client.nodes_manager.initialize()
    client.flushdb()
    yield


@pytest.fixture(scope="session")
def kafka_topics():
    """This run's order topic and dead-letter topic, deleted afterwards."""
    from confluent_kafka.admin import AdminClient

    from orders.topics import ensure_order_topics
    from plumbing.kafka.config import admin_config

    ensure_order_topics()
    yield settings.ORDERS_TOPIC
    admin = AdminClient(admin_config())
    for deleted in admin.delete_topics(
        [settings.ORDERS_TOPIC, settings.ORDERS_DLQ_TOPIC], operation_timeout=30
    ).values():
        deleted.result()


def subprocess_env(**overrides) -> dict:
    """Environment for a daphne or manage.py child: same settings, the test database."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "seckill_site.settings.test"
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
    """The site in one web process of ``server`` (``seckill_site.servers``; the default unless named)."""

    def __init__(self, server: str | None = None, *, workers: int = 1, **env):
        from seckill_site import servers

        self.server = server or os.environ.get("SECKILL_SERVER", servers.DEFAULT)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix=f"{self.server}-{self.port}-", suffix=".log")
        self.proc = subprocess.Popen(
            servers.command(self.server, host="127.0.0.1", port=self.port, workers=workers),
            cwd=ROOT,
            env=subprocess_env(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: ``kill`` reaches the server's workers too
        )
        try:
            wait_for_port(self.port, self.proc)
        except BaseException:
            self.stop()
            raise

    def output(self) -> str:
        """What the server has logged so far."""
        with open(self.log.name, "rb") as log:
            return log.read().decode(errors="replace")

    def kill(self):
        """SIGKILL the server and its workers at once, as a crash or the OOM killer would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is not None:
            self.log.close()
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def live_site(transactional_db, kafka_topics):
    """A real web server (the default one) serving the site, on the test database."""
    site = LiveSite()
    yield site
    site.stop()


@pytest.fixture(params=["granian", "daphne"])
def live_site_each_server(request, transactional_db, kafka_topics):
    """The site under the default server, then under daphne: for the HTTP and websocket
    contract tests, which hold under both (a module opts in by overriding ``live_site``)."""
    site = LiveSite(request.param)
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
    """A long-running ``manage.py`` command as a real child process, its output in a temporary file."""

    def __init__(self, command: str, *args, **env):
        self.command = command
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", command, *args],
            cwd=ROOT,
            env=subprocess_env(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` and wait for the exit code (the process is killed if it overstays)."""
        if self.alive():
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.command} ignored signal {sig} for {timeout}s:\n{self.output()}") from None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait()


class OrderConsumerProcess(ManageProcess):
    """``manage.py consume_orders`` as a real child process."""

    def __init__(self, *args, **env):
        super().__init__("consume_orders", *args, **env)


def stack(*args) -> None:
    """``scripts/stack`` (e.g. "stop", "kafka"): for tests that stop or restart a service."""
    done = subprocess.run([str(ROOT / "scripts" / "stack"), *args], capture_output=True, text=True, timeout=180)
    said = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, f"scripts/stack {' '.join(args)} exited {done.returncode}:\n{said}"


def wait_until(predicate, timeout: float, what, interval: float = 0.02):
    """Poll ``predicate`` until it returns something truthy, and return that; fail the test
    after ``timeout`` seconds, saying ``what`` was awaited (a string, or a function giving one)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what() if callable(what) else what}")
        time.sleep(interval)


def drain_orders(group: str, sale_id: int, expected: int, timeout: float = 60) -> None:
    """Run a consumer in ``group`` (see ``orders.tests.groups.fresh_group``) until the
    sale has ``expected`` rows, and assert it has exactly that many."""
    from orders.models import Order

    def rows() -> int:
        return Order.objects.filter(sale_id=sale_id).count()

    consumer = OrderConsumerProcess("--group", group)
    try:
        wait_until(lambda: rows() >= expected, timeout, lambda: f"{expected} rows:\n{consumer.output()[-3000:]}")
        time.sleep(0.5)  # anything beyond the expectation would show up now
    finally:
        code = consumer.stop()
    assert code == 0 and rows() == expected, f"{rows()} rows of {expected}; exit {code}:\n{consumer.output()[-3000:]}"
