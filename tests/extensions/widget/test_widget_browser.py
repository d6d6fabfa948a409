"""The storefront widget in a real browser against the real app: Debian's Chromium, Playwright.

Each test runs the demo (`make demo`) on a fresh SQLite file: the app, the local Shopify
emulator with the demo shop and its members, and the storefront preview on the app's address.
Pages are rendered from the extension's Liquid with the customer's metafields as the app last
synced them to the emulator; `/apps/loyalty/*` goes through the emulator's signing app proxy to
the app, so every answer, code and discount below is the real backend's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from app.models import LedgerEntry, Member, Order, Redemption, Review, Reward
from devstore.demo import CUSTOMERS, DEMO_SHOP, Demo, seed_demo_shop, start_demo
from devstore.storefront import PAGE_PATH
from tests.e2e.conftest import eventually
from tests.extensions.widget.tools import (
    REPO_ROOT,
    debian_chromium,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "test-output"
PROXY_PREFIX = "/apps/loyalty/"
ADA = CUSTOMERS[0]
ADA_GID = f"gid://shopify/Customer/{ADA['id']}"
MEMBER_PAGE = f"{PAGE_PATH}?customer_id={ADA['id']}"
GUEST_PAGE = PAGE_PATH
LOYALTY_PAGE = f"{PAGE_PATH}/loyalty"
# The rate limit on a shopper's writes (app/web/proxy.py WRITES_PER_MINUTE).
WRITES_PER_MINUTE = 10

# Counts layout shifts the way CLS does (shifts right after user input are excluded).
MEASURE_LAYOUT_SHIFT = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({type: 'layout-shift', buffered: true});
"""


def ada(demo: Demo) -> Member:
    """Ada's member row as the app holds it now."""
    return member_of(demo, ADA["id"])


def member_of(demo: Demo, customer_id: int) -> Member | None:
    """A customer's member row as the app holds it now, if they are one."""
    with demo.app.extensions["runtime"].db.sessions() as s:
        return s.execute(select(Member).where(
            Member.customer_id == customer_id)).scalar_one_or_none()


def ledger_day(demo: Demo, kind: str) -> date:
    """The day the app recorded Ada's latest entry of this kind."""
    with demo.app.extensions["runtime"].db.sessions() as s:
        return s.execute(select(LedgerEntry.created_at).join(Member).where(
            Member.customer_id == ADA["id"], LedgerEntry.kind == kind).order_by(
            LedgerEntry.id.desc())).scalars().first().date()


def placed_day(demo: Demo, order_id: int) -> date:
    """The day the shopper placed the order (its payload's created_at)."""
    with demo.app.extensions["runtime"].db.sessions() as s:
        return s.execute(select(Order.placed_at).where(
            Order.shopify_order_id == order_id)).scalar_one().date()


def redemptions(demo: Demo) -> list[Redemption]:
    """Every redemption the app recorded, oldest first."""
    with demo.app.extensions["runtime"].db.sessions() as s:
        return list(s.execute(select(Redemption).order_by(Redemption.id)).scalars())


def adas_codes(demo: Demo) -> list[str]:
    """Codes of the discounts Shopify holds for Ada alone (her rewards, not referral codes)."""
    with demo.emulator.lock:
        return [d.code for d in demo.emulator.shop(DEMO_SHOP).discounts.values()
                if d.customer_ids == [ADA_GID]]


def synced(demo: Demo, key: str) -> str | None:
    """The value of one of Ada's `$app` metafields in the emulated Shopify."""
    with demo.emulator.lock:
        fields = demo.emulator.shop(DEMO_SHOP).metafields
        return next((mf.value for (owner, _, k), mf in fields.items()
                     if owner == ADA_GID and k == key), None)


