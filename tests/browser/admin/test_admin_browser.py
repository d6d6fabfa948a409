"""The embedded admin in Debian's Chromium: the real app served over HTTP next to the emulator.

The admin opens through the development frame (app/web/dev_admin.py) with id_tokens minted by
the emulator, as the demo does; Shopify's CDN is unreachable here, so its two scripts are
answered with empty bodies (App Bridge's behaviour is Shopify's, not ours).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.db import Database, utcnow
from app.loyalty.rewards import seed_default_rewards
from app.models import LedgerEntry, Member, Reward, Shop
from devstore import ShopifyEmulator
from tests.e2e.conftest import RunningApp, serve_app  # noqa: F401 - fixture
from tests.extensions.widget.tools import (
    REPO_ROOT,
    debian_chromium,
)
from tests.integration.admin.conftest import install_shop
from tests.integration.admin.dashboard_seed import seed_busy_shop
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]

SHOP = "loop-demo.myshopify.com"
OUTPUT = REPO_ROOT / "test-output"
LCP_BUDGET_MS, CLS_BUDGET = 1000.0, 0.05
CUSTOMER = 7101

# Largest contentful paint and layout shifts as the page reports them (shifts right after
# input do not count toward CLS, as in Web Vitals).
MEASURE = """
window.__lcp = 0; window.__cls = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__lcp = entry.startTime;
}).observe({type: 'largest-contentful-paint', buffered: true});
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless (never a Playwright-downloaded browser)."""
    with debian_chromium() as browser:
        yield browser


@pytest.fixture
def browse(chromium: Any) -> Iterator[Callable[..., Any]]:
    """New pages in fresh contexts, with Shopify's CDN stubbed; all closed after the test."""
    contexts: list[Any] = []

    def new_page(width: int = 1440, height: int = 900) -> Any:
        """A page in its own context."""
        context = chromium.new_context(viewport={"width": width, "height": height})
        context.route("https://cdn.shopify.com/**", lambda route: route.fulfill(
            status=200, content_type="text/javascript", body=""))
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(MEASURE)
        return page

    yield new_page
    for context in contexts:
        context.close()


def _paid_order(emulator: ShopifyEmulator, order_id: int, price: str) -> dict[str, Any]:
    """orders/paid for one 'price' item, paid now, by the test customer."""
    now = utcnow().isoformat() + "Z"
    return emulator.sample_payload(
        "orders/paid", shop=SHOP, order_id=order_id, customer_id=CUSTOMER,
        email="ada@example.com", first_name="Ada", updated_at=now, created_at=now, test=False,
        line_items=[{"id": order_id * 10, "title": "Tea", "price": price, "quantity": 1,
                     "product_id": 1}])


def _earned(db: Database) -> list[tuple[int, int]]:
    """(order id, points) of every earn entry, in order."""
    with db.sessions() as session:
        return [(order_id, points) for order_id, points in session.execute(
            select(LedgerEntry.order_id, LedgerEntry.points)
            .where(LedgerEntry.kind == "earn_order").order_by(LedgerEntry.id))]


def test_the_merchant_raises_the_earn_rate_and_the_next_order_earns_at_it(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        browse: Callable[..., Any]) -> None:
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse()
    # First open: the embedded home exchanges the emulator's id_token for an offline token,
    # then opens the admin on its onboarding checklist.
    page.goto(f"{running.url}/dev/admin?path=/")
    page.frame_locator("iframe").get_by_text("steps done").wait_for()
    running.launch_program(SHOP)
    emulator.send_webhook(SHOP, "orders/paid", _paid_order(emulator, 3001, "40.00"))
    running.work()

    page.goto(f"{running.url}/dev/admin?path=/admin/settings&user_id=55")
    frame = page.frame_locator("iframe")
    save_bar = frame.get_by_role("region", name="Unsaved changes")
    rate = frame.get_by_role("spinbutton", name=re.compile(r"^Points per 1 [A-Z]{3} spent$"))
    assert rate.input_value() == "5"
    assert not save_bar.is_visible()
    rate.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("10")
    # The change raises App Bridge's save bar, the page's one Save.
    save_bar.wait_for()
    assert frame.get_by_role("button", name="Save").count() == 1
    save_bar.get_by_role("button", name="Save").click()
    frame.get_by_role("status").get_by_text("Saved as version 1").wait_for()
    save_bar.wait_for(state="hidden")
    # The header names the version now in force without a reload.
    assert frame.locator("[data-settings-version]").inner_text().startswith("Version 1.")

    emulator.send_webhook(SHOP, "orders/paid", _paid_order(emulator, 3002, "40.00"))
    running.work()
    with running.db.sessions() as session:
        member = session.execute(select(Member).where(Member.customer_id == CUSTOMER)
                                 ).scalar_one()
    # 40.00 of goods: 200 points at the old rate, 400 at the new one; nothing recalculated.
    assert _earned(running.db) == [(3001, 200), (3002, 400)]
    assert member.points_pending == 600

    page.goto(f"{running.url}/dev/admin?path=/admin/settings/history")
    history = page.frame_locator("iframe").get_by_role("table")
    assert "Points per unit spent: 5 → 10" in history.inner_text()
    assert "Staff 1" in history.inner_text() and "staff:55" not in history.inner_text()


