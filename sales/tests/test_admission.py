"""The admission gate over HTTP on the real site, Redis and Kafka (issue 14): a challenge, its
solution for a pass, the gate's multiple, the deny list within a second of an admin change, and
the per-address limit."""

import time
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from plumbing.redis_clients import sync_redis
from sales import challenge
from sales.buyers import mint_token
from sales.inventory import keys
from sales.models import Denial
from sales.services import save_sale
from sales.tests.factories import BuyerFactory, SaleFactory

pytestmark = pytest.mark.cluster


@pytest.fixture
def live_site(live_site_each_server):
    return live_site_each_server


def post(site, path, buyer, json=None, address=None, **headers):
    headers["Authorization"] = f"Bearer {mint_token(buyer.pk)}"
    if address:
        headers["X-Forwarded-For"] = address
    response = httpx.post(f"{site.url}{path}", headers=headers, json=json, timeout=30)
    return response.status_code, response.json()


def get_pass(site, sale, buyer, address=None):
    code, issued = post(site, f"/api/sales/{sale.pk}/challenge", buyer, address=address)
    assert code == 200, issued
    counter = challenge.solve(challenge.Challenge(issued["seed"], issued["difficulty"]))
    solution = {"seed": issued["seed"], "counter": counter}
    return post(site, f"/api/sales/{sale.pk}/pass", buyer, solution, address=address), solution


def test_a_solved_challenge_earns_a_pass_that_buys_once(live_site):
    sale = SaleFactory(total_stock=3, requires_pass=True, challenge_difficulty=8)
    buyer = BuyerFactory()
    (code, issued), solution = get_pass(live_site, sale, buyer)
    assert (code, issued["status"]) == (201, "ok")
    assert issued["expires_at"]
    # the same solution again: one pass per solved challenge
    assert post(live_site, f"/api/sales/{sale.pk}/pass", buyer, solution) == (409, {"status": "challenge_used"})

    code, body = post(live_site, f"/api/sales/{sale.pk}/buy", buyer, **{"Purchase-Pass": issued["pass"]})
    assert (code, body["status"]) == (201, "reserved")
    assert int(sync_redis().get(keys.stock(sale.pk))) == 2


def test_wrong_forged_and_other_buyers_solutions_earn_nothing(live_site):
    sale = SaleFactory(total_stock=3, requires_pass=True, challenge_difficulty=8)
    buyer, other = BuyerFactory(), BuyerFactory()
    _, issued = post(live_site, f"/api/sales/{sale.pk}/challenge", buyer)
    counter = challenge.solve(challenge.Challenge(issued["seed"], issued["difficulty"]))
    pass_path = f"/api/sales/{sale.pk}/pass"

    wrong = next(c for c in range(counter + 1, counter + 10_000) if not _solves(issued, c))
    assert post(live_site, pass_path, buyer, {"seed": issued["seed"], "counter": wrong})[1]["status"] == (
        "challenge_failed"
    )
    forged = issued["seed"][:-2] + ("AA" if not issued["seed"].endswith("AA") else "BB")
    assert post(live_site, pass_path, buyer, {"seed": forged, "counter": counter})[0] == 400
    assert post(live_site, pass_path, other, {"seed": issued["seed"], "counter": counter}) == (
        400,
        {"status": "challenge_failed", "detail": "challenge for another buyer or sale"},
    )
    assert post(live_site, pass_path, buyer, {"seed": issued["seed"], "counter": "1"})[0] == 400
    assert post(live_site, pass_path, buyer, [1, 2])[0] == 400
    assert sync_redis().hlen(keys.passes(sale.pk)) == 0


def _solves(issued, counter) -> bool:
    return challenge.leading_zero_bits(challenge.digest(issued["seed"], counter)) >= issued["difficulty"]


def test_no_pass_beyond_the_gates_multiple_nor_before_the_start(live_site):
    sale = SaleFactory(total_stock=2, requires_pass=True, challenge_difficulty=4, pass_multiple=2)
    answers = [get_pass(live_site, sale, BuyerFactory())[0] for _ in range(5)]
    assert [code for code, _ in answers] == [201, 201, 201, 201, 409]
    assert answers[-1][1] == {"status": "sold_out"}

    later = SaleFactory(requires_pass=True, challenge_difficulty=4, starts_at=timezone.now() + timedelta(hours=1))
    assert get_pass(live_site, later, BuyerFactory())[0] == (409, {"status": "not_started"})


def test_a_sale_without_the_gate_has_no_challenge_and_unknown_ids_are_404(live_site):
    buyer = BuyerFactory()
    open_sale = SaleFactory()
    assert post(live_site, f"/api/sales/{open_sale.pk}/challenge", buyer)[1]["status"] == "not_required"
    assert post(live_site, "/api/sales/999999/challenge", buyer) == (404, {"status": "not_found"})
    assert post(live_site, f"/api/sales/{10**25}/pass", buyer, {"seed": "x", "counter": 1}) == (
        404,
        {"status": "not_found"},
    )
    assert httpx.post(f"{live_site.url}/api/sales/{open_sale.pk}/challenge").status_code == 401