def approve_review(demo: Demo, *, product: str, rating: int, body: str) -> None:
    """A review of Ada's the merchant approved, as the admin's moderation leaves it."""
    member = ada(demo)
    with demo.app.extensions["runtime"].db.transaction() as s:
        s.add(Review(shop_id=member.shop_id, member_id=member.id, product_id=len(body),
                     product_title=product, rating=rating, body=body, status="approved",
                     approved_at=datetime.now(UTC).replace(tzinfo=None)))


def shown_date(day: date) -> str:
    """A date as the widget formats it for `en` (Intl.DateTimeFormat: month/day/year)."""
    return f"{day.month}/{day.day}/{day.year}"


@pytest.fixture
def demo(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    """The demo on a fresh SQLite file, seeded, with Ada's metafields synced to Shopify."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    running = start_demo(database_url=f"sqlite:///{tmp_path / 'demo.db'}", port=0)
    try:
        seed_demo_shop(running)
        # Metafield syncs run just after the webhook responses: the storefront renders them.
        # Every field the first paint reads must be current, not only the balance: a stale
        # `pending` hides the pending line until live data shows it, a real layout shift.
        assert eventually(lambda: synced(running, "points") == str(
            ada(running).points_available) == "2050")
        assert eventually(lambda: (synced(running, "pending"), synced(running, "tier")) == (
            str(ada(running).points_pending), ada(running).tier) == ("281", "Silver"))
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (never a Playwright-downloaded browser)."""
    with debian_chromium() as chromium:
        yield chromium


class Visit:
    """One page in a fresh browser context (its own cookies), every request it made recorded."""

    def __init__(self, browser: Any, base_url: str, path: str,
                 viewport: tuple[int, int] = (1280, 800)):
        """Open `path` in a new context and wait until the network is idle."""
        self.context = browser.new_context(
            base_url=base_url, viewport={"width": viewport[0], "height": viewport[1]},
            permissions=["clipboard-read", "clipboard-write"])
        self.page = self.context.new_page()
        self.requests: list[str] = []
        # Where the storefront's app proxy is (the merchant may move it).
        self.proxy_prefix = PROXY_PREFIX
        self.page.on("request", lambda r: self.requests.append(
            f"{r.method} {r.url.removeprefix(base_url)}"))
        self.page.add_init_script(MEASURE_LAYOUT_SHIFT)
        self.page.goto(path, wait_until="networkidle")

    def proxy_requests(self) -> list[str]:
        """The app-proxy calls so far, e.g. `GET /apps/loyalty/member`."""
        return [r for r in self.requests if self.proxy_prefix in r]

    def layout_shift(self) -> float:
        """Cumulative layout shift so far, ignoring shifts caused by input."""
        return self.page.evaluate("window.__cls")

    def text(self, selector: str) -> str:
        """Visible text of the first match, whitespace collapsed."""
        return " ".join(self.page.locator(selector).first.inner_text().split())

    def open_launcher(self) -> None:
        """Click the launcher and wait until the live data is in the panel."""
        with self.page.expect_response(lambda r: self.proxy_prefix in r.url):
            self.page.click("[data-ll-toggle]")
        self.wait_until_rendered()

    def wait_until_rendered(self) -> None:
        """Wait until the widget has put live data in and cleared its loading message."""
        self.page.wait_for_selector("[data-ll-item]", state="attached")
        self.page.wait_for_function("!document.querySelector('[data-ll-status]').textContent")

    def redeem(self, title: str) -> None:
        """Click a reward's Redeem button and wait for the app's answer."""
        with self.page.expect_response(lambda r: r.url.endswith(f"{self.proxy_prefix}redeem")):
            self.page.click(f"[data-ll-redeem][aria-label='Redeem {title}']")

    def status(self) -> str:
        """The message the widget announced, once there is one."""
        self.page.wait_for_function("document.querySelector('[data-ll-status]').textContent")
        return self.text("[data-ll-status]")

    def close(self) -> None:
        """Close the context (and its page)."""
        self.context.close()


@pytest.fixture
def visit(browser: Any, demo: Demo) -> Iterator[Callable[..., Visit]]:
    """Open storefront pages of the demo; every context is closed after the test."""
    visits: list[Visit] = []

    def open_page(path: str, **kwargs: Any) -> Visit:
        """Visit a storefront path of the demo."""
        visits.append(Visit(browser, demo.app_url, path, **kwargs))
        return visits[-1]

    yield open_page
    for v in visits:
        v.close()


def test_a_member_page_view_requests_no_script_and_no_proxy_call_until_the_launcher_opens(visit):
    v = visit(MEMBER_PAGE)

    assert v.requests == [f"GET {MEMBER_PAGE}", f"GET {PAGE_PATH}/assets/loyalty-widget.css"]
    # Rendered on the server from the points metafield the app synced: no flash of nothing.
    assert v.text("[data-ll-toggle]") == "Rewards 2050 pts"
    assert v.page.get_attribute("[data-ll-toggle]", "aria-expanded") == "false"
    assert v.layout_shift() == 0


def test_opening_the_launcher_shows_the_members_real_balance_tier_progress_and_next_reward(
        visit, demo):
    member = ada(demo)
    v = visit(MEMBER_PAGE)

    v.open_launcher()

    assert v.proxy_requests() == ["GET /apps/loyalty/member"]
    assert v.requests.count(f"GET {PAGE_PATH}/assets/loyalty-widget.js") == 1
    assert v.page.get_attribute("[data-ll-toggle]", "aria-expanded") == "true"
    assert v.text("[data-ll-toggle]") == "Rewards 2050 pts"
    assert v.page.evaluate("document.activeElement.textContent") == "Rewards"
    assert v.text(".ll-balance") == "2,050 points available"
    assert v.text(".ll-member .ll-muted") == (
        f"281 points pending (available from {shown_date(member.next_unlock_at.date())})")
    assert v.text(".ll-tier") == "Tier: Silver"
    # 405.00 spent in twelve months: (405 - 300) / (800 - 300) of the way from Silver to Gold.
    assert v.page.eval_on_selector("progress.ll-bar", "p => p.value") == 21
    assert v.text("[data-ll-if='tier.next'] p") == "Spend $395.00 more to reach Gold."
    assert v.text(".ll-next") == "450 points to $25 off"
    assert v.page.locator("[data-ll-each='affordable'] [data-ll-item]").all_inner_texts() == [
        "Free shipping 400 points\nRedeem", "$5 off 500 points\nRedeem",
        "$10 off 1,000 points\nRedeem"]
    assert v.page.get_attribute("[data-ll-redeem]", "aria-label") == "Redeem Free shipping"
    # Newest first by the date the shopper knows: the order of three days ago by its own date.
    activity = [" ".join(t.split()) for t in v.page.locator(
        "[data-ll-each='activity'] [data-ll-item]").all_inner_texts()]
    assert activity[:2] == [
        f"Welcome to the program {shown_date(ledger_day(demo, 'bonus_signup'))} +250",
        f"Order #51002 {shown_date(placed_day(demo, 50002))} pending +281"]
    assert v.page.input_value("[data-ll-value='{referral.url}']") == (
        f"https://{DEMO_SHOP}/?ref={member.referral_code}")
    assert v.layout_shift() == 0


def test_the_panel_fits_a_phone_screen(visit):
    v = visit(MEMBER_PAGE, viewport=(375, 667))

    v.open_launcher()

    panel = v.page.locator("[data-ll-panel]").bounding_box()
    launcher = v.page.locator("[data-ll-toggle]").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 375
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= launcher["y"]
    assert launcher["x"] + launcher["width"] <= 375 and launcher["y"] + launcher["height"] <= 667


def test_redeeming_a_reward_shows_the_code_shopify_now_holds_for_that_customer(visit, demo):
    v = visit(MEMBER_PAGE)
    v.open_launcher()

    v.redeem("$5 off")
    v.page.wait_for_selector(".ll-code", state="visible")

    [redemption] = redemptions(demo)
    code = redemption.code
    assert v.proxy_requests() == ["GET /apps/loyalty/member", "POST /apps/loyalty/redeem"]
    assert v.text(".ll-code [data-ll-code]") == code
    assert v.page.get_attribute(".ll-code a", "href") == f"/discount/{code}"
    assert v.page.evaluate("document.activeElement.textContent") == code
    assert v.text("[data-ll-status]") == "Your discount code is ready."
    assert v.text(".ll-balance") == "1,550 points available"
    assert v.text(".ll-next") == "950 points to $25 off"
    assert v.text("[data-ll-toggle]") == "Rewards 1550 pts"
    discount = demo.emulator.shop(DEMO_SHOP).discount(code)
    assert (discount.customer_ids, discount.usage_limit, discount.applies_once_per_customer,
            discount.value) == ([ADA_GID], 1, True, {"amount": "5.00",
                                                      "appliesOnEachItem": False})
    assert (redemption.status, redemption.shopify_discount_id) == ("issued", discount.gid)
    assert adas_codes(demo) == [code]
    assert ada(demo).points_available == 1550
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / "widget.png"))


