"""The thank-you preview and the order-status block pass axe-core, and the preview fits a phone.

The BUILT bundles render in the app's extension host (app/templates/previews/extension_host.html)
against the real app, as in test_extensions_browser.py: /dev/thank-you for a member and for a
guest, the panel while it loads and once the shopper answered the survey, and the order-status
block.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.extensions.checkout.conftest import (
    ADA,
    GUEST_ORDER_ID,
    MEMBER_ORDER_ID,
    RunningCheckout,
    yesterday_noon,
)
from tests.extensions.checkout.harness import TEST_OUTPUT, Build
from tests.extensions.checkout.test_extensions_browser import (  # noqa: F401 - fixtures
    ORDER_STATUS,
    THANK_YOU,
    ExtensionHost,
    browser,
    extension_host,
    open_extension,
    order_gid,
    page,
)
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]

PHONE = {"width": 375, "height": 740}


def _preview(backend: RunningCheckout, build: Build) -> None:
    """/dev/thank-you served for the backend's shop, with the emulator minting its tokens, around
    the bundle built for the backend's URL."""
    assert build.returncode == 0, build.output
    backend.app.extensions["devstore"] = backend.emulator
    backend.app.extensions["devstore_shop"] = "loyalty-loop-test.myshopify.com"


def test_the_thank_you_preview_for_a_member_has_no_serious_accessibility_violations(
        page: Any, checkout_backend: RunningCheckout,  # noqa: F811
        extension_build: Build) -> None:
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "27.00",
                                                        paid_at=yesterday_noon()))
    _preview(checkout_backend, extension_build)
    page.goto(f"{checkout_backend.url}/dev/thank-you")
    page.get_by_text("You earned 135 points").wait_for()
    assert serious_violations(page) == []

    # Every score is a control the keyboard reaches and a screen reader names.
    score = page.get_by_role("button", name="9 out of 10", exact=True)
    score.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Thank you! 50 points are on their way.").wait_for()
    (answer,) = checkout_backend.survey_responses()
    assert answer.score == 9
    assert serious_violations(page) == []
    page.screenshot(path=str(TEST_OUTPUT / "a11y-thank-you-answered.png"), full_page=True)


def test_the_thank_you_preview_for_a_guest_has_no_serious_accessibility_violations(
        page: Any, checkout_backend: RunningCheckout,  # noqa: F811
        extension_build: Build) -> None:
    checkout_backend.pay(checkout_backend.order_payload(
        GUEST_ORDER_ID, None, "27.00", paid_at=yesterday_noon(), email="guest@example.com"))
    _preview(checkout_backend, extension_build)
    page.goto(f"{checkout_backend.url}/dev/thank-you?order_id={GUEST_ORDER_ID}&customer_id=")
    page.get_by_text("You earned 135 points").wait_for()
    assert page.locator("s-banner").count() == 1
    assert serious_violations(page) == []


def test_the_thank_you_panel_while_it_loads_has_no_serious_accessibility_violations(
        page: Any, extension_host: ExtensionHost,  # noqa: F811
        checkout_backend: RunningCheckout) -> None:
    handle, target = THANK_YOU
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA), holdSessionToken=True,
        orderConfirmation={"order": {"id": order_gid(MEMBER_ORDER_ID)}, "isFirstOrder": False}))
    page.locator("s-skeleton-paragraph").first.wait_for()
    assert serious_violations(page) == []


def test_the_order_status_block_has_no_serious_accessibility_violations(
        page: Any, extension_host: ExtensionHost,  # noqa: F811
        checkout_backend: RunningCheckout) -> None:
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "27.00",
                                                        paid_at=yesterday_noon()))
    handle, target = ORDER_STATUS
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA),
        order={"id": order_gid(MEMBER_ORDER_ID), "name": "#9999"}))
    page.get_by_text("You earned 135 points").wait_for()
    assert serious_violations(page) == []


def test_the_thank_you_preview_lays_out_for_a_phone_screen(
        browser: Any, checkout_backend: RunningCheckout,  # noqa: F811
        extension_build: Build) -> None:
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "27.00",
                                                        paid_at=yesterday_noon()))
    _preview(checkout_backend, extension_build)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    try:
        phone = context.new_page()
        phone.goto(f"{checkout_backend.url}/dev/thank-you")
        phone.get_by_text("You earned 135 points").wait_for()
        # Without a viewport meta a phone browser lays the page out 980 px wide and shrinks it.
        layout_width = phone.evaluate("document.documentElement.clientWidth")
        scroll_width = phone.evaluate("document.documentElement.scrollWidth")
        phone.screenshot(path=str(TEST_OUTPUT / "a11y-thank-you-phone.png"), full_page=True)
        assert (layout_width, scroll_width) == (PHONE["width"], PHONE["width"])
    finally:
        context.close()
