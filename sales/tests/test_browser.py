"""Two buyers in a real headless Chromium (Debian's), on the real stack.

Screenshots go to ``artifacts/browser/``.
"""

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, ManageProcess, OrderConsumerProcess
from orders.tests.groups import fresh_group
from sales.buyers import create_buyers, mint_token
from sales.tests.factories import SaleFactory

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "browser"
TIMEOUT_MS = 15_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/test installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def workers(live_site):
    """The stock ticker and the order consumer, as ``scripts/run`` starts them."""
    ticker = ManageProcess("publish_stock")
    group, _ = fresh_group()
    consumer = OrderConsumerProcess("--group", group)
    yield
    try:
        codes = [process.stop() for process in (ticker, consumer)]
    finally:
        for process in (ticker, consumer):
            process.kill()  # none outlives the test, whatever failed
    assert codes == [0, 0], ticker.output() + consumer.output()


@pytest.fixture
def sale_and_token(live_site):
    """Made before the browser starts: Playwright's sync API runs an event loop
    on this thread, where Django refuses ORM calls."""
    sale = SaleFactory(total_stock=2, limit_per_buyer=1, title="Browser test sneakers")
    [carol] = create_buyers(1)
    return sale, mint_token(carol)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_as_guest(browser, url):
    page = browser.new_context().new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.click("#guest")
    page.wait_for_selector("#buy")
    page.wait_for_function("document.getElementById('sale').dataset.live === 'yes'")
    return page


def test_two_buyers_see_live_stock_confirmation_and_sell_out(live_site, workers, sale_and_token, browser):
    from playwright.sync_api import expect

    sale, carol_token = sale_and_token
    url = f"{live_site.url}/sales/{sale.pk}/"
    alice = open_as_guest(browser, url)
    bob = open_as_guest(browser, url)
    expect(alice.locator("#remaining")).to_have_text("2")
    expect(bob.locator("#buy")).to_be_enabled()
    shot(bob, "1-before")

    alice.click("#buy")
    expect(alice.locator("#outcome")).to_have_attribute("data-status", "reserved")
    expect(bob.locator("#remaining")).to_have_text("1")  # pushed, no reload
    expect(alice.locator("#order")).to_have_attribute("data-status", "awaiting_payment")
    shot(alice, "2-alice-confirmed")
    shot(bob, "2-bob-sees-one-left")

    last = httpx.post(f"{live_site.url}/api/sales/{sale.pk}/buy", headers={"Authorization": f"Bearer {carol_token}"})
    assert last.status_code == 201, last.text

    for page in (alice, bob):
        expect(page.locator("#remaining")).to_have_text("0")
        expect(page.locator("#state")).to_have_text("sold_out")
        expect(page.locator("#buy")).to_be_disabled()
    shot(alice, "3-alice-sold-out")
    shot(bob, "3-bob-sold-out")


@pytest.fixture
def short_window_sale(live_site):
    """A sale whose orders must be paid within 4 s, and the expiry worker as scripts/run starts it."""
    sale = SaleFactory(total_stock=2, limit_per_buyer=1, title="Browser test pay or lose it", payment_window=4)
    [carol] = create_buyers(1)
    expirer = ManageProcess("expire_orders", EXPIRE_INTERVAL="0.2")
    yield sale, mint_token(carol)
    expirer.stop()


def test_a_buyer_pays_from_my_orders_and_an_expired_unit_comes_back_live(
    live_site, workers, short_window_sale, browser
):
    from playwright.sync_api import expect

    sale, carol_token = short_window_sale
    url = f"{live_site.url}/sales/{sale.pk}/"
    alice = open_as_guest(browser, url)
    bob = open_as_guest(browser, url)

    alice.click("#buy")
    expect(alice.locator("#order")).to_have_attribute("data-status", "awaiting_payment")
    expect(alice.locator("#pay")).to_be_visible()  # the buy page offers Pay once the order is written
    alice.click("#my-orders")
    row = alice.locator("tr[data-order]")
    expect(row).to_have_attribute("data-status", "awaiting_payment")
    expect(row.locator(".countdown")).to_have_text(re.compile(r"^0:0[0-4]$"))
    shot(alice, "4-alice-my-orders")
    row.locator(".pay").click()
    expect(alice.locator("#outcome")).to_have_attribute("data-status", "paid")
    expect(row).to_have_attribute("data-status", "paid")
    expect(row.locator(".pay")).to_be_hidden()
    shot(alice, "5-alice-paid")

    last = httpx.post(f"{live_site.url}/api/sales/{sale.pk}/buy", headers={"Authorization": f"Bearer {carol_token}"})
    assert last.status_code == 201, last.text
    expect(bob.locator("#state")).to_have_text("sold_out")
    expect(bob.locator("#buy")).to_be_disabled()
    shot(bob, "6-bob-sold-out")

    # carol does not pay: at pay_by her order expires, its unit goes back, and bob sees it, pushed
    expect(bob.locator("#remaining")).to_have_text("1", timeout=TIMEOUT_MS)
    expect(bob.locator("#state")).to_have_text("open")
    expect(bob.locator("#buy")).to_be_enabled()
    shot(bob, "7-bob-sees-the-unit-back")
    bob.click("#buy")
    expect(bob.locator("#outcome")).to_have_attribute("data-status", "reserved")


@pytest.fixture
def gated_sale(live_site):
    return SaleFactory(
        total_stock=1, limit_per_buyer=1, title="Browser test gated drop", requires_pass=True, challenge_difficulty=16
    )


def test_a_buyer_buys_a_gated_sale_through_the_pages_challenge(live_site, workers, gated_sale, browser):
    """The page solves the proof-of-work challenge (16 bits), earns a pass and buys with it;
    a buy without a pass is refused beside it."""
    from playwright.sync_api import expect

    page = open_as_guest(browser, f"{live_site.url}/sales/{gated_sale.pk}/")
    token = page.locator("#sale").get_attribute("data-token")
    bare = httpx.post(f"{live_site.url}/api/sales/{gated_sale.pk}/buy", headers={"Authorization": f"Bearer {token}"})
    assert (bare.status_code, bare.json()["status"]) == (403, "pass_required")

    page.click("#buy")
    expect(page.locator("#outcome")).to_have_attribute("data-status", "reserved")
    expect(page.locator("#order")).to_have_attribute("data-status", "awaiting_payment")
    expect(page.locator("#remaining")).to_have_text("0")
    print(f"\nthe page solved 16 bits in {page.locator('#sale').get_attribute('data-solve-ms')} ms")
    shot(page, "4-gated-reserved")

    # the audit page recomputes the chain in the browser and finds the buyer's pass and unit in it
    page.goto(f"{live_site.url}/sales/{gated_sale.pk}/audit/")
    expect(page.locator("#verdict")).to_have_attribute("data-status", "verified")
    expect(page.locator("#mine")).to_have_attribute("data-status", "found")
    expect(page.locator("#mine")).to_contain_text("your 2 entries are in the log, at seq 1, 2")
    page.fill("#head", "0" * 64)
    page.click("#verify")
    expect(page.locator("#verdict")).to_have_attribute("data-status", "broken")
    shot(page, "5-audit-page")
