"""Zero layout shift on every storefront, checkout and account surface, measured in Chromium.

Each page records Chromium's `layout-shift` entries (PerformanceObserver, buffered: true) from
its first script on; shifts within 500 ms of a click or key press are left out, as Cumulative
Layout Shift leaves them out (`hadRecentInput`). Each surface first paints a skeleton (the
blocks' server-rendered markup with reserved heights; the UI extensions' <s-skeleton-*>), then
its live data: the sum of the remaining shifts must be exactly 0, so nothing on the page moves
once the skeleton is there.

Surfaces: the theme app extension against the real demo (launcher opened, loyalty page block,
cart block, for a member and a guest), and the BUILT checkout, customer account and POS bundles
against the real app, as tests/extensions/checkout runs them: on the app's own development
previews (/dev/thank-you, /dev/customer-account and its profile block), and in the hosts of
their browser tests for a guest's thank-you block, the order-status and checkout rewards
blocks, and the POS modal and customer details block. POS offers no skeleton component: its
loading state is the ready layout with its loading text, and the shifts count from that.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.db import utcnow
from app.models import Member
from tests.extensions.checkout.conftest import (  # noqa: F401 - fixtures
    ADA,
    SHOP,
    RunningCheckout,
    app_slot,
    buyer,
    checkout_backend,
    extension_build,
)
from tests.extensions.checkout.harness import Build
from tests.extensions.checkout.test_account_browser import (  # noqa: F401 - fixtures
    CHECKOUT_REWARDS,
    account_host,
)
from tests.extensions.checkout.test_extensions_browser import (  # noqa: F401 - fixtures
    ORDER_STATUS,
    THANK_YOU,
    extension_host,
)
from tests.extensions.checkout.test_pos_browser import (  # noqa: F401 - fixtures
    ada,
    pos_host,
    staff_token,
)
from tests.extensions.widget.test_widget_browser import ADA as ADA_OF_THE_DEMO
from tests.extensions.widget.test_widget_browser import (  # noqa: F401 - fixtures
    GUEST_PAGE,
    LOYALTY_PAGE,
    MEMBER_PAGE,
    PAGE_PATH,
    Visit,
    browser,
    demo,
    visit,
)

pytestmark = pytest.mark.browser

# Every shift, with what moved, so a failure says where to look.
RECORD_SHIFTS = """
window.__shifts = [];
window.__skeleton = false;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__shifts.push({
    value: e.value, input: e.hadRecentInput, at: Math.round(e.startTime),
    before: e.startTime < window.__after,
    moved: (e.sources || []).map((s) => s.node
      ? s.node.nodeName + '.' + (s.node.className || '') : '?'),
  });
}).observe({type: 'layout-shift', buffered: true});
// The UI extensions paint their skeleton from script: shifts count from the frame after the
// one that painted it (the storefront blocks' skeleton is the server's HTML: from the start).
window.__after = 0;
// POS has no skeleton component: its loading state is the ready layout with its loading text.
const skeletonShown = () => document.querySelector('s-skeleton-paragraph')
  || (window.__loadingText && document.body
      && document.body.textContent.includes(window.__loadingText));
