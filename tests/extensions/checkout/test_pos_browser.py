"""The BUILT POS extension (extensions/pos-loyalty) in Chromium against the REAL app.

The tile (`pos.home.tile.render`), the modal (`pos.home.modal.render`) and the customer
details block (`pos.customer-details.block.render`) render in the app's POS host
(app/templates/previews/pos_host.html) on their own loopback origin, calling the running app's
/api/pos/* on another origin (CORS preflights included) with POS staff session tokens minted
by the emulator; Ada's orders are paid through signed webhooks. The same host is reachable as
/dev/pos, which the last test opens. Writes test-output/pos.png (docs/pos.png is a copy).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from app.db import utcnow
from app.loyalty.program import save_settings
from app.models import Member, Redemption, Shop
from app.web.pos_previews import HANDLE, cart_lines, host_config
from tests.extensions.checkout.conftest import SHOP, RunningCheckout
from tests.extensions.checkout.harness import REPO_ROOT, TEST_OUTPUT, Build, served_on_loopback
from tests.extensions.checkout.test_extensions_browser import (  # noqa: F401 - fixtures
    browser,
    page,
)
from tests.support.accessibility import serious_violations

pytestmark = pytest.mark.browser

HOST_PAGE = Environment(loader=FileSystemLoader(REPO_ROOT / "app" / "templates"),
                        autoescape=True).get_template("previews/pos_host.html")
EARLY_ORDER, RECENT_ORDER = 820982911946154701, 820982911946154702
# The README's screenshot (docs/pos.png is a copy).
SCREENSHOT = TEST_OUTPUT / "pos.png"
# The POS hands the extension customer ids as JavaScript numbers (CustomerApi `id: number`), so
# Ada here has an id as Shopify's real ones are, below 2^53; the webhook sample's own customer
# id (115310627314723954) would not survive a JavaScript number.
ADA = 7_310_627_314_723_955


@dataclass
class PosHost:
    """Serves host pages, each one a configured POS target around the built bundle."""

    build: Build
    url: str = ""
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def publish(self, view: str, token: str, language: str = "en", *,
                customer_id: int | None = ADA, subtotal: str = "24.50",
                gift_card: str | None = None, **config: Any) -> str:
        """A new host page for one target, the cart holding `customer_id` (and a gift card
        of `gift_card` among its lines); returns its URL."""
        name = uuid.uuid4().hex
        built = host_config(view, language, f"/bundle/{HANDLE}.js", customer_id=ADA,
                            subtotal=subtotal, line_items=cart_lines(subtotal, gift_card),
                            manualRender=True, sessionToken=token, **config)
        if customer_id is None:
            built["cart"].pop("customer")
        self.pages[name] = built
        return f"{self.url}/page/{name}"

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "page" and parts[1] in self.pages:
            response = Response(HOST_PAGE.render(config=self.pages[parts[1]]),
                                mimetype="text/html")
        elif request.path == f"/bundle/{HANDLE}.js":
            response = Response(self.build.bundle(HANDLE).read_bytes(),
                                mimetype="text/javascript")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)


@pytest.fixture(scope="module")
def pos_host(extension_build: Build) -> Iterator[PosHost]:
    """The host pages' own origin on a free loopback port."""
    assert extension_build.returncode == 0, extension_build.output
    with served_on_loopback(PosHost(extension_build)) as host:
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


def staff_token(backend: RunningCheckout) -> str:
    """What `shopify.session.getSessionToken()` gives the staff user logged into POS."""
    return backend.emulator.mint_pos_session_token(SHOP, ttl=300)


def points(backend: RunningCheckout) -> int:
    with backend.db.sessions() as session:
        return session.execute(select(Member.points_available).where(
            Member.customer_id == ADA)).scalar_one()


def open_target(tab: Any, url: str) -> None:
    tab.goto(url)
    tab.evaluate("window.extensionHost.render()")


