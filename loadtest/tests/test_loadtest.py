"""``manage.py loadtest`` against a real daphne, Redis, Kafka and consume_orders."""

import io
import json
import re
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conftest import OrderConsumerProcess, run_manage
from loadtest.client import RESERVED, LoadPlan, Recording
from loadtest.processes import merge, split
from loadtest.scenarios import SCENARIOS, build_config
from loadtest.stats import generator_health
from orders.models import Order
from orders.tests.groups import fresh_group


@pytest.fixture
def consumer(live_site):
    group, _ = fresh_group()
    process = OrderConsumerProcess("--group", group)
    yield process
    assert process.stop() == 0, process.output()


def loadtest(site, tmp_path, *args) -> tuple[dict, str]:
    out = io.StringIO()
    path = tmp_path / "run.json"
    try:
        call_command("loadtest", "--url", site.url, "--start-in", "1", "--json", str(path), *args, stdout=out)
    finally:
        print(out.getvalue())
    return json.loads(path.read_text()), out.getvalue()


@pytest.mark.slow
def test_small_run_sells_exactly_the_stock_and_verifies(live_site, consumer, tmp_path):
    report = tmp_path / "report.html"
    result, out = loadtest(
        live_site, tmp_path, "--stock", "50", "--buyers", "300", "--attempts", "3", "--report", str(report)
    )

    summary, verification = result["summary"], result["verification"]
    assert verification["passed"], verification
    assert "FAIL" not in out and "all invariants hold" in out
    assert summary["requests"] == 900
    assert sum(summary["counts"].values()) == 900
    assert summary["counts"]["reserved"] == 50
    assert summary["counts"]["network_error"] == summary["counts"]["5xx"] == 0
    assert (
        summary["counts"]["reserved"]
        + summary["counts"]["sold_out"]
        + summary["counts"]["limit_reached"]
        + (summary["counts"]["rate_limited"])
        == 900
    )
    assert summary["sell_out_at"] is not None and summary["rows_complete_at"] is not None
    assert verification["rows"] == 50
    sale_id = result["sale"]["id"]
    rows = list(Order.objects.filter(sale_id=sale_id).values_list("order_id", "buyer_id"))
    assert len(rows) == 50
    assert len({buyer for _, buyer in rows}) == 50  # nobody above the limit of 1
    assert {str(o) for o, _ in rows} == {o for o, _ in result["answers"]["reserved"]}
    html = report.read_text()
    assert html.count("<svg") == 5 and "VERIFICATION FAILED" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|<script""", html)  # nothing fetched


@pytest.mark.slow
def test_a_run_spread_over_generator_processes_sends_every_request_and_verifies(live_site, consumer, tmp_path):
    result, out = loadtest(
        live_site,
        tmp_path,
        "--stock",
        "40",
        "--buyers",
        "301",
        "--attempts",
        "2",
        "--processes",
        "3",
        "--concurrency",
        "12",
        "--ramp",
        "0.5",
    )
    summary, verification = result["summary"], result["verification"]
    assert verification["passed"], verification
    assert "over 3 processes" in out and "each of its 3 processes used" in out
    assert summary["requests"] == 602 and sum(summary["counts"].values()) == 602
    assert summary["counts"]["reserved"] == 40
    assert result["generator"]["connections"] == 12 and result["generator"]["processes"] == 3
    reserved_buyers = {buyer for _, buyer in result["answers"]["reserved"]}
    assert len(reserved_buyers) == 40  # each buyer in one process only: nobody won twice


def test_split_keeps_every_buyer_once_on_the_single_process_schedule():
    buyers = [(b, f"t{b}") for b in range(10)]
    plan = LoadPlan(
        url="http://x", sale_id=1, buyers=buyers, attempts=1, concurrency=5, ramp=1.0, timeout=1, start_epoch=0
    )
    parts = split(plan, 3)
    assert [p.concurrency for p in parts] == [2, 2, 1]
    assert sorted(b for p in parts for b in p.buyers) == buyers
    # buyer i of part k is buyer offset + i * stride of the whole plan, due at that index * ramp / total
    for p in parts:
        assert all(p.buyers[i] == buyers[p.offset + i * p.stride] for i in range(len(p.buyers)))
        assert p.total == 10
    again = split(parts[1], 2)  # a split of a split still indexes the whole plan
    assert [b for p in again for b in p.buyers] == [buyers[1], buyers[7], buyers[4]]
    assert all(p.buyers[i] == buyers[p.offset + i * p.stride] for p in again for i in range(len(p.buyers)))


def test_merged_recordings_count_every_request_and_report_per_process_cpu():
    a, b = Recording(t0_epoch=5.0), Recording(t0_epoch=5.0)
    for rec, n, cpu in ((a, 3, 1.0), (b, 2, 0.6)):
        rec.sent.extend([0.1] * n)
        rec.latency.extend([0.01] * n)
        rec.category.extend([RESERVED] * n)
        rec.cpu_seconds, rec.wall_seconds, rec.connections = cpu, 2.0, 4
    merged = merge([a, b])
    assert len(merged.category) == len(merged.latency) == len(merged.sent) == 5
    assert merged.connections == 8 and merged.processes == 2
    assert generator_health(merged).cpu_ratio == pytest.approx(1.6 / (2.0 * 2))


@pytest.mark.slow
def test_verification_fails_on_a_missing_or_an_extra_row(live_site, consumer, tmp_path):
    result, _ = loadtest(live_site, tmp_path, "--stock", "10", "--buyers", "30")
    assert result["verification"]["passed"]
    path = str(tmp_path / "run.json")
    sale_id = result["sale"]["id"]

    removed = Order.objects.filter(sale_id=sale_id).first()
    removed.delete()
    done = run_manage("loadtest", "--verify-from", path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL" in done.stdout and "1 without a row" in done.stdout
    assert "confirmed rows 9, reserved answers 10" in done.stdout

    removed.pk = None
    removed.save()
    Order.objects.create(
        order_id=uuid.uuid4(),
        sale_id=sale_id,
        buyer_id=removed.buyer_id,
        price=removed.price,
        reserved_at=timezone.now(),
        kafka_partition=0,
        kafka_offset=0,
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="verification failed"):
        call_command("loadtest", "--verify-from", path, stdout=out)
    text = out.getvalue()
    assert "11 rows, 1 never answered" in text
    assert "buyers above the limit 1" in text  # the extra row is that buyer's second


def test_scenario_presets_yield_to_explicit_options():
    assert build_config("stampede").buyers == SCENARIOS["stampede"]["buyers"] == 100_000
    config = build_config("seed", buyers=10, ramp=None)
    assert (config.stock, config.buyers, config.ramp) == (1000, 10, 5.0)
    with pytest.raises(ValueError, match="unknown scenario"):
        build_config("nope")


@pytest.mark.parametrize("url", ["https://127.0.0.1:8000", "ftp://127.0.0.1", "http://", "127.0.0.1:8000"])
def test_a_url_the_generator_cannot_drive_is_refused_before_anything_is_created(url):
    with pytest.raises(CommandError, match=r"--url: the load generator drives http:// URLs"):
        call_command("loadtest", url=url, stdout=io.StringIO())


@pytest.mark.slow
def test_a_run_with_payments_balances_paid_expired_and_resold(live_site, consumer, tmp_path):
    from conftest import ManageProcess

    expirer = ManageProcess("expire_orders", EXPIRE_INTERVAL="0.2")
    try:
        result, out = loadtest(
            live_site, tmp_path, "--stock", "40", "--buyers", "120", "--pay-ratio", "0.5", "--payment-window", "3"
        )
    finally:
        expirer.stop()
    checks = {c["name"]: c for c in result["verification"]["checks"]}
    assert result["verification"]["passed"], out
    for name in (
        "paid + awaiting + returned = sold",
        "each returned unit back in stock once",
        "final stock = total - paid - awaiting",
        "re-sold units never oversell",
    ):
        assert checks[name]["passed"], checks[name]
    paid = Order.objects.filter(status="paid").count()
    expired = Order.objects.filter(status="expired").count()
    assert 0 < paid < 40 and expired == 40 - paid  # about half paid; the rest expired and sold again
    assert Order.objects.filter(status="awaiting_payment").count() == expired  # the re-sold units


@pytest.fixture
def proxied_site(transactional_db, kafka_topics):
    """The site trusting the generator as its proxy (so X-Forwarded-For tells buyers from a farm's
    few addresses), with a per-address limit of 5 buys a second."""
    from conftest import LiveSite

    site = LiveSite(TRUSTED_PROXIES="127.0.0.1", BUY_ADDRESS_RATE_LIMIT=5)
    yield site
    site.stop()


@pytest.mark.slow
def test_a_gated_run_with_bots_reports_who_won_and_verifies(proxied_site, tmp_path):
    group, _ = fresh_group()
    consumer = OrderConsumerProcess("--group", group)
    try:
        result, out = loadtest(
            proxied_site, tmp_path, "--stock", "20", "--buyers", "60", "--ramp", "1", "--bots", "80", "--gate"
        )
    finally:
        assert consumer.stop() == 0, consumer.output()
    assert result["verification"]["passed"], result["verification"]
    bots, counts = result["bots"], result["summary"]["counts"]
    assert counts["reserved"] + sum(bots["won"].values()) == 20  # every unit to a human or a bot, and counted
    assert "units won by humans" in out and "humans: challenge + solve + pass" in out
    answers = bots["answers"]
    groups = 2  # 20 replay bots in groups of 10: only each owner's own pass, once, can buy
    assert bots["won"].get("replay", 0) <= groups
    assert answers.get("replay: pass 201 ok", 0) <= groups  # the owners' own passes
    assert answers.get("replay: 201 ok", 0) == 0  # a replayed solution earns no second pass
    assert answers.get("replay: 409 challenge_used", 0) > 0
    assert bots["won"].get("direct", 0) == 0  # no pass, no unit
    assert answers.get("early: pass 409 not_started", 0) > 0  # nothing farmed before the start
