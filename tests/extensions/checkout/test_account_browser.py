"""The BUILT customer account extensions in Chromium against the REAL app.

The loyalty page (`customer-account.page.render`) and the profile block render in the app's
customer account host (app/templates/previews/customer_account_host.html) on their own loopback
origin, calling the running app's /api/account/* on another origin (CORS preflights included),
with customer account session tokens minted by the emulator; orders are paid through signed
webhooks. The same page is reachable as /dev/customer-account, which the last tests open.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import select, update
from werkzeug.wrappers import Request, Response

from app.db import utcnow
from app.models import Member, Redemption, Shop
from app.web.account_previews import host_config
from tests.extensions.checkout.conftest import ADA, SHOP, RunningCheckout, buyer, long_date
from tests.extensions.checkout.harness import REPO_ROOT, TEST_OUTPUT, Build, served_on_loopback
from tests.extensions.checkout.test_extensions_browser import (  # noqa: F401 - fixtures
    browser,
    page,
)
from tests.support.accessibility import serious_violations

pytestmark = pytest.mark.browser

HOST_PAGE = Environment(loader=FileSystemLoader(REPO_ROOT / "app" / "templates"),
                        autoescape=True).get_template("previews/customer_account_host.html")
PAGE, PROFILE = "loyalty-account", "loyalty-account-profile"
EARLY_ORDER, RECENT_ORDER = 820982911946154601, 820982911946154602


@dataclass
class AccountHost:
    """Serves host pages, each one a configured customer account target around a bundle."""

    build: Build
    url: str = ""
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def publish(self, handle: str, language: str = "en", **config: Any) -> str:
        """A new host page for one extension; returns its URL."""
        name = uuid.uuid4().hex
        self.pages[name] = host_config(handle, language, f"/bundle/{handle}.js",
                                       manualRender=True, **config)
        return f"{self.url}/page/{name}"

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "page" and parts[1] in self.pages:
            response = Response(HOST_PAGE.render(config=self.pages[parts[1]]),
                                mimetype="text/html")
        elif len(parts) == 2 and parts[0] == "bundle" and parts[1].endswith(".js"):
            bundle = self.build.bundle(parts[1].removesuffix(".js"))
            response = Response(bundle.read_bytes(), mimetype="text/javascript")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)


@pytest.fixture(scope="module")
def account_host(extension_build: Build) -> Iterator[AccountHost]:
    """The host pages' own origin on a free loopback port."""
    assert extension_build.returncode == 0, extension_build.output
    with served_on_loopback(AccountHost(extension_build)) as host:
        yield host


@pytest.fixture
def ada(checkout_backend: RunningCheckout) -> RunningCheckout:
    """Ada paid $120 of tea 40 days ago (600 points, unlocked) and $27 yesterday (135 pending)."""
    day = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    checkout_backend.pay(checkout_backend.order_payload(
        EARLY_ORDER, ADA, "60.00", quantity=2, paid_at=day - timedelta(days=40)))
    checkout_backend.pay(checkout_backend.order_payload(
        RECENT_ORDER, ADA, "13.50", quantity=2, paid_at=day - timedelta(days=1)))
    return checkout_backend


def member(backend: RunningCheckout) -> Member:
    with backend.db.sessions() as session:
        return session.execute(select(Member).where(Member.customer_id == ADA)).scalar_one()


def test_the_loyalty_page_shows_the_members_balance_tier_rewards_referral_and_activity(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    token = ada.token(ADA)
    # The skeleton first (how fast the data replaces it: test_first_render.py).
    page.goto(account_host.publish(PAGE, sessionToken=token, holdSessionToken=True))
    page.evaluate("window.extensionHost.render()")
    page.locator("s-skeleton-paragraph").first.wait_for()
    page.evaluate("window.extensionHost.openSessionTokenGate()")
    page.get_by_text("600 points available", exact=True).wait_for()
    recent = utcnow().replace(hour=12) - timedelta(days=1)
    unlocks = long_date((recent + timedelta(days=30)).date())
    for sentence in ("Welcome back, Ada", "600 points available",
                     f"135 points pending · Available from {unlocks}, once the return window "
                     "closes.", "735 points earned in all", "Tier: Bronze",
                     "Spend $153.00 more to reach Silver.", "$5 off", "500 points",
                     "Free shipping", "Birthday reward", "Recent activity"):
        assert page.get_by_text(sentence, exact=True).count() >= 1, sentence
    assert page.locator("s-skeleton-paragraph").count() == 0
    assert page.locator("s-page").get_attribute("heading") == "Rewards"
    referral = member(ada).referral_code
    assert page.get_by_text(f"https://{SHOP}/?ref={referral}", exact=True).count() == 1
    # Rewards the balance cannot buy yet are shown with what is missing, and cannot be tapped.
    assert page.get_by_text("1,900 points to go", exact=True).count() == 1
    assert page.get_by_role("button", name="Redeem $25 off for 2,500 points").is_disabled()
    TEST_OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(TEST_OUTPUT / "customer-account-page.png"), full_page=True)
    assert serious_violations(page) == []

    slot = ada.slot
    (read,) = slot.requests_to("GET", "/api/account/member")
    assert (read["authorization"], read["origin"]) == (f"Bearer {token}", account_host.url)
    assert slot.requests_to("OPTIONS", "/api/account/member"), "a CORS preflight was expected"