def test_staff_redeem_a_reward_with_the_keyboard_and_its_code_is_applied_to_the_cart(
        page: Any, pos_host: PosHost, ada: RunningCheckout) -> None:  # noqa: F811
    open_target(page, pos_host.publish("modal", staff_token(ada)))
    page.get_by_text("600 points", exact=True).wait_for()
    assert page.locator("s-page").get_attribute("heading") == "Loyalty"
    assert page.get_by_text("Tier: Bronze", exact=True).count() == 1
    assert page.get_by_text("135 points pending", exact=True).count() == 1
    # 24.50 × 5 points at Bronze's 1, rounded down once, as orders/paid will credit it.
    assert page.get_by_text("This order will earn 122 points.", exact=True).count() == 1
    assert page.get_by_role("button", name="Redeem $10 off").is_disabled()
    assert serious_violations(page) == []

    # Tab from the top of the page to the reward's button, then Enter.
    redeem = page.get_by_role("button", name="Redeem $5 off")
    page.locator("body").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if redeem.evaluate("(button) => button.matches(':focus-within')"):
            break
    assert redeem.evaluate("(button) => button.matches(':focus-within')")
    page.keyboard.press("Enter")
    page.get_by_text("$5 off was added to the cart.", exact=True).wait_for()

    with ada.db.sessions() as session:
        (redemption,) = session.execute(select(Redemption)).scalars()
    assert page.evaluate("window.extensionHost.cartCodes") == [redemption.code]
    assert (redemption.status, points(ada)) == ("issued", 100)
    assert ada.emulator.shop(SHOP).discount(redemption.code).customer_ids == [
        f"gid://shopify/Customer/{ADA}"]
    page.get_by_text("100 points", exact=True).wait_for()
    assert serious_violations(page) == []
    TEST_OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    (read,) = ada.slot.requests_to("GET", f"/api/pos/customers/{ADA}")[:1]
    assert read["query"] == "subtotal=24.50&locale=en-US"
    assert read["origin"] == pos_host.url
    assert ada.slot.requests_to("OPTIONS", "/api/pos/redeem"), "a CORS preflight was expected"


def test_a_code_the_cart_refuses_is_returned_with_its_points(
        page: Any, pos_host: PosHost, ada: RunningCheckout) -> None:  # noqa: F811
    open_target(page, pos_host.publish("modal", staff_token(ada), refuseCodes=True))
    page.get_by_role("button", name="Redeem $5 off").click()
    page.get_by_text("The cart did not take this reward; the points are back.",
                     exact=True).wait_for()
    with ada.db.sessions() as session:
        (redemption,) = session.execute(select(Redemption)).scalars()
    assert (redemption.status, points(ada)) == ("refunded", 600)
    assert ada.emulator.shop(SHOP).discount(redemption.code) is None
    assert page.evaluate("window.extensionHost.cartCodes") == []
    assert page.get_by_text("600 points", exact=True).count() == 1


def add_line_like(tab: Any, line: int, uuid: str, price: float, subtotal: str) -> None:
    """The host's cart gains a copy of its `line`-th line at `price`, the new subtotal with it
    (as POS updates `cart.current` when staff add an item)."""
    tab.evaluate("""([line, uuid, price, subtotal]) => {
      const cart = window.shopify.cart.current.value;
      const added = {...cart.lineItems[line], uuid, price};
      window.extensionHost.setCart({subtotal, lineItems: [...cart.lineItems, added]});
    }""", [line, uuid, price, subtotal])


def test_a_gift_card_in_the_cart_earns_what_the_paid_order_will(
        page: Any, pos_host: PosHost, ada: RunningCheckout) -> None:  # noqa: F811
    """$24.50 of tea and a $50 gift card: the gift card earns nothing by default, so the modal
    shows what the tea earns, as orders/paid will credit the order; adding a gift card to the
    open cart changes nothing, adding tea does."""
    open_target(page, pos_host.publish("modal", staff_token(ada), subtotal="74.50",
                                       gift_card="50.00"))
    page.get_by_text("This order will earn 122 points.", exact=True).wait_for()
    assert serious_violations(page) == []
    with page.expect_response(lambda answer: "subtotal=99.50" in answer.url
                              and answer.request.method == "GET"):
        add_line_like(page, 1, "second-card", 25, "99.50")
    page.get_by_text("This order will earn 122 points.", exact=True).wait_for()
    add_line_like(page, 0, "more-tea", 10, "109.50")
    # (24.50 + 10) × 5 = 172.5, rounded down once.
    page.get_by_text("This order will earn 172 points.", exact=True).wait_for()
    reads = [r["query"] for r in ada.slot.requests_to("GET", f"/api/pos/customers/{ADA}")]
    assert reads == ["subtotal=74.50&gift_cards=50.00&locale=en-US",
                     "subtotal=99.50&gift_cards=75.00&locale=en-US",
                     "subtotal=109.50&gift_cards=75.00&locale=en-US"]


