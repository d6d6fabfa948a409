"""The storefront widget in a real browser: Debian's Chromium driven by Playwright.

A local WSGI server serves harness pages (the blocks rendered into a theme layout), the
extension's assets, and `/apps/loyalty/*`. Until the app's proxy endpoints exist, those are
answered by `loyalty_proxy_stand_in`, which follows the contract in design.md §4; to run the
same tests against the real app, route `/apps/loyalty/*` to the emulator's signing proxy
instead (only `storefront_app` calls the stand-in).
"""

from __future__ import annotations

import json
import mimetypes
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.extensions.widget.harness import (
    ASSETS_DIR,
    EMBED_BLOCKS,
    MEMBER,
    PROGRAM_ANSWER,
    member_answer,
    storefront_page,
)
from tests.extensions.widget.tools import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, missing_tool

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "test-output"
PROXY_PREFIX = "/apps/loyalty/"
REDEMPTION_CODE = "LOYAL-7F3K9Q"

PAGES = {
    "/member": lambda: storefront_page(customer=MEMBER, blocks=EMBED_BLOCKS),
    "/guest": lambda: storefront_page(customer=None, blocks=EMBED_BLOCKS),
    "/member/loyalty": lambda: storefront_page(customer=MEMBER, blocks=("loyalty-page",)),
    "/guest/loyalty": lambda: storefront_page(customer=None, blocks=("loyalty-page",)),
}

# Counts layout shifts the way CLS does (shifts right after user input are excluded).
MEASURE_LAYOUT_SHIFT = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({type: 'layout-shift', buffered: true});
"""


def loyalty_proxy_stand_in(state: dict[str, Any], method: str, path: str,
                           body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Answer `/apps/loyalty/<path>` as the app's proxy endpoints will (design.md §4).

    A stand-in for the backend, which does not exist yet: the shopper is who the page was
    rendered for (Shopify passes `logged_in_customer_id`), and `state` is that member.
    """
    if method == "GET" and path == "program":
        return 200, PROGRAM_ANSWER
    if not state["logged_in"]:
        return 401, {"error": "not_logged_in", "message": "Log in to see your points."}
    answer = state["member"]
    if method == "GET" and path == "member":
        return 200, answer
    if method == "POST" and path == "redeem":
        reward = next((r for r in answer["rewards"] if r["id"] == body.get("reward_id")), None)
        if reward is None or reward["id"] in state["withdrawn_rewards"]:
            return 409, {"error": "reward_unavailable", "message": "That reward is gone."}
        if reward["cost"] > answer["points"]["available"]:
            return 409, {"error": "insufficient_points", "message": "Not enough points."}
        answer["points"]["available"] -= reward["cost"]
        return 200, {
            "redemption": {"code": REDEMPTION_CODE, "title": reward["title"],
                           "apply_url": f"/discount/{REDEMPTION_CODE}"},
            "points": answer["points"],
        }
    if method == "POST" and path == "birthday":
        answer["member"]["birthday"] = str(body.get("birthday", ""))[-5:]
        return 200, {"member": answer["member"]}
    return 404, {"error": "not_found", "message": f"No {method} {path}."}


def storefront_app(state: dict[str, Any]) -> Callable[..., Any]:
    """WSGI app: harness pages, the extension's assets, and the app proxy."""

    @Request.application
    def app(request: Request) -> Response:
        path = request.path
        if path in PAGES:
            state["logged_in"] = path.startswith("/member") and not state["session_expired"]
            return Response(PAGES[path](), content_type="text/html; charset=utf-8")
        if path.startswith("/assets/"):
            asset = ASSETS_DIR / path.removeprefix("/assets/")
            if asset.parent == ASSETS_DIR and asset.is_file():
                return Response(asset.read_bytes(), content_type=mimetypes.guess_type(asset)[0])
        if path.startswith(PROXY_PREFIX):
            body = request.get_json(silent=True) or {}
            status, answer = loyalty_proxy_stand_in(
                state, request.method, path.removeprefix(PROXY_PREFIX), body)
            return Response(json.dumps(answer), status=status, content_type="application/json")
        return Response("not found", status=404)

    return app


