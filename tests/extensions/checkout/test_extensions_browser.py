"""The BUILT thank-you and order-status bundles, rendered in Chromium against the REAL app.

Each page is the app's stand-in extension host (app/templates/previews/extension_host.html,
which /dev/thank-you renders too) on its own loopback origin; the bundle calls the running
Flask app's /api/checkout/* on another origin (the app slot it was built for), so CORS
preflights happen as they do from Shopify's Web Worker. Behind the app: a shop installed
through OAuth with the Shopify emulator, orders paid through signed webhooks, and session
tokens the emulator minted with the app's secret.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import select, update
from werkzeug.wrappers import Request, Response

from app.models import LedgerEntry, Member, Shop
from app.web.previews import extension_translations
from tests.extensions.checkout.conftest import (
    ADA,
    GUEST_ORDER_ID,
    MEMBER_ORDER_ID,
    SHOP,
    RunningCheckout,
    buyer,
    long_date,
    yesterday_noon,
)
from tests.extensions.checkout.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXTENSIONS,
    REPO_ROOT,
    TEST_OUTPUT,
    Build,
    require_tool,
    served_on_loopback,
)

pytestmark = pytest.mark.browser

# The app's own extension host page (the /dev/thank-you preview renders it too).
HOST_PAGE = Environment(loader=FileSystemLoader(Path(__file__).resolve().parents[3] / "app"
                                                / "templates"), autoescape=True
                        ).get_template("previews/extension_host.html")
THANK_YOU = ("loyalty-thank-you", "purchase.thank-you.block.render")
ORDER_STATUS = ("loyalty-order-status", "customer-account.order-status.block.render")
UI_TIMEOUT_MS = 10_000


def order_gid(order_id: int | str) -> str:
    """The GraphQL id both extension APIs give for an order."""
    return f"gid://shopify/Order/{order_id}"


@dataclass
class ExtensionHost:
    """Serves host pages, each one a configured extension target around a built bundle."""

    build: Build
    url: str = ""
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def publish(self, handle: str, target: str, **config: Any) -> str:
        """A new host page for one extension target; returns its URL."""
        name = uuid.uuid4().hex
        self.pages[name] = {"handle": handle, "config": {"target": target, **config}}
        return f"{self.url}/page/{name}"

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Host pages at /page/<name>, the built bundles at /bundle/<handle>.js."""
        request = Request(environ)
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "page" and parts[1] in self.pages:
            page = self.pages[parts[1]]
            # Rendering is the test's to start (window.extensionHost.render()).
            config = page["config"]
            language, translations = extension_translations(
                REPO_ROOT / "extensions" / EXTENSIONS[page["handle"]], config.get("locale"))
            html = HOST_PAGE.render(config={
                "extensionLanguage": language, "translations": translations, **config,
                "bundleUrl": f"/bundle/{page['handle']}.js", "manualRender": True})
            response = Response(html, mimetype="text/html")
        elif len(parts) == 2 and parts[0] == "bundle" and parts[1].endswith(".js"):
            bundle = self.build.bundle(parts[1].removesuffix(".js"))
            response = Response(bundle.read_bytes(), mimetype="text/javascript")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)


