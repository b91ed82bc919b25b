"""A real Prometheus (Debian's) scrapes the site during a small load test; the buy counter is read
back through Prometheus's HTTP API, and every query of the shipped Grafana dashboard is valid
PromQL against what was scraped."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, LiveSite, OrderConsumerProcess, free_port, wait_until
from orders.tests.groups import fresh_group
from sales.buyers import create_buyers, mint_token
from sales.tests.factories import SaleFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
DASHBOARD = ROOT / "monitoring" / "grafana-dashboard.json"


def start_prometheus(target: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    config = workdir / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: seckill\n    metrics_path: /metrics\n    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "prometheus.log").open("wb"),
    )
    return process, f"http://127.0.0.1:{port}"


def query(api: str, promql: str) -> dict:
    r = httpx.get(f"{api}/api/v1/query", params={"query": promql}, timeout=10)
    return r.json()


def test_prometheus_reads_the_buy_counter_and_the_dashboard_queries_are_valid(kafka_topics):
    if not Path(PROMETHEUS).exists():
        pytest.fail(f"prometheus not found at {PROMETHEUS}: scripts/test installs Debian's prometheus")
    sale = SaleFactory(total_stock=30)
    tokens = [mint_token(b) for b in create_buyers(50)]
    group, _ = fresh_group()
    metrics_dir = Path(tempfile.mkdtemp())
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    consumer = OrderConsumerProcess("--group", group, **env)
    site = LiveSite(**env)
    workdir = Path(tempfile.mkdtemp())
    prometheus, api = start_prometheus(site.url.removeprefix("http://"), workdir)
    try:
        wait_until(lambda: _up(api), 60, lambda: (workdir / "prometheus.log").read_text()[-2000:])
        with httpx.Client(base_url=site.url) as client:
            codes = [
                client.post(f"/api/sales/{sale.pk}/buy", headers={"Authorization": f"Bearer {t}"}).status_code
                for t in tokens
            ]
        assert codes.count(201) == 30 and codes.count(409) == 20

        def scraped(promql, want):
            result = query(api, promql)["data"]["result"]
            return result and float(result[0]["value"][1]) == want

        wait_until(lambda: scraped('seckill_buy_answers_total{status="reserved"}', 30), 30, "reserved in Prometheus")
        wait_until(lambda: scraped("sum(seckill_buy_answers_total)", 50), 30, "all answers in Prometheus")

        exprs = [t["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for t in panel["targets"]]
        answers = {expr: query(api, expr) for expr in exprs}  # empty rate() results this early are fine
        assert all(a["status"] == "success" for a in answers.values()), {
            e: a for e, a in answers.items() if a["status"] != "success"
        }
    finally:
        prometheus.terminate()
        prometheus.wait(10)
        site.stop()
        consumer.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _up(api: str) -> bool:
    try:
        result = query(api, "up")["data"]["result"]
    except (httpx.HTTPError, KeyError, ValueError):
        return False
    return bool(result) and result[0]["value"][1] == "1"