def test_one_tap_redeems_a_reward_and_the_code_can_be_copied_and_used_in_the_store(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    page.goto(account_host.publish(PAGE, sessionToken=ada.token(ADA)))
    page.evaluate("window.extensionHost.render()")
    page.get_by_text("600 points available", exact=True).wait_for()

    redeem = page.get_by_role("button", name="Redeem $5 off for 500 points")
    redeem.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Your discount code is ready.", exact=True).wait_for()

    with ada.db.sessions() as session:
        (redemption,) = session.execute(select(Redemption)).scalars()
    code = redemption.code
    assert (redemption.status, member(ada).points_available) == ("issued", 100)
    assert ada.emulator.shop(SHOP).discount(code).customer_ids == [
        f"gid://shopify/Customer/{ADA}"]
    page.get_by_text("100 points available", exact=True).wait_for()
    # The new code shows in the banner and under "Your codes", each with its store link.
    assert page.get_by_text(f"$5 off: {code}", exact=True).count() == 2
    link = page.get_by_role("link", name=f"Use in the store: {code}").first
    assert link.get_attribute("href") == f"https://{SHOP}/discount/{code}"
    page.get_by_role("button", name=f"Copy code {code}").first.click()
    assert page.evaluate("window.extensionHost.copied") == [code]
    assert page.locator("s-button", has_text="Copied").count() == 1
    assert serious_violations(page) == []
    page.screenshot(path=str(TEST_OUTPUT / "customer-account-redeemed.png"), full_page=True)


def test_a_code_shopify_could_not_create_spends_no_points(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    page.goto(account_host.publish(PAGE, sessionToken=ada.token(ADA)))
    page.evaluate("window.extensionHost.render()")
    page.get_by_text("600 points available", exact=True).wait_for()
    # Ada's referral discount for friends is created once she joins (a job after orders/paid):
    # the failure is for her reward's code, not for that one.
    deadline = time.monotonic() + 10
    while not ada.emulator.shop(SHOP).calls_to("discountCodeBasicCreate"):
        assert time.monotonic() < deadline, "the referral discount was never created"
        time.sleep(0.05)
    ada.emulator.fail_next("discountCodeBasicCreate", "user_error")
    page.get_by_role("button", name="Redeem $5 off for 500 points").click()

    banner = page.locator("s-banner[tone=critical]")
    banner.wait_for()
    assert banner.get_attribute("heading") == (
        "Shopify could not create your code; your points are back.")
    assert member(ada).points_available == 600
    assert page.get_by_text("600 points available", exact=True).count() == 1
    assert page.get_by_text("Your codes").count() == 0


def test_the_member_types_a_birthday_and_saves_it_with_the_keyboard(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    page.goto(account_host.publish(PAGE, sessionToken=ada.token(ADA)))
    page.evaluate("window.extensionHost.render()")
    field_input = page.get_by_label("Your birthday (MM-DD)")
    field_input.click()
    page.keyboard.type("14-03")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Enter your birthday as MM-DD, for example 03-14.", exact=True).wait_for()
    assert member(ada).birthday is None

    field_input.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("03-14")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Birthday saved: March 14", exact=True).wait_for()
    assert member(ada).birthday.strftime("%m-%d") == "03-14"


def test_the_page_reads_in_french_from_its_own_locale_file(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    page.goto(account_host.publish(PAGE, "fr", sessionToken=ada.token(ADA)))
    page.evaluate("window.extensionHost.render()")
    page.get_by_text("600 points disponibles", exact=True).wait_for()
    assert page.locator("s-page").get_attribute("heading") == "Récompenses"
    # The page's sentences come from its locale file; the app's own words (the default
    # catalog's titles, activity labels) from the app, in the language the page sends.
    assert page.get_by_role(
        "button", name="Échanger 5\u00a0$US de réduction contre 500 points").count() == 1
    assert page.get_by_text("Livraison gratuite", exact=True).count() == 1
    assert page.get_by_text("Récompense d’anniversaire", exact=True).count() == 1
    assert page.get_by_text(re.compile(r"^Commande ")).count() >= 1
    assert page.get_by_text(re.compile(r"^Order ")).count() == 0


def test_the_profile_block_shows_the_balance_and_links_to_the_loyalty_page(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    page.goto(account_host.publish(PROFILE, sessionToken=ada.token(ADA)))
    page.evaluate("window.extensionHost.render()")
    page.get_by_text("600 points available", exact=True).wait_for()
    assert page.get_by_text("135 points pending · Tier: Bronze", exact=True).count() == 1
    assert serious_violations(page) == []
    page.locator("s-section").screenshot(path=str(TEST_OUTPUT / "customer-account-profile.png"))
    page.get_by_role("link", name="View your rewards").click()
    assert page.evaluate("window.extensionHost.navigations") == ["extension://loyalty-account"]


def test_a_program_not_launched_yet_shows_nothing_in_customer_accounts(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    with ada.db.transaction() as session:
        session.execute(update(Shop).where(Shop.domain == SHOP).values(launched_at=None))
    for handle in (PAGE, PROFILE):
        with page.expect_response(lambda r: "/api/account/member" in r.url) as answer:
            page.goto(account_host.publish(handle, sessionToken=ada.token(ADA)))
            page.evaluate("window.extensionHost.render()")
        assert answer.value.status == 404
        page.locator("s-page, s-section").first.wait_for(state="detached")


def test_the_dev_pages_render_the_built_page_and_block_for_the_shops_first_member(
        page: Any, ada: RunningCheckout, extension_build: Build) -> None:  # noqa: F811
    ada.app.extensions["devstore"] = ada.emulator
    ada.app.extensions["devstore_shop"] = SHOP
    page.goto(f"{ada.url}/dev/customer-account/profile")
    page.get_by_text("600 points available", exact=True).wait_for()
    page.get_by_role("link", name="View your rewards").click()
    page.wait_for_url(f"{ada.url}/dev/customer-account?customer_id={ADA}&locale=en")
    page.get_by_text("Tier: Bronze", exact=True).wait_for()
    page.goto(f"{ada.url}/dev/customer-account?locale=fr")
    page.get_by_text("600 points disponibles", exact=True).wait_for()


CHECKOUT_REWARDS = "loyalty-checkout-rewards"


def test_the_checkout_block_spends_points_only_for_a_code_checkout_applied(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    page.goto(account_host.publish(CHECKOUT_REWARDS, sessionToken=ada.token(ADA),
                                   customer=buyer(ADA)))
    page.evaluate("window.extensionHost.render()")
    page.get_by_text("You have 600 points.", exact=True).wait_for()
    # Only what the balance affords is offered.
    assert page.get_by_role("button", name="Apply $10 off for 1,000 points").count() == 0
    page.get_by_role("button", name="Apply $5 off for 500 points").click()
    page.get_by_text("$5 off applied to your order.", exact=True).wait_for()

    with ada.db.sessions() as session:
        (redemption,) = session.execute(select(Redemption)).scalars()
    assert page.evaluate("window.extensionHost.discountChanges") == [
        {"type": "addDiscountCode", "code": redemption.code}]
    assert (redemption.status, member(ada).points_available) == ("issued", 100)
    page.get_by_text("You have 100 points.", exact=True).wait_for()
    assert serious_violations(page) == []
    page.locator("s-section").screenshot(path=str(TEST_OUTPUT / "checkout-rewards.png"))


def test_a_code_checkout_refuses_is_returned_with_its_points(
        page: Any, account_host: AccountHost, ada: RunningCheckout) -> None:  # noqa: F811
    page.goto(account_host.publish(
        CHECKOUT_REWARDS, sessionToken=ada.token(ADA), customer=buyer(ADA),
        discountCodeResult={"type": "error", "message": "Code cannot be combined"}))
    page.evaluate("window.extensionHost.render()")
    page.get_by_role("button", name="Apply $5 off for 500 points").click()
    page.get_by_text("This reward could not be applied to your order; your points are back.",
                     exact=True).wait_for()

    with ada.db.sessions() as session:
        (redemption,) = session.execute(select(Redemption)).scalars()
    assert (redemption.status, member(ada).points_available) == ("refunded", 600)
    assert ada.emulator.shop(SHOP).discount(redemption.code) is None
    assert page.get_by_text("You have 600 points.", exact=True).count() == 1