@pytest.fixture(scope="module")
def extension_host(extension_build: Build) -> Iterator[ExtensionHost]:
    """The host pages' own origin on a free loopback port."""
    assert extension_build.returncode == 0, extension_build.output
    with served_on_loopback(ExtensionHost(extension_build)) as host:
        yield host


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (never a Playwright-downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        require_tool("Playwright", f"{exc} (pip install -r requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        require_tool("Chromium", f"{CHROMIUM} missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; fails the test on any script error the bundle raises."""
    context = browser.new_context(viewport={"width": 640, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Chromium also logs each 4xx/5xx response; the error-state tests cause those on purpose.
    page.on("console", lambda message: message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and errors.append(message.text))
    yield page
    context.close()
    assert errors == []


def open_extension(page: Any, url: str) -> None:
    """Load a host page and run the extension's registered target."""
    page.goto(url)
    page.evaluate("window.extensionHost.render()")


def panel_height(page: Any) -> float:
    """The rendered block's height in CSS pixels."""
    return page.locator("s-section").evaluate("(node) => node.getBoundingClientRect().height")


def referral_code(backend: RunningCheckout) -> str:
    """Ada's referral code, as the app generated it."""
    with backend.db.sessions() as session:
        return session.execute(select(Member.referral_code).where(
            Member.customer_id == ADA)).scalar_one()


def nps_bonuses(backend: RunningCheckout) -> list[int]:
    """The points of every NPS bonus entry in the ledger."""
    with backend.db.sessions() as session:
        return list(session.execute(select(LedgerEntry.points).where(
            LedgerEntry.kind == "bonus_nps")).scalars())


def test_thank_you_shows_the_points_the_app_recorded_and_sends_a_one_tap_nps_score(
        page: Any, extension_host: ExtensionHost, checkout_backend: RunningCheckout) -> None:
    """A member sees pending points, balance, tier and referral; the score lands in the DB."""
    paid_at = yesterday_noon()
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "13.50",
                                                        quantity=2, paid_at=paid_at))
    token = checkout_backend.token(ADA)
    handle, target = THANK_YOU
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=token, holdSessionToken=True, customer=buyer(ADA),
        orderConfirmation={"order": {"id": order_gid(MEMBER_ORDER_ID)}, "number": "X7KQ2",
                           "isFirstOrder": False}))

    page.locator("s-skeleton-paragraph").first.wait_for()
    assert page.locator("s-section").get_attribute("heading") == "Rewards"
    loading_height = panel_height(page)
    TEST_OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(TEST_OUTPUT / "thank-you-loading.png"), full_page=True)

    page.evaluate("window.extensionHost.openSessionTokenGate()")
    # 2 x 13.50 of tea, 5 points per unit, Bronze 1x; shipping does not earn.
    page.get_by_text("You earned 135 points").wait_for()
    assert page.locator("s-skeleton-paragraph").count() == 0
    assert page.locator("s-badge").first.inner_text() == "Pending"
    unlocks = long_date((paid_at + timedelta(days=30)).date())
    code = referral_code(checkout_backend)
    link = f"https://{SHOP}/?ref={code}"
    for sentence in (f"They unlock on {unlocks}, once the return window closes.",
                     "Ada, your balance: 0 points available, 135 pending",
                     "Bronze member: spend $273.00 more to reach Silver",
                     "How likely are you to recommend us to a friend?",
                     "Answer and earn 50 points."):
        assert page.get_by_text(sentence, exact=True).count() == 1, sentence
    assert page.get_by_text(
        f"Here's 10% off your first order at Loyalty Loop Test Tea - use my link: {link}",
        exact=True).count() == 1
    assert page.locator("s-progress").get_attribute("value") == "0.09"
    assert page.locator("s-clipboard-item#loyalty-referral-link").get_attribute("text") == link
    ready_height = panel_height(page)
    page.screenshot(path=str(TEST_OUTPUT / "thank-you.png"), full_page=True)
    print(f"panel height: {loading_height:.0f}px loading, {ready_height:.0f}px with data")
    # The skeleton reserves the ready layout line for line (tests/extensions/
    # test_layout_shift.py: nothing below the block moves).
    assert ready_height == loading_height

    slot = checkout_backend.slot
    order_path = f"/api/checkout/order/{MEMBER_ORDER_ID}"
    (get,) = slot.requests_to("GET", order_path)
    assert get["authorization"] == f"Bearer {token}"
    assert get["origin"] == extension_host.url
    assert slot.requests_to("OPTIONS", order_path), "a CORS preflight was expected"

    page.locator("s-button", has_text="9").filter(has_not_text="10").click()
    page.get_by_text("Thank you! 50 points are on their way.").wait_for()
    (score,) = slot.requests_to("POST", "/api/checkout/nps")
    assert (score["json"], score["authorization"]) == (
        {"order_id": str(MEMBER_ORDER_ID), "score": 9, "comment": ""}, f"Bearer {token}")
    (answer,) = checkout_backend.survey_responses()
    assert (answer.order_id, answer.score, answer.comment, answer.detractor) == (
        MEMBER_ORDER_ID, 9, None, False)

    page.locator("s-text-area textarea").fill("  Quick delivery, lovely packaging.  ")
    page.locator("s-button", has_text="Send comment").click()
    page.get_by_text("Thanks for telling us more.").wait_for()
    (answer,) = checkout_backend.survey_responses()
    assert (answer.score, answer.comment) == (9, "Quick delivery, lovely packaging.")
    assert nps_bonuses(checkout_backend) == [50]
    page.screenshot(path=str(TEST_OUTPUT / "thank-you-nps-answered.png"), full_page=True)