@pytest.fixture
def proxy_state() -> dict[str, Any]:
    """The stand-in backend's member, fresh for each test."""
    return {"logged_in": False, "session_expired": False, "member": member_answer(),
            "withdrawn_rewards": set()}


@pytest.fixture
def storefront(proxy_state: dict[str, Any]) -> Iterator[str]:
    """Base URL of a local storefront on a port the OS picked."""
    server = make_server("127.0.0.1", 0, storefront_app(proxy_state), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (never a Playwright-downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        missing_tool("Playwright", str(exc))
    if not os.access(CHROMIUM, os.X_OK):
        missing_tool("Chromium", f"{CHROMIUM} missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page in a fresh browser context, with every request it made recorded."""

    def __init__(self, browser: Any, base_url: str, path: str,
                 viewport: tuple[int, int] = (1280, 800)):
        self.context = browser.new_context(
            base_url=base_url, viewport={"width": viewport[0], "height": viewport[1]},
            permissions=["clipboard-read", "clipboard-write"])
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(
            f"{r.method} {r.url.removeprefix(base_url)}"))
        self.page.add_init_script(MEASURE_LAYOUT_SHIFT)
        self.page.goto(path, wait_until="networkidle")

    def proxy_requests(self) -> list[str]:
        """The app-proxy calls so far, e.g. `GET /apps/loyalty/member`."""
        return [r for r in self.requests if PROXY_PREFIX in r]

    def layout_shift(self) -> float:
        """Cumulative layout shift so far, ignoring shifts caused by input."""
        return self.page.evaluate("window.__cls")

    def text(self, selector: str) -> str:
        """Visible text of the first match, whitespace collapsed."""
        return " ".join(self.page.locator(selector).first.inner_text().split())

    def open_launcher(self) -> None:
        """Click the launcher and wait until the live data is in the panel."""
        with self.page.expect_response(lambda r: PROXY_PREFIX in r.url):
            self.page.click("[data-ll-toggle]")
        self.wait_until_rendered()

    def wait_until_rendered(self) -> None:
        """Wait until the widget has put live data in and cleared its loading message."""
        self.page.wait_for_selector("[data-ll-item]", state="attached")
        self.page.wait_for_function("!document.querySelector('[data-ll-status]').textContent")

    def close(self) -> None:
        """Close the context (and its page)."""
        self.context.close()


@pytest.fixture
def visit(browser: Any, storefront: str) -> Iterator[Callable[[str], Visit]]:
    """Open harness pages; every context is closed after the test."""
    visits: list[Visit] = []

    def open_page(path: str, **kwargs: Any) -> Visit:
        visits.append(Visit(browser, storefront, path, **kwargs))
        return visits[-1]

    yield open_page
    for v in visits:
        v.close()


def test_a_member_page_view_requests_no_script_and_no_proxy_call_until_the_launcher_opens(visit):
    v = visit("/member")

    assert v.requests == ["GET /member", "GET /assets/loyalty-widget.css"]
    assert v.text("[data-ll-toggle]") == "Rewards 1250 pts"
    assert v.page.get_attribute("[data-ll-toggle]", "aria-expanded") == "false"
    assert v.layout_shift() == 0


def test_opening_the_launcher_shows_balance_tier_progress_and_next_reward(visit):
    v = visit("/member")

    v.open_launcher()

    assert v.proxy_requests() == ["GET /apps/loyalty/member"]
    assert v.requests.count("GET /assets/loyalty-widget.js") == 1
    assert v.page.get_attribute("[data-ll-toggle]", "aria-expanded") == "true"
    assert v.text("[data-ll-toggle]") == "Rewards 1250 pts"
    assert v.page.evaluate("document.activeElement.textContent") == "Rewards"
    assert v.text(".ll-balance") == "1,250 points available"
    assert v.text(".ll-member .ll-muted") == "300 points pending (available from 12/22/2026)"
    assert v.text(".ll-tier") == "Tier: Silver"
    assert v.page.eval_on_selector("progress.ll-bar", "p => p.value") == 42
    assert v.text("[data-ll-if='tier.next'] p") == "Spend $290.00 more to reach Gold."
    assert v.text(".ll-next") == "1,250 points to $25 off"
    assert v.page.locator("[data-ll-each='affordable'] [data-ll-item]").all_inner_texts() == [
        "$5 off 500 points\nRedeem", "Free shipping 800 points\nRedeem",
        "$10 off 1,000 points\nRedeem"]
    assert v.page.get_attribute("[data-ll-redeem]", "aria-label") == "Redeem $5 off"
    assert v.text("[data-ll-each='activity'] [data-ll-item]") == (
        "Order #1042 11/20/2026 pending +300")
    assert v.page.input_value("[data-ll-value='{referral.url}']") == (
        "https://shop.example/?ref=ADA-7K3Q")
    assert v.layout_shift() == 0


def test_the_panel_fits_a_phone_screen(visit):
    v = visit("/member", viewport=(375, 667))

    v.open_launcher()

    panel = v.page.locator("[data-ll-panel]").bounding_box()
    launcher = v.page.locator("[data-ll-toggle]").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 375
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= launcher["y"]
    assert launcher["x"] + launcher["width"] <= 375 and launcher["y"] + launcher["height"] <= 667


def test_a_shopper_whose_session_ended_is_asked_to_sign_in(visit, proxy_state):
    proxy_state["session_expired"] = True
    v = visit("/member")

    with v.page.expect_response(lambda r: PROXY_PREFIX in r.url):
        v.page.click("[data-ll-toggle]")
    v.page.wait_for_function("document.querySelector('[data-ll-status]').textContent")

    assert v.text("[data-ll-status]") == "Please sign in to use your rewards."
    assert v.text(".ll-balance") == "1250 points available"
    assert v.page.get_attribute("[data-ll-root]", "aria-busy") == "false"


def test_redeeming_a_reward_shows_its_code_and_a_link_that_applies_it(visit):
    v = visit("/member")
    v.open_launcher()

    v.page.click("[data-ll-redeem][aria-label='Redeem $5 off']")
    v.page.wait_for_selector(".ll-code", state="visible")

    assert v.proxy_requests() == ["GET /apps/loyalty/member", "POST /apps/loyalty/redeem"]
    assert v.text(".ll-code [data-ll-code]") == REDEMPTION_CODE
    assert v.page.get_attribute(".ll-code a", "href") == f"/discount/{REDEMPTION_CODE}"
    assert v.page.evaluate("document.activeElement.textContent") == REDEMPTION_CODE
    assert v.text("[data-ll-status]") == "Your discount code is ready."
    assert v.text(".ll-balance") == "750 points available"
    assert v.text(".ll-next") == "50 points to Free shipping"
    assert v.text("[data-ll-toggle]") == "Rewards 750 pts"
    assert v.page.locator("[data-ll-each='affordable'] [data-ll-item]").count() == 1
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / "widget.png"))