def test_the_next_page_renders_the_balance_the_app_synced_to_shopify_after_a_redeem(visit, demo):
    v = visit(MEMBER_PAGE)
    v.open_launcher()
    v.redeem("$10 off")

    assert eventually(lambda: synced(demo, "points") == "1050")
    again = visit(MEMBER_PAGE)

    assert again.text("[data-ll-toggle]") == "Rewards 1050 pts"
    assert again.text(".ll-balance") == "1050 points available"
    assert again.proxy_requests() == []


def test_a_shopper_whose_session_ended_is_asked_to_sign_in(visit):
    v = visit(MEMBER_PAGE)
    v.context.clear_cookies()

    with v.page.expect_response(lambda r: PROXY_PREFIX in r.url) as answer:
        v.page.click("[data-ll-toggle]")

    assert answer.value.status == 401
    assert v.status() == "Please sign in to use your rewards."
    assert v.text(".ll-balance") == "2050 points available"
    assert v.page.get_attribute("[data-ll-root]", "aria-busy") == "false"


def test_a_reward_the_merchant_withdrew_after_the_panel_opened_keeps_the_points(visit, demo):
    v = visit(MEMBER_PAGE)
    v.open_launcher()
    with demo.app.extensions["runtime"].db.transaction() as s:
        s.execute(update(Reward).where(Reward.title == "$10 off").values(active=False))

    v.redeem("$10 off")

    assert v.status() == "This reward is no longer available."
    assert v.text(".ll-balance") == "2,050 points available"
    assert v.page.is_hidden(".ll-code")
    assert v.page.is_enabled("[data-ll-redeem][aria-label='Redeem $10 off']")
    assert (redemptions(demo), adas_codes(demo)) == ([], [])
    assert ada(demo).points_available == 2050