def test_thank_you_invites_a_guest_to_claim_the_points_once_the_order_is_paid(
        page: Any, extension_host: ExtensionHost, checkout_backend: RunningCheckout) -> None:
    """A guest's token proves no tie to the order, so the app never asks Shopify for a preview:
    the panel waits for orders/paid, then shows the points and a link to claim them."""
    paid_at = yesterday_noon()
    payload = checkout_backend.order_payload(GUEST_ORDER_ID, None, "27.00", paid_at=paid_at,
                                             email="guest@example.com")
    checkout_backend.shopify_knows(payload)
    handle, target = THANK_YOU
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(customer_id=None),
        orderConfirmation={"order": {"id": order_gid(GUEST_ORDER_ID)}, "isFirstOrder": True}))

    page.get_by_text("Points for this order will show here in a moment.").wait_for()
    assert checkout_backend.emulator.shop(SHOP).calls_to("order") == []
    checkout_backend.pay(payload)
    # The panel asks again 3 s after a 404 (REFRESH_DELAYS_MS).
    page.get_by_text("You earned 135 points").wait_for()
    assert page.locator("s-badge").first.inner_text() == "Pending"
    assert page.get_by_text(
        f"They unlock on {long_date((paid_at + timedelta(days=30)).date())}, once the return "
        "window closes.", exact=True).count() == 1
    banner = page.locator("s-banner")
    assert banner.get_attribute("heading") == "Create an account to claim your 135 points"
    assert banner.locator("s-button").get_attribute("href") == (
        f"https://{SHOP}/account/register")
    assert page.get_by_text("How likely are you to recommend us to a friend?").count() == 0
    assert page.get_by_text("Share with friends").count() == 0


def test_a_failed_load_shows_an_error_with_a_retry_that_recovers(
        page: Any, extension_host: ExtensionHost, checkout_backend: RunningCheckout) -> None:
    """Shopify failing the preview's order read becomes a warning; Try again loads the panel."""
    checkout_backend.shopify_knows(checkout_backend.order_payload(
        MEMBER_ORDER_ID, ADA, "27.00", paid_at=yesterday_noon()))
    checkout_backend.emulator.fail_next("LoyaltyOrder", "http_503", times=2)
    handle, target = THANK_YOU
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA),
        orderConfirmation={"order": {"id": order_gid(MEMBER_ORDER_ID)}, "isFirstOrder": False}))

    banner = page.locator("s-banner[tone=warning]")
    banner.wait_for()
    assert banner.get_attribute("heading") == "We could not load your rewards"
    banner.locator("s-button", has_text="Try again").click()
    page.get_by_text("This order earns 135 points").wait_for()
    assert page.locator("s-banner").count() == 0


def test_an_order_the_app_does_not_know_yet_shows_the_empty_state(
        page: Any, extension_host: ExtensionHost, checkout_backend: RunningCheckout) -> None:
    """A 404 (Shopify has no such order yet) says the points will show in a moment."""
    handle, target = THANK_YOU
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA),
        orderConfirmation={"order": {"id": order_gid(999)}, "isFirstOrder": False}))

    page.get_by_text("Points for this order will show here in a moment.").wait_for()
    assert page.locator("s-banner").count() == 0


def test_a_program_not_launched_yet_shows_nothing_on_the_thank_you_page(
        page: Any, extension_host: ExtensionHost, checkout_backend: RunningCheckout) -> None:
    """A draft program: the API answers program_not_live and the block renders nothing."""
    checkout_backend.pay(checkout_backend.order_payload(
        MEMBER_ORDER_ID, ADA, "27.00", paid_at=yesterday_noon()))
    with checkout_backend.db.transaction() as session:
        session.execute(update(Shop).where(Shop.domain == SHOP).values(launched_at=None))
    handle, target = THANK_YOU
    with page.expect_response(lambda r: "/api/checkout/order/" in r.url) as answer:
        open_extension(page, extension_host.publish(
            handle, target, sessionToken=checkout_backend.token(ADA),
            orderConfirmation={"order": {"id": order_gid(MEMBER_ORDER_ID)},
                               "isFirstOrder": False}))

    assert answer.value.status == 404
    page.locator("s-section").wait_for(state="detached")
    assert page.get_by_text("Points for this order").count() == 0