def test_a_withdrawn_reward_shows_the_translated_reason_and_keeps_the_points(visit, proxy_state):
    proxy_state["withdrawn_rewards"].add(2)
    v = visit("/member")
    v.open_launcher()

    v.page.click("[data-ll-redeem][aria-label='Redeem $10 off']")
    v.page.wait_for_function("document.querySelector('[data-ll-status]').textContent")

    assert v.text("[data-ll-status]") == "This reward is no longer available."
    assert v.text(".ll-balance") == "1,250 points available"
    assert v.page.is_hidden(".ll-code")
    assert v.page.is_enabled("[data-ll-redeem][aria-label='Redeem $10 off']")


def test_copying_the_referral_link_puts_it_on_the_clipboard(visit):
    v = visit("/member")
    v.open_launcher()

    v.page.click("[data-ll-copy]")

    v.page.wait_for_function("document.querySelector('[data-ll-copy]').textContent == 'Copied'")
    assert v.page.evaluate("navigator.clipboard.readText()") == "https://shop.example/?ref=ADA-7K3Q"


def test_share_copies_the_prefilled_message_where_the_web_share_api_is_missing(visit):
    v = visit("/member")
    v.open_launcher()
    v.page.evaluate("delete Navigator.prototype.share")

    v.page.click("[data-ll-share]")

    v.page.wait_for_function("document.querySelector('[data-ll-share]').textContent == 'Copied'")
    assert v.page.evaluate("navigator.clipboard.readText()") == (
        "Get 10% off your first order at Loyalty Loop demo with my link: "
        "https://shop.example/?ref=ADA-7K3Q")


