"""The merchant changes the widget in the embedded admin and sees it on the storefront, in
Debian's Chromium: the real app and RQ workers, the emulator as Shopify, the storefront
rendered from the extension's Liquid with the app-data metafields Shopify holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devstore import ShopifyEmulator
from devstore.storefront import PAGE_PATH, create_storefront_app
from tests.browser.admin.test_admin_browser import browse, chromium  # noqa: F401 - fixtures
from tests.e2e.conftest import RunningApp, serve_app  # noqa: F401 - fixture
from tests.extensions.widget.tools import REPO_ROOT
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]

SHOP = "loop-demo.myshopify.com"
CUSTOMER = 7101
OUTPUT = REPO_ROOT / "test-output"


def _retype(page: Any, field: Any, text: str) -> None:
    """Click into a field, select what it holds and type over it, as a person does."""
    field.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_the_merchant_changes_label_title_and_colour_and_the_storefront_shows_them(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        live_server: Callable[[Any], str], browse: Callable[..., Any]) -> None:  # noqa: F811
    emulator.add_shop(SHOP)
    emulator.shop(SHOP).add_customer(CUSTOMER, first_name="Ada")
    running = serve_app(redis_url=redis_url)
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    storefront = live_server(create_storefront_app(emulator, SHOP))
    admin = browse()
    admin.goto(f"{running.url}/dev/admin?path=/")
    admin.frame_locator("iframe").get_by_text("steps done").wait_for()
    running.launch_program(SHOP)  # a new install is a draft the storefront does not show
    shop = browse()
    shop.goto(f"{storefront}{PAGE_PATH}?customer_id={CUSTOMER}")
    launcher = shop.locator("button[data-ll-toggle]")
    assert launcher.locator("span").first.inner_text() == "Rewards"

    admin.goto(f"{running.url}/dev/admin?path=/admin/settings/widget&user_id=55")
    frame = admin.frame_locator("iframe")
    _retype(admin, frame.get_by_label("Launcher label"), "Club points")
    _retype(admin, frame.get_by_label("Panel title"), "The Club")
    _retype(admin, frame.get_by_label("Accent", exact=True), "#AA0044")
    # The swatch follows the typed code.
    assert frame.get_by_label("Accent: pick a color", exact=True).input_value() == "#aa0044"
    frame.get_by_label("Launcher position").focus()
    admin.keyboard.press("ArrowDown")
    frame.get_by_role("button", name="Save").click()
    frame.get_by_role("status").get_by_text(
        "Saved as version 1. Your storefront shows it within a minute.").wait_for()

    running.work()

    shop.reload()
    assert launcher.locator("span").first.inner_text() == "Club points"
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(170, 0, 68)"
    box = launcher.bounding_box()
    assert box is not None and box["x"] < 1440 / 2, "the launcher moved to the left"
    launcher.click()
    title = shop.get_by_role("dialog").get_by_role("heading", level=2)
    title.wait_for()
    assert title.inner_text() == "The Club"
    assert shop.get_by_role("dialog").locator(".ll-head").evaluate(
        "el => getComputedStyle(el).backgroundColor") == "rgb(170, 0, 68)"
    OUTPUT.mkdir(exist_ok=True)
    shop.screenshot(path=str(OUTPUT / "storefront-widget-settings.png"))

    history = browse()
    history.goto(f"{running.url}/dev/admin?path=/admin/settings/history")
    changes = history.frame_locator("iframe").get_by_role("table").inner_text()
    assert "Accent color: #1f6f50 → #aa0044" in changes
    assert "Launcher label: Rewards → Club points" in changes


def test_the_widget_settings_page_has_no_serious_accessibility_violation(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator,  # noqa: F811
        browse: Callable[..., Any]) -> None:  # noqa: F811
    emulator.add_shop(SHOP)
    running = serve_app()
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse()
    page.goto(f"{running.url}/dev/admin?path=/")
    page.frame_locator("iframe").get_by_text("steps done").wait_for()
    token = emulator.mint_admin_session_token(SHOP, user_id=1)

    page.goto(f"{running.url}/admin/settings/widget?embedded=1&shop={SHOP}&dev_frame=1"
              f"&id_token={token}")
    page.get_by_label("Accent", exact=True).wait_for()

    assert serious_violations(page) == []
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "admin-widget-settings.png"), full_page=True)