def test_points_spent_in_another_tab_are_refused_with_the_reason(visit, demo):
    stale = visit(MEMBER_PAGE)
    stale.open_launcher()
    other = visit(MEMBER_PAGE)
    other.open_launcher()
    other.redeem("$10 off")
    other.page.wait_for_selector(".ll-code", state="visible")
    other.redeem("$10 off")
    other.page.wait_for_function(
        "document.querySelector('.ll-points').textContent == '50'")

    stale.redeem("$5 off")

    assert stale.status() == "You don’t have enough points for this reward yet."
    assert stale.page.is_hidden(".ll-code")
    assert [r.points for r in redemptions(demo)] == [1000, 1000]
    assert adas_codes(demo) == [r.code for r in redemptions(demo)]
    assert ada(demo).points_available == 50


def test_when_shopify_cannot_create_the_code_the_shopper_keeps_the_points(visit, demo):
    demo.emulator.fail_next("discountCodeBasicCreate", "user_error")
    v = visit(MEMBER_PAGE)
    v.open_launcher()

    v.redeem("$5 off")

    assert v.status() == "Something went wrong. Please try again."
    assert v.text(".ll-balance") == "2,050 points available"
    assert v.page.is_enabled("[data-ll-redeem][aria-label='Redeem $5 off']")
    assert [r.status for r in redemptions(demo)] == ["failed"]
    assert adas_codes(demo) == []
    assert ada(demo).points_available == 2050