def test_a_birthday_is_saved_as_month_and_day(visit, proxy_state):
    v = visit("/member")
    v.open_launcher()

    v.page.fill("input[name=birthday]", "03-14")
    v.page.click("form button[type=submit]")
    v.page.wait_for_selector("[data-ll-if='member.birthday']", state="visible")

    assert v.text("[data-ll-if='member.birthday']") == "Birthday saved: 03-14"
    assert v.page.is_hidden("input[name=birthday]")
    assert proxy_state["member"]["member"]["birthday"] == "03-14"


def test_a_birthday_that_is_no_date_is_refused_by_the_browser_before_any_request(visit):
    v = visit("/member")
    v.open_launcher()

    v.page.fill("input[name=birthday]", "14-03")
    v.page.click("form button[type=submit]")

    assert v.page.eval_on_selector("input[name=birthday]", "i => i.validity.patternMismatch")
    assert v.proxy_requests() == ["GET /apps/loyalty/member"]


def test_escape_closes_the_panel_and_returns_focus_to_the_launcher(visit):
    v = visit("/member")
    v.open_launcher()

    v.page.keyboard.press("Escape")

    assert v.page.is_hidden("[data-ll-panel]")
    assert v.page.get_attribute("[data-ll-toggle]", "aria-expanded") == "false"
    assert v.page.evaluate("document.activeElement.hasAttribute('data-ll-toggle')")
    v.page.click("[data-ll-toggle]")
    assert v.page.is_visible("[data-ll-panel]")
    assert v.proxy_requests() == ["GET /apps/loyalty/member"]


def test_a_guest_sees_how_to_earn_and_redeem_with_join_and_sign_in_links(visit):
    v = visit("/guest")

    v.open_launcher()

    assert v.proxy_requests() == ["GET /apps/loyalty/program"]
    assert v.text(".ll-earn") == "5 points per $1"
    assert v.page.locator("[data-ll-each='program.ways_to_earn'] [data-ll-item]").first.inner_text(
    ).split() == ["Every", "$1", "you", "spend", "+5", "points"]
    assert v.text("[data-ll-each='program.tiers'] [data-ll-item]:nth-of-type(2)") == (
        "Silver from $300.00 a year Early access to sales 1.25× points")
    assert v.text("[data-ll-if='program.referral']") == (
        "Refer a friend: they get 10% off, you get 500 points.")
    assert v.page.get_attribute(".ll-join .ll-btn", "href") == "/account/register"
    assert v.page.get_attribute(".ll-join .ll-muted a", "href") == "/account/login"
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / "widget-guest.png"))


def test_the_loyalty_page_block_fills_in_without_shifting_the_page(visit):
    v = visit("/member/loyalty")
    v.wait_until_rendered()

    assert sorted(v.proxy_requests()) == ["GET /apps/loyalty/member", "GET /apps/loyalty/program"]
    assert v.text(".ll-balance") == "1,250 points available"
    assert v.text(".ll-earn") == "5 points per $1"
    assert v.layout_shift() == 0
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / "widget-page.png"), full_page=True)


def test_a_page_block_re_rendered_by_the_theme_editor_fills_in_again(visit):
    v = visit("/guest/loyalty")
    v.wait_until_rendered()

    # What the theme editor does after a setting changes: new section markup, then the event.
    v.page.evaluate("""async () => {
      const fresh = new DOMParser().parseFromString(await (await fetch('/guest/loyalty')).text(),
                                                    'text/html');
      const section = document.querySelector('.shopify-section');
      section.innerHTML = fresh.querySelector('.shopify-section').innerHTML;
      section.dispatchEvent(new CustomEvent('shopify:section:load', {bubbles: true}));
    }""")
    v.wait_until_rendered()

    assert v.proxy_requests() == ["GET /apps/loyalty/program", "GET /apps/loyalty/program"]
    assert v.text(".ll-earn") == "5 points per $1"