def test_the_merchant_launches_the_program_and_only_orders_paid_from_then_on_earn(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        browse: Callable[..., Any]) -> None:
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse()
    page.goto(f"{running.url}/dev/admin?path=/&user_id=77")
    frame = page.frame_locator("iframe")
    state = frame.locator("[data-program-state]")
    state.wait_for()
    assert state.get_attribute("data-program-state") == "draft"
    assert "orders earn no points" in state.inner_text()
    emulator.send_webhook(SHOP, "orders/paid", _paid_order(emulator, 3101, "40.00"))
    running.work()

    # The launch states the default holdout; the merchant types 0 (no holdout) with the
    # keyboard, so this test's order earns whatever its customer's random draw.
    launch_step = frame.locator('li[data-step="launched"]')
    assert "A small holdout is on by default: from the launch, 10% of the customers" in (
        launch_step.inner_text())
    share = frame.get_by_role("spinbutton", name="Customers held out to measure the program (%)")
    assert share.input_value() == "10"
    share.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0")
    page.keyboard.press("Tab")
    launch = frame.get_by_role("button", name="Launch program")
    launch.focus()
    page.keyboard.press("Enter")
    frame.locator('[data-program-state="live"]').wait_for()
    assert frame.get_by_role("button", name="Launch program").count() == 0
    launched_step = frame.locator('li[data-step="launched"]')
    assert "Live since" in launched_step.inner_text()
    assert "by staff:77" in launched_step.inner_text()
    assert launched_step.locator('[data-holdout="running"]').count() == 0
    with running.db.sessions() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        assert (shop.holdout_share, shop.holdout_key) == (0, None)

    emulator.send_webhook(SHOP, "orders/paid", _paid_order(emulator, 3102, "40.00"))
    running.work()
    # The order paid in draft earned nothing; the one after the launch earns 40.00 × 5.
    assert _earned(running.db) == [(3102, 200)]


def test_the_merchant_launches_with_the_default_holdout_and_sees_it_running(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        browse: Callable[..., Any]) -> None:
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse()
    page.goto(f"{running.url}/dev/admin?path=/")
    frame = page.frame_locator("iframe")
    frame.locator('[data-program-state="draft"]').wait_for()
    share = frame.get_by_role("spinbutton", name="Customers held out to measure the program (%)")
    assert share.input_value() == "10"
    # The draft checklist with its launch form: axe finds nothing serious.
    app_frame = page.frame(name="app-iframe")
    assert app_frame is not None
    assert serious_violations(app_frame) == []
    # Keyboard only: Tab from the share field to the button, Enter.
    share.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    frame.locator('[data-program-state="live"]').wait_for()
    assert frame.locator('[data-figure="holdout-share"]').inner_text() == "10%"
    with running.db.sessions() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        assert (shop.holdout_share, shop.holdout_key is not None) == (10, True)
        assert shop.holdout_started_at == shop.launched_at
    # Program effect shows it running, with its one button to end it.
    page.goto(f"{running.url}/dev/admin?path=/admin/effect")
    frame = page.frame_locator("iframe")
    frame.locator('[data-holdout="running"]').wait_for()
    assert frame.locator('[data-figure="holdout-share"]').inner_text() == "10%"
    assert frame.get_by_role("button", name="End the holdout").count() == 1