def test_a_shopper_over_the_write_limit_is_asked_to_wait(visit, demo):
    v = visit(MEMBER_PAGE)
    v.open_launcher()
    # The limit is per clock minute: start well inside one.
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)
    statuses = v.page.evaluate(f"""() => Promise.all([...Array({WRITES_PER_MINUTE})].map(() =>
        fetch('/apps/loyalty/birthday', {{method: 'POST', body: '{{}}',
               headers: {{'Content-Type': 'application/json'}}}}).then((r) => r.status)))""")

    v.redeem("$5 off")

    assert statuses == [400] * WRITES_PER_MINUTE
    assert v.status() == "Too many attempts. Please wait a moment and try again."
    assert (redemptions(demo), adas_codes(demo)) == ([], [])
    assert ada(demo).points_available == 2050


def test_copying_the_referral_link_puts_it_on_the_clipboard(visit, demo):
    v = visit(MEMBER_PAGE)
    v.open_launcher()

    v.page.click("[data-ll-copy]")

    v.page.wait_for_function("document.querySelector('[data-ll-copy]').textContent == 'Copied'")
    assert v.page.evaluate("navigator.clipboard.readText()") == (
        f"https://{DEMO_SHOP}/?ref={ada(demo).referral_code}")


def test_share_copies_the_apps_prefilled_message_where_the_web_share_api_is_missing(visit, demo):
    v = visit(MEMBER_PAGE)
    v.open_launcher()
    v.page.evaluate("delete Navigator.prototype.share")

    v.page.click("[data-ll-share]")

    v.page.wait_for_function("document.querySelector('[data-ll-share]').textContent == 'Copied'")
    assert v.page.evaluate("navigator.clipboard.readText()") == (
        "Here's 10% off your first order at Loyalty Loop Demo Tea - use my link: "
        f"https://{DEMO_SHOP}/?ref={ada(demo).referral_code}")


def test_a_birthday_is_saved_as_month_and_day(visit, demo):
    v = visit(MEMBER_PAGE)
    v.open_launcher()

    v.page.click("input[name=birthday]")
    v.page.keyboard.type("03-14")
    v.page.click("form button[type=submit]")
    v.page.wait_for_selector("[data-ll-if='member.birthday']", state="visible")

    assert v.text("[data-ll-if='member.birthday']") == "Birthday saved: 03-14"
    assert v.page.is_hidden("input[name=birthday]")
    birthday = ada(demo).birthday
    assert (birthday.month, birthday.day) == (3, 14)


def test_a_birthday_that_is_no_date_is_refused_by_the_browser_before_any_request(visit):
    v = visit(MEMBER_PAGE)
    v.open_launcher()

    v.page.click("input[name=birthday]")
    v.page.keyboard.type("14-03")
    v.page.keyboard.press("Enter")

    assert v.page.eval_on_selector("input[name=birthday]", "i => i.validity.patternMismatch")
    assert v.proxy_requests() == ["GET /apps/loyalty/member"]


def test_escape_closes_the_panel_and_returns_focus_to_the_launcher(visit):
    v = visit(MEMBER_PAGE)
    v.open_launcher()

    v.page.keyboard.press("Escape")

    assert v.page.is_hidden("[data-ll-panel]")
    assert v.page.get_attribute("[data-ll-toggle]", "aria-expanded") == "false"
    assert v.page.evaluate("document.activeElement.hasAttribute('data-ll-toggle')")
    v.page.click("[data-ll-toggle]")
    assert v.page.is_visible("[data-ll-panel]")
    assert v.proxy_requests() == ["GET /apps/loyalty/member"]