def test_while_redis_rebuilds_a_lost_sale_the_gate_answers_retry_and_uses_up_nothing(live_site):
    sale = SaleFactory(total_stock=3, requires_pass=True, challenge_difficulty=8)
    buyer = BuyerFactory()
    code, issued = post(live_site, f"/api/sales/{sale.pk}/challenge", buyer)
    assert code == 200, issued
    counter = challenge.solve(challenge.Challenge(issued["seed"], issued["difficulty"]))
    solution = {"seed": issued["seed"], "counter": counter}
    sync_redis().delete(*keys.all_of_sale(sale.pk))  # Redis lost the sale; the database has it

    retry = (503, {"status": "retry"})
    assert post(live_site, f"/api/sales/{sale.pk}/challenge", buyer) == retry
    assert post(live_site, f"/api/sales/{sale.pk}/pass", buyer, solution) == retry
    assert httpx.get(f"{live_site.url}/api/sales/{sale.pk}").status_code == 503

    save_sale(sale)  # back in Redis (orders.recovery rebuilds it so; this sale has no orders)
    code, body = post(live_site, f"/api/sales/{sale.pk}/pass", buyer, solution)
    assert (code, body["status"]) == (201, "ok")  # the retried solution was not used up


def _denied_within(site, sale, buyer, address=None, bound=1.0) -> float:
    """Seconds until the site answers this buyer (from this address) 403 denied; fails past ``bound``."""
    began = time.monotonic()
    while time.monotonic() - began < bound:
        code, body = post(site, f"/api/sales/{sale.pk}/buy", buyer, address=address)
        if (code, body) == (403, {"status": "denied"}):
            return time.monotonic() - began
        time.sleep(0.02)
    pytest.fail(f"still not denied {bound} s after the admin change")


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(admin)
    return client


def test_a_buyer_denied_in_admin_is_refused_within_a_second(live_site, admin_client):
    sale = SaleFactory(starts_at=timezone.now() + timedelta(hours=1))  # answers not_started, takes nothing
    buyer, bystander = BuyerFactory(), BuyerFactory()
    assert post(live_site, f"/api/sales/{sale.pk}/buy", buyer)[1]["status"] == "not_started"

    response = admin_client.post("/admin/sales/denial/add/", {"buyer": buyer.pk, "network": "", "reason": "bot"})
    assert response.status_code == 302, response.content
    took = _denied_within(live_site, sale, buyer)
    print(f"\ndenied {took:.2f} s after the admin change")
    assert post(live_site, f"/api/sales/{sale.pk}/buy", bystander)[1]["status"] == "not_started"
    assert post(live_site, f"/api/sales/{sale.pk}/challenge", buyer)[1]["status"] == "denied"

    denial = Denial.objects.get(buyer=buyer)
    admin_client.post(f"/admin/sales/denial/{denial.pk}/delete/", {"post": "yes"})
    deadline = time.monotonic() + 1.0
    while post(live_site, f"/api/sales/{sale.pk}/buy", buyer)[1]["status"] == "denied":
        assert time.monotonic() < deadline, "still denied a second after the denial was deleted"
        time.sleep(0.02)


@pytest.fixture
def proxied_site(transactional_db, kafka_topics):
    """The site behind a trusted local proxy (X-Forwarded-For names the client), with a
    per-address limit of 3 buy requests a second per sale."""
    from conftest import LiveSite

    site = LiveSite(TRUSTED_PROXIES="127.0.0.1", BUY_ADDRESS_RATE_LIMIT=3)
    yield site
    site.stop()


def test_a_denied_address_range_is_refused_within_a_second(proxied_site, admin_client):
    sale = SaleFactory(starts_at=timezone.now() + timedelta(hours=1))
    buyer = BuyerFactory()
    response = admin_client.post("/admin/sales/denial/add/", {"network": "203.0.113.0/24", "reason": "farm"})
    assert response.status_code == 302, response.content
    _denied_within(proxied_site, sale, buyer, address="203.0.113.77")
    # the same buyer from elsewhere, and a spoofed hop left of the proxy's, are not the range
    time.sleep(1.05)  # a new second of the rate limits
    assert post(proxied_site, f"/api/sales/{sale.pk}/buy", buyer, address="198.51.100.1")[1]["status"] == (
        "not_started"
    )
    spoofed = post(proxied_site, f"/api/sales/{sale.pk}/buy", BuyerFactory(), address="198.51.100.2, 203.0.113.5")
    assert spoofed[1]["status"] == "denied"  # the rightmost hop is what the trusted proxy saw


def test_one_address_is_limited_whichever_buyers_it_signs_in_as(proxied_site):
    sale = SaleFactory(total_stock=50)
    answers = [
        post(proxied_site, f"/api/sales/{sale.pk}/buy", BuyerFactory(), address="192.0.2.9")[1]["status"]
        for _ in range(10)
    ]
    assert answers.count("address_limited") >= 1  # 10 in at most two seconds, 3 a second allowed
    assert answers.count("reserved") <= 6
    assert post(proxied_site, f"/api/sales/{sale.pk}/buy", BuyerFactory(), address="192.0.2.10")[1]["status"] == (
        "reserved"
    )
    assert int(sync_redis().get(keys.stock(sale.pk))) == 50 - answers.count("reserved") - 1