def test_field_errors_show_next_to_the_field_and_links_keep_the_session(
        db: Database, emulator: ShopifyEmulator, live_server: Callable[[Any], str],
        browse: Callable[..., Any]) -> None:
    url = _seeded_app(db, emulator, live_server)
    page = browse()
    page.goto(f"{url}/dev/admin?path=/admin/settings/tiers")
    frame = page.frame_locator("iframe")
    frame.get_by_role("button", name="Add tier").click()
    row = frame.locator("[data-item]").last
    # The new row's first field has the focus: type into it, Tab to the next.
    page.keyboard.type("Platinum")
    page.keyboard.press("Tab")
    page.keyboard.type("2000")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("50")
    frame.get_by_role("region", name="Unsaved changes").get_by_role("button", name="Save").click()
    multiplier = row.locator('s-number-field[data-field="multiplier"]')
    row.get_by_text("must be between 0.1 and 10").wait_for()
    assert multiplier.get_attribute("error") == "must be between 0.1 and 10"
    assert row.get_by_role("spinbutton", name="Points multiplier").get_attribute(
        "aria-invalid") == "true"
    # The save bar stays while the change is not saved.
    assert frame.get_by_role("region", name="Unsaved changes").is_visible()

    # A link inside the app loads the next page with a fresh id_token (no bounce, no 401).
    page.goto(f"{url}/dev/admin?path=/admin/customers")
    frame = page.frame_locator("iframe")
    frame.get_by_role("searchbox", name="Search customers").click()
    page.keyboard.type("shopper1")
    frame.get_by_role("button", name="Search").click()
    frame.locator("s-table a").first.click()
    adjust = frame.locator('form[aria-label="Adjust points"]')
    adjust.get_by_role("spinbutton", name="Points").click()
    page.keyboard.type("25")
    adjust.get_by_role("button", name="Record adjustment").click()
    reason = adjust.locator('s-text-field[name="reason"]')
    adjust.get_by_text("a reason is required").wait_for()
    assert reason.get_attribute("error").startswith("a reason is required")
    adjust.get_by_role("textbox", name="Reason").click()
    page.keyboard.type("Sorry for the wait")
    adjust.get_by_role("button", name="Record adjustment").click()
    frame.get_by_text("Sorry for the wait").wait_for()


def test_discard_puts_the_form_back_and_a_reward_saves_through_the_save_bar(
        db: Database, emulator: ShopifyEmulator, live_server: Callable[[Any], str],
        browse: Callable[..., Any]) -> None:
    url = _seeded_app(db, emulator, live_server)
    page = browse()
    page.goto(f"{url}/dev/admin?path=/admin/settings/bonuses")
    frame = page.frame_locator("iframe")
    save_bar = frame.get_by_role("region", name="Unsaved changes")
    signup = frame.get_by_role("spinbutton", name="Creating an account")
    before = signup.input_value()
    signup.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("999")
    save_bar.wait_for()
    # Typing the value back is no change: the bar goes away again.
    page.keyboard.press("Control+A")
    page.keyboard.type(before)
    save_bar.wait_for(state="hidden")
    page.keyboard.press("Control+A")
    page.keyboard.type("999")
    save_bar.get_by_role("button", name="Discard").click()
    save_bar.wait_for(state="hidden")
    assert signup.input_value() == before

    # A checkbox is a change too, and Discard ticks it again.
    page.goto(f"{url}/dev/admin?path=/admin/settings")
    frame = page.frame_locator("iframe")
    save_bar = frame.get_by_role("region", name="Unsaved changes")
    shipping = frame.get_by_role("checkbox", name="Exclude shipping")
    assert shipping.is_checked()
    shipping.focus()
    page.keyboard.press("Space")
    save_bar.wait_for()
    assert not shipping.is_checked()
    save_bar.get_by_role("button", name="Discard").click()
    save_bar.wait_for(state="hidden")
    assert shipping.is_checked()

    # The rewards catalog has no Save per reward: an edited reward saves through the bar.
    page.goto(f"{url}/dev/admin?path=/admin/settings/rewards")
    frame = page.frame_locator("iframe")
    first = frame.locator("form[data-item]").first
    assert first.get_by_role("button", name="Save").count() == 0
    cost = first.get_by_role("spinbutton", name="Points")
    cost.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("777")
    save_bar = frame.get_by_role("region", name="Unsaved changes")
    save_bar.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    save_bar.wait_for(state="hidden")
    reward_id = int(first.get_attribute("data-id"))
    with db.sessions() as session:
        assert session.get(Reward, reward_id).cost == 777
    page.reload()
    assert page.frame_locator("iframe").locator(f'form[data-id="{reward_id}"]').get_by_role(
        "spinbutton", name="Points").input_value() == "777"