def test_a_guest_sees_the_shops_program_with_join_and_sign_in_links(visit):
    v = visit(GUEST_PAGE)

    v.open_launcher()

    assert v.proxy_requests() == ["GET /apps/loyalty/program"]
    assert v.text(".ll-earn") == "5 points per $1"
    assert v.page.locator("[data-ll-each='program.ways_to_earn'] [data-ll-item]").first.inner_text(
    ).split() == ["Every", "$1", "you", "spend", "+5", "points"]
    assert v.text("[data-ll-each='program.tiers'] [data-ll-item]:nth-of-type(2)") == (
        "Silver from $300.00 a year 25% more points on every order 1.25× points")
    assert v.text("[data-ll-if='program.referral']") == (
        "Refer a friend: they get 10% off, you get 500 points.")
    assert v.page.get_attribute(".ll-join .ll-btn", "href") == f"{PAGE_PATH}/account/register"
    assert v.page.get_attribute(".ll-join .ll-muted a", "href") == f"{PAGE_PATH}/account/login"
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / "widget-guest.png"))


def test_a_guest_who_signs_in_as_a_demo_customer_sees_their_points(visit):
    v = visit(GUEST_PAGE)
    v.open_launcher()

    v.page.click(".ll-join .ll-muted a")
    v.page.click(f"nav.preview a:text-is('{ADA['first_name']}')")
    v.page.wait_for_url(f"**{MEMBER_PAGE}")

    assert v.text("[data-ll-toggle]") == "Rewards 2050 pts"
    v.open_launcher()
    assert v.text(".ll-balance") == "2,050 points available"


def test_a_guest_who_joins_is_welcomed_with_the_signup_bonus(visit, demo):
    v = visit(GUEST_PAGE)
    v.open_launcher()

    v.page.click(".ll-join .ll-btn")
    v.page.click("input[name=first_name]")
    v.page.keyboard.type("Margaret")
    v.page.click("form button")
    v.page.wait_for_url(f"**{PAGE_PATH}?customer_id=*")

    customer_id = int(parse_qs(urlsplit(v.page.url).query)["customer_id"][0])
    # Shopify told the app with customers/create; the app enrols and pays the bonus.
    assert eventually(lambda: getattr(member_of(demo, customer_id), "points_available", 0) == 250)
    v.open_launcher()
    assert v.text(".ll-greeting") == "Welcome back, Margaret"
    assert v.text(".ll-balance") == "250 points available"
    assert v.text("[data-ll-each='activity'] [data-ll-item]").startswith(
        "Welcome to the program")


def test_the_loyalty_page_block_fills_in_without_shifting_the_page(visit):
    v = visit(f"{LOYALTY_PAGE}?customer_id={ADA['id']}")
    v.wait_until_rendered()

    assert sorted(v.proxy_requests()) == [
        "GET /apps/loyalty/member", "GET /apps/loyalty/program", "GET /apps/loyalty/reviews"]
    assert v.text(".ll-balance") == "2,050 points available"
    assert v.text(".ll-earn") == "5 points per $1"
    assert v.layout_shift() == 0
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / "widget-page.png"), full_page=True)


def test_a_page_block_re_rendered_by_the_theme_editor_fills_in_again(visit):
    v = visit(LOYALTY_PAGE)
    v.wait_until_rendered()

    # What the theme editor does after a setting changes: new section markup, then the event.
    v.page.evaluate("""async () => {
      const fresh = new DOMParser().parseFromString(await (await fetch(location.href)).text(),
                                                    'text/html');
      const section = document.querySelector('.shopify-section');
      section.innerHTML = fresh.querySelector('.shopify-section').innerHTML;
      section.dispatchEvent(new CustomEvent('shopify:section:load', {bubbles: true}));
    }""")
    v.wait_until_rendered()

    assert sorted(v.proxy_requests()) == [
        "GET /apps/loyalty/program", "GET /apps/loyalty/program",
        "GET /apps/loyalty/reviews", "GET /apps/loyalty/reviews"]
    assert v.text(".ll-earn") == "5 points per $1"