def test_with_pos_earning_off_the_modal_says_the_order_earns_nothing(
        page: Any, pos_host: PosHost, ada: RunningCheckout) -> None:  # noqa: F811
    with ada.db.transaction() as session:
        shop_id = session.execute(select(Shop.id).where(Shop.domain == SHOP)).scalar_one()
        save_settings(session, shop_id, {"earning": {"pos_orders_earn": False}},
                      changed_by="test", now=utcnow())
    open_target(page, pos_host.publish("modal", staff_token(ada)))
    page.get_by_text("In-store orders do not earn points in this shop.", exact=True).wait_for()


def test_the_tile_shows_the_cart_customers_points_and_opens_the_modal(
        page: Any, pos_host: PosHost, ada: RunningCheckout) -> None:  # noqa: F811
    open_target(page, pos_host.publish("tile", staff_token(ada)))
    page.get_by_text("600 points · Bronze").wait_for()
    tile = page.get_by_role("button", name="Loyalty 600 points · Bronze")
    tile.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("window.extensionHost.modalsPresented") == 1
    assert serious_violations(page) == []

    # Without a customer in the cart the tile says what to do and cannot be tapped; once the
    # cart gains one, it shows their points.
    open_target(page, pos_host.publish("tile", staff_token(ada), customer_id=None))
    empty = page.get_by_role("button", name="Loyalty Add a customer to the cart")
    assert empty.is_disabled()
    page.evaluate(f"window.extensionHost.setCart({{customer: {{id: {ADA}}}}})")
    page.get_by_role("button", name="Loyalty 600 points · Bronze").wait_for()


def test_the_customer_details_block_shows_balance_tier_and_rewards_to_redeem(
        page: Any, pos_host: PosHost, ada: RunningCheckout) -> None:  # noqa: F811
    open_target(page, pos_host.publish("customer", staff_token(ada)))
    page.get_by_text("600 points", exact=True).wait_for()
    assert page.get_by_text("Tier: Bronze", exact=True).count() == 1
    # Free shipping (400) and $5 off (500) are within 600 points.
    assert page.get_by_text("Rewards to redeem now: 2", exact=True).count() == 1
    assert serious_violations(page) == []


def test_the_modal_reads_in_french_from_its_own_locale_file(
        page: Any, pos_host: PosHost, ada: RunningCheckout) -> None:  # noqa: F811
    open_target(page, pos_host.publish("modal", staff_token(ada), "fr"))
    page.get_by_text("Cette commande rapportera 122 points.", exact=True).wait_for()
    assert page.locator("s-page").get_attribute("heading") == "Fidélité"
    # Default reward titles are the app's own words, sent in the POS language.
    assert page.get_by_role("button", name=re.compile(r"^Utiliser 5\s\$\s?US de réduction$")
                            ).count() == 1


def test_the_dev_pages_render_the_built_extension_for_the_shops_first_member(
        page: Any, ada: RunningCheckout, extension_build: Build) -> None:  # noqa: F811
    ada.app.extensions["devstore"] = ada.emulator
    ada.app.extensions["devstore_shop"] = SHOP
    page.goto(f"{ada.url}/dev/pos/tile")
    page.get_by_role("button", name="Loyalty 600 points · Bronze").click()
    page.wait_for_url(f"{ada.url}/dev/pos?customer_id={ADA}&locale=en&subtotal=24.50")
    page.get_by_text("This order will earn 122 points.", exact=True).wait_for()
    page.goto(f"{ada.url}/dev/pos?subtotal=74.50&gift_card=50.00")
    page.get_by_text("This order will earn 122 points.", exact=True).wait_for()
    page.goto(f"{ada.url}/dev/pos/customer?locale=fr")
    page.get_by_text("Niveau : Bronze", exact=True).wait_for()
    assert Path(extension_build.bundle(HANDLE)).is_file()