def _seeded_app(db: Database, emulator: ShopifyEmulator,
                live_server: Callable[[Any], str]) -> str:
    """The app with a busy month of activity for SHOP, served; its URL."""
    from app import create_app
    from tests.conftest import app_config

    app = create_app(app_config(db))
    app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    shop_id = install_shop(db, SHOP)
    with db.transaction() as session:
        shop = session.get(Shop, shop_id)
        seed_busy_shop(session, shop, utcnow() - timedelta(hours=1))
        seed_default_rewards(session, shop, utcnow())
    return live_server(app)


def _member_id(db: Database) -> int:
    """The member with the most points (a full ledger to show)."""
    with db.sessions() as session:
        return session.execute(select(Member.id).order_by(Member.points_lifetime.desc())
                               .limit(1)).scalar_one()


def test_every_admin_page_paints_within_budget_without_shifting(
        db: Database, emulator: ShopifyEmulator, live_server: Callable[[Any], str],
        browse: Callable[..., Any]) -> None:
    url = _seeded_app(db, emulator, live_server)
    paths = ["/admin/onboarding", "/admin/dashboard", "/admin/engagement", "/admin/customers",
             f"/admin/customers/{_member_id(db)}", "/admin/settings", "/admin/settings/tiers",
             "/admin/settings/rewards", "/admin/settings/referrals",
             "/admin/settings/bonuses", "/admin/settings/engagement", "/admin/settings/widget",
             "/admin/settings/history"]
    results = {}
    for path in paths:
        page = browse(1280, 800)
        token = emulator.mint_admin_session_token(SHOP, user_id=1)
        page.goto(f"{url}{path}?embedded=1&shop={SHOP}&dev_frame=1&id_token={token}",
                  wait_until="load")
        page.wait_for_timeout(250)
        lcp, cls = page.evaluate("[window.__lcp, window.__cls]")
        results[path] = {"lcp_ms": round(lcp, 1), "cls": round(cls, 4)}
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "admin-page-speed.json").write_text(json.dumps(results, indent=2) + "\n")
    slow = {p: r for p, r in results.items()
            if not 0 < r["lcp_ms"] < LCP_BUDGET_MS or r["cls"] >= CLS_BUDGET}
    assert slow == {}


def test_screenshots_of_the_dashboard_and_settings(
        db: Database, emulator: ShopifyEmulator, live_server: Callable[[Any], str],
        browse: Callable[..., Any]) -> None:
    url = _seeded_app(db, emulator, live_server)
    OUTPUT.mkdir(exist_ok=True)
    for path, name, height in (("/admin/dashboard", "admin-dashboard.png", 1500),
                               ("/admin/settings", "admin-settings.png", 1000)):
        page = browse(1440, height)
        page.goto(f"{url}/dev/admin?path={path}")
        frame = page.frame_locator("iframe")
        frame.locator("s-page").wait_for()
        if path == "/admin/settings":
            # An edit in progress: the save bar is the settings page's Save.
            frame.get_by_role("spinbutton", name="Pending period (days)").click()
            page.keyboard.press("Control+A")
            page.keyboard.type("14")
            frame.get_by_role("region", name="Unsaved changes").wait_for()
        page.screenshot(path=str(OUTPUT / name))
        assert (OUTPUT / name).stat().st_size > 10_000


def test_a_custom_period_submits_the_polaris_date_fields_of_its_form(
        db: Database, emulator: ShopifyEmulator, live_server: Callable[[Any], str],
        browse: Callable[..., Any]) -> None:
    url = _seeded_app(db, emulator, live_server)
    page = browse()
    page.goto(f"{url}/dev/admin?path=/admin/dashboard")
    frame = page.frame_locator("iframe")
    # Tab into the field (its month first): Chromium's en-US date control takes month, day
    # and year in that order.
    frame.get_by_role("link", name="Last 12 months").focus()
    page.keyboard.press("Tab")
    start = (utcnow() - timedelta(days=40)).date()
    page.keyboard.type(start.strftime("%m%d%Y"))
    frame.get_by_role("button", name="Apply").click()
    frame.get_by_text(f"{start.strftime('%b')} {start.day}, {start.year} –").wait_for()
    app_frame = page.frame(name="app-iframe")
    assert app_frame is not None and f"from={start.isoformat()}" in app_frame.url
    assert frame.get_by_label("From", exact=True).input_value() == start.isoformat()