new MutationObserver((_, observer) => {
  if (!skeletonShown()) return;
  observer.disconnect();
  window.__skeleton = true;
  window.__after = Infinity;
  // What follows a block on the page, from the moment its skeleton is there.
  if (window.__restOfPage) {
    const rest = document.createElement('p');
    rest.id = 'rest-of-page';
    rest.textContent = 'The rest of the page.';
    document.body.append(rest);
  }
  requestAnimationFrame(() => requestAnimationFrame(() => { window.__after = performance.now(); }));
}).observe(document, {subtree: true, childList: true});
"""
SETTLED = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def shifts(page: Any) -> tuple[float, list[dict[str, Any]]]:
    """(the shifts after the skeleton not caused by input, summed; every recorded shift) once
    layout has settled."""
    page.evaluate(SETTLED)
    page.wait_for_timeout(200)
    recorded = page.evaluate("window.__shifts")
    return sum(s["value"] for s in recorded if not (s["input"] or s["before"])), recorded


def measured_visit(visit: Any, path: str, **kwargs: Any) -> Visit:  # noqa: F811
    """A storefront visit that records every shift with its sources."""
    v = visit(path, **kwargs)
    # The page is loaded already: record again from a reload, the script in place first.
    v.page.add_init_script(RECORD_SHIFTS)
    v.page.reload(wait_until="networkidle")
    return v


# --- the theme app extension ------------------------------------------------------------------

CART_PAGE = f"{PAGE_PATH}/cart"
PHONE = (375, 667)


@pytest.mark.parametrize("viewport", [(1280, 800), PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", [MEMBER_PAGE, GUEST_PAGE], ids=["member", "guest"])
def test_the_launcher_panel_filling_with_live_data_moves_nothing(visit, path, viewport):  # noqa: F811
    v = measured_visit(visit, path, viewport=viewport)

    v.open_launcher()

    cls, recorded = shifts(v.page)
    assert cls == 0, recorded


@pytest.mark.parametrize("path", [f"{LOYALTY_PAGE}?customer_id={ADA_OF_THE_DEMO['id']}",
                                  LOYALTY_PAGE], ids=["member", "guest"])
def test_the_loyalty_page_block_filling_with_live_data_moves_nothing(visit, path):  # noqa: F811
    v = measured_visit(visit, path)
    v.wait_until_rendered()

    cls, recorded = shifts(v.page)
    assert cls == 0, recorded


@pytest.mark.parametrize("viewport", [(1280, 800), PHONE], ids=["desktop", "phone"])
def test_the_cart_block_filling_with_rewards_and_applying_one_moves_nothing(visit, viewport):  # noqa: F811
    v = measured_visit(visit, f"{CART_PAGE}?customer_id={ADA_OF_THE_DEMO['id']}",
                       viewport=viewport)
    v.page.wait_for_selector(".ll--cart [data-ll-cart-rewards] li", state="visible")
    v.page.click(".ll--cart button[aria-label='Apply $5 off to your cart']")
    v.page.wait_for_function(
        "document.querySelector('.ll--cart [data-ll-status]').textContent.includes('applied')")

    cls, recorded = shifts(v.page)
    assert cls == 0, recorded


def test_the_cart_block_for_a_guest_moves_nothing(visit):  # noqa: F811
    v = measured_visit(visit, CART_PAGE)

    cls, recorded = shifts(v.page)
    assert cls == 0, recorded


# --- the checkout and customer account UI extensions, on the app's development previews -------


@pytest.fixture
def previews(checkout_backend: RunningCheckout,  # noqa: F811
             extension_build: Build) -> RunningCheckout:  # noqa: F811
    """The real app with the built bundles and the emulator behind its /dev previews; Ada paid
    $120 of tea 40 days ago and $27 yesterday."""
    assert extension_build.returncode == 0, extension_build.output
    checkout_backend.app.extensions["devstore"] = checkout_backend.emulator
    checkout_backend.app.extensions["devstore_shop"] = SHOP
    day = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    checkout_backend.pay(checkout_backend.order_payload(
        820982911946154600, ADA, "60.00", quantity=2, paid_at=day - timedelta(days=40)))
    checkout_backend.pay(checkout_backend.order_payload(
        820982911946154601, ADA, "13.50", quantity=2, paid_at=day - timedelta(days=1)))
    return checkout_backend


@pytest.fixture
def preview_page(browser: Any) -> Iterator[Any]:  # noqa: F811
    """A fresh page recording shifts from its first script."""
    context = browser.new_context(viewport={"width": 640, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.add_init_script(RECORD_SHIFTS)
    yield page
    context.close()


# The blocks sit among the page's other content (the order's summary below the thank-you
# block, the profile page's other cards, the rest of checkout): a paragraph standing for it
# follows each block, and a block whose data is taller or shorter than its skeleton moves it.
# The loyalty page is the account page's whole content; its skeleton holds its first sections.
REST_OF_PAGE = "window.__restOfPage = true;"


@pytest.mark.parametrize("path, ready, followed", [
    ("/dev/thank-you", "You earned 135 points", True),
    ("/dev/customer-account", "Tier: Bronze", False),
    ("/dev/customer-account/profile", "600 points available", True),
], ids=["thank-you", "account-page", "account-profile"])
def test_the_ui_extensions_swap_their_skeleton_for_data_without_moving_anything(
        preview_page, previews, path, ready, followed):
    if followed:
        preview_page.add_init_script(REST_OF_PAGE)
    preview_page.goto(f"{previews.url}{path}")
    preview_page.get_by_text(ready, exact=True).first.wait_for()

    cls, recorded = shifts(preview_page)
    assert preview_page.evaluate("window.__skeleton"), "no skeleton was painted first"
    assert preview_page.locator("#rest-of-page").count() == int(followed)
    assert cls == 0, recorded


def shifts_after_release(page: Any, url: str, loading: Any, ready: Any
                         ) -> tuple[float, list[dict[str, Any]]]:
    """Render a host page whose session token is held, wait for the `loading` locator, let
    it paint, release the token, wait for the `ready` locator: the shifts after the loading
    state (`shifts`)."""
    page.goto(url)
    page.evaluate("window.extensionHost.render()")
    loading.wait_for()
    page.evaluate(SETTLED)
    page.evaluate("window.extensionHost.openSessionTokenGate()")
    ready.wait_for()
    return shifts(page)


ORDER_ID = 820982911946154601
# A guest's order, paid: its points wait to be claimed.
GUEST_ORDER_ID = 820982911946154609
# Ada's available balance for each case of the checkout block: the default rewards cost 400,
# 500, 1,000 and 2,500 points, so 100 affords none, 450 one, 600 two and 1,200 three.
BALANCES = {"no-reward": 100, "one-reward": 450, "two-rewards": 600, "three-rewards": 1200}
# Its two rows hold this many Apply buttons; the others say how many points are to go.
APPLY_BUTTONS = {"no-reward": 0, "one-reward": 1, "two-rewards": 2, "three-rewards": 2}


def publish(previews: RunningCheckout, extension_host: Any, account_host: Any,  # noqa: F811
            surface: str) -> tuple[str, str]:
    """(the host page of one case, its session token held; the text that says it is ready)."""
    token = previews.token(ADA)
    if surface == "thank-you-guest":
        payload = previews.order_payload(GUEST_ORDER_ID, None, "27.00",
                                         paid_at=utcnow() - timedelta(days=1),
                                         email="guest@example.com")
        previews.pay(payload)
        return extension_host.publish(
            *THANK_YOU, sessionToken=previews.token(customer_id=None), holdSessionToken=True,
            orderConfirmation={"order": {"id": f"gid://shopify/Order/{GUEST_ORDER_ID}"},
                               "isFirstOrder": True}
        ), "Create account"
    if surface == "order-status":
        return extension_host.publish(
            *ORDER_STATUS, sessionToken=token, holdSessionToken=True, customer=buyer(ADA),
            order={"id": f"gid://shopify/Order/{ORDER_ID}", "name": "#1001"},
        ), "You earned 135 points"
    balance = BALANCES[surface.removeprefix("checkout-")]
    with previews.db.transaction() as session:
        session.execute(update(Member).where(Member.customer_id == ADA)
                        .values(points_available=balance))
    return account_host.publish(
        CHECKOUT_REWARDS, sessionToken=token, holdSessionToken=True, customer=buyer(ADA),
    ), f"You have {balance:,} points."


@pytest.mark.parametrize("surface", [
    "thank-you-guest", "order-status", *(f"checkout-{case}" for case in BALANCES)])
def test_the_blocks_in_their_test_hosts_swap_their_skeleton_for_data_without_moving_anything(
        preview_page, previews, extension_host, account_host, surface):  # noqa: F811
    """The blocks in the hosts their browser tests use, the session token held until the
    skeleton is on screen: a guest's thank-you block, the order-status block, and the checkout
    block for a member who affords no reward, one, two or three."""
    url, ready = publish(previews, extension_host, account_host, surface)
    preview_page.add_init_script(REST_OF_PAGE)
    cls, recorded = shifts_after_release(
        preview_page, url, preview_page.locator("s-skeleton-paragraph").first,
        preview_page.get_by_text(ready, exact=True).first)
    assert preview_page.locator("#rest-of-page").count() == 1
    assert cls == 0, recorded
    if surface.startswith("checkout-"):
        case = surface.removeprefix("checkout-")
        assert preview_page.locator("s-stack[direction='inline']").count() == 2
        assert preview_page.locator("s-button").count() == APPLY_BUTTONS[case]


POS_LOADING = "Loading loyalty…"


@pytest.mark.parametrize("view, ready, followed", [
    ("modal", "This order will earn 122 points.", False),
    ("customer", "Rewards to redeem now: 2", True),
], ids=["pos-modal", "pos-customer-details"])
def test_the_pos_surfaces_swap_their_loading_layout_for_data_without_moving_anything(
        preview_page, pos_host, ada, view, ready, followed):  # noqa: F811
    """The modal is a whole screen (nothing follows it, its sections must not move); the
    customer details block sits above the screen's other blocks."""
    preview_page.add_init_script(f"window.__loadingText = {POS_LOADING!r};")
    if followed:
        preview_page.add_init_script(REST_OF_PAGE)
    cls, recorded = shifts_after_release(
        preview_page, pos_host.publish(view, staff_token(ada), holdSessionToken=True),
        preview_page.get_by_text(POS_LOADING, exact=True),
        preview_page.get_by_text(ready, exact=True))
    assert preview_page.evaluate("window.__skeleton"), "no loading layout was painted first"
    assert preview_page.locator("#rest-of-page").count() == int(followed)
    assert cls == 0, recorded