def test_a_held_out_customer_sees_nothing_on_the_thank_you_page(
        page: Any, extension_host: ExtensionHost, checkout_backend: RunningCheckout) -> None:
    """The holdout keeps the customer out: the API answers not_in_program, nothing renders."""
    from app.db import utcnow
    from app.loyalty import holdout

    with checkout_backend.db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        holdout.start(shop, 50, utcnow())
        held_out = next(c for c in range(7_300, 7_400) if holdout.group_for(
            shop.holdout_key, SHOP, c, 50) == holdout.CONTROL)
    checkout_backend.pay(checkout_backend.order_payload(
        MEMBER_ORDER_ID, held_out, "27.00", paid_at=yesterday_noon()))
    handle, target = THANK_YOU
    with page.expect_response(lambda r: "/api/checkout/order/" in r.url) as answer:
        open_extension(page, extension_host.publish(
            handle, target, sessionToken=checkout_backend.token(held_out),
            orderConfirmation={"order": {"id": order_gid(MEMBER_ORDER_ID)},
                               "isFirstOrder": False}))

    assert answer.value.status == 404
    assert answer.value.json()["error"] == "not_in_program"
    page.locator("s-section").wait_for(state="detached")
    assert page.get_by_text("Points for this order").count() == 0


def test_a_test_order_says_it_earns_no_points(
        page: Any, extension_host: ExtensionHost, checkout_backend: RunningCheckout) -> None:
    """Test orders do not earn by default: the panel says so instead of failing."""
    checkout_backend.pay(checkout_backend.order_payload(
        MEMBER_ORDER_ID, ADA, "27.00", paid_at=yesterday_noon(), test=True))
    handle, target = THANK_YOU
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA),
        orderConfirmation={"order": {"id": order_gid(MEMBER_ORDER_ID)}, "isFirstOrder": False}))

    page.get_by_text("This order does not earn points").wait_for()
    assert page.locator("s-badge").first.inner_text() == "No points"


def test_order_status_waits_for_the_order_then_shows_its_points(
        page: Any, extension_host: ExtensionHost, checkout_backend: RunningCheckout) -> None:
    """customer-account.order-status: `shopify.order` is undefined until the order is processed."""
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "27.00",
                                                        paid_at=yesterday_noon()))
    handle, target = ORDER_STATUS
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA), order=None))
    page.locator("s-skeleton-paragraph").first.wait_for()
    assert [r for r in checkout_backend.slot.received if r["path"].startswith("/api/")] == []

    page.evaluate("(order) => window.extensionHost.setOrder(order)",
                  {"id": order_gid(MEMBER_ORDER_ID), "name": "#9999"})
    page.get_by_text("You earned 135 points").wait_for()
    (get,) = checkout_backend.slot.requests_to("GET", f"/api/checkout/order/{MEMBER_ORDER_ID}")
    # The order-status extension's token is a customer account token: the app is told so.
    assert get["query"] == "surface=customer_account&locale=en"


def test_the_development_preview_renders_the_built_bundle_with_an_emulator_token(
        page: Any, checkout_backend: RunningCheckout) -> None:
    """GET /dev/thank-you: the built bundle, a token minted by the emulator, a demo order."""
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "27.00",
                                                        paid_at=yesterday_noon()))
    checkout_backend.app.extensions["devstore"] = checkout_backend.emulator
    checkout_backend.app.extensions["devstore_shop"] = SHOP

    page.goto(f"{checkout_backend.url}/dev/thank-you")

    page.get_by_text("You earned 135 points").wait_for()
    assert page.get_by_text("Ada, your balance: 0 points available, 135 pending",
                            exact=True).count() == 1
    page.locator("s-button", has_text="10").click()
    page.get_by_text("Thank you! 50 points are on their way.").wait_for()
    (answer,) = checkout_backend.survey_responses()
    assert (answer.order_id, answer.score, answer.detractor) == (MEMBER_ORDER_ID, 10, False)
    page.screenshot(path=str(TEST_OUTPUT / "dev-thank-you-preview.png"), full_page=True)