def test_the_loyalty_page_shows_approved_reviews_without_shifting_the_page(visit, demo):
    approve_review(demo, product="Loose-leaf tea", rating=4,
                   body="<b>Smoky</b> and smooth, my new morning cup.")
    v = visit(LOYALTY_PAGE)
    v.page.wait_for_selector("[data-ll-reviews] li", state="visible")

    assert v.proxy_requests().count("GET /apps/loyalty/reviews") == 1
    assert v.requests.count(f"GET {PAGE_PATH}/assets/loyalty-reviews.js") == 1
    assert v.text("[data-ll-reviews]") == (
        "What members say ★★★★☆ Loose-leaf tea <b>Smoky</b> and smooth, my new morning cup. "
        "Ada L.")
    assert v.page.get_attribute("[data-ll-reviews] [role=img]", "aria-label") == (
        "4 out of 5 stars")
    assert v.page.locator("[data-ll-reviews] b").count() == 0
    assert v.layout_shift() == 0
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / "widget-reviews.png"), full_page=True)


def test_without_approved_reviews_the_reviews_section_stays_hidden(visit, demo):
    member = ada(demo)
    with demo.app.extensions["runtime"].db.transaction() as s:
        s.add(Review(shop_id=member.shop_id, member_id=member.id, product_id=1, rating=5,
                     body="Awaiting moderation", status="pending"))
    v = visit(LOYALTY_PAGE)
    v.wait_until_rendered()

    assert "GET /apps/loyalty/reviews" in v.proxy_requests()
    assert v.page.is_hidden("[data-ll-reviews]")
    assert v.page.locator("[data-ll-reviews] li").count() == 0
    assert v.layout_shift() == 0


def app_data(demo: Demo, key: str) -> str | None:
    """The value of one of the app's app-data metafields (owner: its installation) in Shopify."""
    with demo.emulator.lock:
        state = demo.emulator.shop(DEMO_SHOP)
        return next((mf.value for (owner, _, k), mf in state.metafields.items()
                     if owner == state.installation_gid and k == key), None)


def test_after_the_merchant_moves_the_app_proxy_the_widget_loads_and_redeems_through_it(
        visit, demo):
    # What the merchant does in Shopify's admin: the store's proxy URL becomes /a/rewards, and
    # /apps/loyalty is no longer proxied.
    demo.emulator.customize_app_proxy(DEMO_SHOP, "a", "rewards")
    # They open the new address Shopify shows them; the app learns it from path_prefix.
    merchant = visit("/a/rewards")
    assert merchant.page.evaluate("JSON.parse(document.body.innerText)") == {"ok": True}
    assert eventually(lambda: app_data(demo, "proxy_path") == "/a/rewards")

    v = visit(MEMBER_PAGE)
    v.proxy_prefix = "/a/rewards/"
    v.open_launcher()

    assert v.text(".ll-balance") == "2,050 points available"
    v.redeem("$5 off")
    v.page.wait_for_selector(".ll-code", state="visible")
    [redemption] = redemptions(demo)
    assert v.proxy_requests() == ["GET /a/rewards/member", "POST /a/rewards/redeem"]
    assert v.text(".ll-code [data-ll-code]") == redemption.code
    assert v.text(".ll-balance") == "1,550 points available"
    assert adas_codes(demo) == [redemption.code]
    assert not any("/apps/loyalty" in r for r in v.requests)

    page = visit(f"{LOYALTY_PAGE}?customer_id={ADA['id']}")
    page.proxy_prefix = "/a/rewards/"
    page.wait_until_rendered()
    assert sorted(page.proxy_requests()) == [
        "GET /a/rewards/member", "GET /a/rewards/program", "GET /a/rewards/reviews"]
    assert page.text(".ll-balance") == "1,550 points available"
