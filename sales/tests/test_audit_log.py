"""The audit log of a real sale (issue 14): Redis appends each admission in the script that decides
it, the log of a sold-out sale verifies over HTTP with the verifier command, its reservations are in
the order Redis took the units, and altering, dropping or reordering a published entry fails it."""

import asyncio
import io

import httpx
import pytest
from django.core.management import call_command

from conftest import run_manage
from sales import audit, audit_log
from sales.buyers import create_buyers, mint_token
from sales.models import PublishedAudit
from sales.tests.factories import BuyerFactory, SaleFactory
from sales.tests.test_admission import get_pass, post

pytestmark = pytest.mark.cluster

UNITS, BUYERS = 30, 60


async def stampede(site, sale, buyers):
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:

        async def buy(buyer):
            response = await client.post(
                f"/api/sales/{sale.pk}/buy", headers={"Authorization": f"Bearer {mint_token(buyer)}"}
            )
            return buyer, response.status_code, response.json()

        return await asyncio.gather(*(buy(buyer) for buyer in buyers))


def verify(site, sale, *extra):
    return run_manage("verify_audit", "--url", site.url, "--sale", str(sale.pk), *extra)


def test_a_sold_out_sales_log_verifies_in_the_order_redis_took_the_units(live_site):
    sale = SaleFactory(total_stock=UNITS)
    buyers = create_buyers(BUYERS)
    answers = asyncio.run(stampede(live_site, sale, buyers))
    won = [(body["remaining"], body["order_id"], buyer) for buyer, code, body in answers if code == 201]
    assert len(won) == UNITS

    log = httpx.get(f"{live_site.url}/api/sales/{sale.pk}/audit").json()
    assert (log["status"], log["published"], len(log["entries"])) == ("ok", False, UNITS)
    # each 201 said how many were left after its unit: Redis took them in that order
    taken_in_order = [order_id for _, order_id, _ in sorted(won, reverse=True)]
    assert [row["order_id"] for row in log["entries"]] == taken_in_order
    assert {row["buyer"] for row in log["entries"]}.isdisjoint({str(b) for b in buyers})  # pseudonyms only

    out = io.StringIO()
    call_command("publish_audit", "--sale", str(sale.pk), stdout=out)
    head = out.getvalue().split()[-1]
    assert head == audit.head(sale.pk, audit.from_json(log["entries"]))

    _, _, winner = won[0]
    checked = verify(live_site, sale, "--head", head, "--token", mint_token(winner))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{UNITS} entries verified" in checked.stdout and "1 own entries in the log" in checked.stdout
    mine = httpx.get(
        f"{live_site.url}/api/sales/{sale.pk}/audit/mine", headers={"Authorization": f"Bearer {mint_token(winner)}"}
    ).json()
    assert mine["pseudonym"] == audit_log.pseudonym(sale.pk, winner) and len(mine["entries"]) == 1


def _tampered(sale, change):
    published = PublishedAudit.objects.get(sale=sale)
    rows = published.log
    change(rows)
    PublishedAudit.objects.filter(pk=published.pk).update(log=rows)


@pytest.mark.parametrize(
    "change",
    [
        lambda rows: rows[3].update(buyer=rows[4]["buyer"]),  # a unit given to another buyer
        lambda rows: rows.pop(5),  # an entry dropped
        lambda rows: rows.insert(2, rows.pop(7)),  # a late buyer moved forward
        lambda rows: rows.pop(),  # the last entry dropped
    ],
    ids=["altered", "dropped", "reordered", "truncated"],
)
def test_altering_dropping_or_reordering_a_published_entry_fails_the_verifier(live_site, change):
    sale = SaleFactory(total_stock=10)
    asyncio.run(stampede(live_site, sale, create_buyers(10)))
    out = io.StringIO()
    call_command("publish_audit", "--sale", str(sale.pk), stdout=out)
    head = out.getvalue().split()[-1]
    assert verify(live_site, sale, "--head", head).returncode == 0

    _tampered(sale, change)
    checked = verify(live_site, sale, "--head", head)
    assert checked.returncode == 1, checked.stdout
    assert "DOES NOT VERIFY" in checked.stderr


def test_a_gated_sales_log_has_each_pass_before_its_buyers_unit(live_site):
    sale = SaleFactory(total_stock=2, requires_pass=True, challenge_difficulty=4)
    buyer = BuyerFactory()
    (code, issued), _ = get_pass(live_site, sale, buyer)
    assert code == 201
    assert post(live_site, f"/api/sales/{sale.pk}/buy", buyer, **{"Purchase-Pass": issued["pass"]})[0] == 201
    rows = httpx.get(f"{live_site.url}/api/sales/{sale.pk}/audit").json()["entries"]
    me = audit_log.pseudonym(sale.pk, buyer.pk)
    assert [(row["seq"], row["kind"], row["buyer"]) for row in rows] == [(1, "pass", me), (2, "reserved", me)]
    assert verify(live_site, sale).returncode == 0
