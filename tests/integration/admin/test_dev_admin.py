"""The development admin frame: Shopify's admin stand-in, never part of a production app."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from app.config import load_settings
from app.shopify.verify import verify_admin_session_token
from devstore import ShopifyEmulator
from tests.conftest import TEST_API_KEY, TEST_API_SECRET, app_config
from tests.integration.admin.conftest import SHOP, AdminSession, install_shop
from tests.support.shopify_fakes import admin_token


@pytest.fixture
def devstore(admin: AdminSession) -> ShopifyEmulator:
    """The emulator as the demo installs it: it mints the admin's id_tokens."""
    emulator = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, app_url="https://loyalty.test")
    admin.app.extensions["devstore"] = emulator
    return emulator


def _frame_src(page: str) -> tuple[str, dict[str, list[str]]]:
    """The framed page's path and query."""
    src = html.unescape(re.search(r'<iframe src="([^"]+)"', page).group(1))
    parts = urlsplit(src)
    return parts.path, parse_qs(parts.query)


def test_the_frame_loads_the_page_with_an_id_token_minted_by_the_devstore(
        admin: AdminSession, devstore: ShopifyEmulator) -> None:
    response = admin.client.get(f"/dev/admin?shop={SHOP}&path=/admin/settings&user_id=7")
    path, query = _frame_src(response.get_data(as_text=True))
    check = verify_admin_session_token(admin.app.extensions["runtime"].settings,
                                       query["id_token"][0])
    assert (response.status_code, path) == (200, "/admin/settings")
    assert (query["shop"], query["embedded"], query["dev_frame"]) == ([SHOP], ["1"], ["1"])
    assert (check.ok, check.shop, check.user_id) == (True, SHOP, "7")


def test_the_framed_page_renders_with_the_local_stand_ins_and_may_be_framed_by_the_app(
        admin: AdminSession, devstore: ShopifyEmulator) -> None:
    frame = admin.client.get(f"/dev/admin?shop={SHOP}&path=/admin/dashboard")
    path, query = _frame_src(frame.get_data(as_text=True))
    page = admin.client.get(path, query_string={k: v[0] for k, v in query.items()})
    body = page.get_data(as_text=True)
    stand_ins = re.findall(r'<(?:script|style) data-stand-in="([a-z-]+)">', body)
    assert page.status_code == 200
    # App Bridge's stand-in first, then Polaris' tokens and components, as Shopify orders them.
    assert stand_ins == ["app-bridge", "polaris-tokens", "polaris"]
    assert body.index('data-stand-in="app-bridge"') < body.index("<script>")
    assert "idToken" in body and 'customElements.define(tag, element)' in body
    assert "--p-color-bg-surface:" in body
    assert "cdn.shopify.com" not in body
    assert page.headers["Content-Security-Policy"] == (
        f"frame-ancestors 'self' https://{SHOP} https://admin.shopify.com;")


def test_outside_the_frame_pages_load_shopifys_app_bridge_first_then_polaris(
        admin: AdminSession, devstore: ShopifyEmulator) -> None:
    body = admin.page("/admin/dashboard", dev_frame="0").get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", body)
    assert scripts[:2] == ['<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js">',
                           '<script src="https://cdn.shopify.com/shopifycloud/polaris.js">']
    assert "data-stand-in" not in body and "customElements.define" not in body


def test_a_token_in_the_query_is_used_as_is_without_a_devstore(admin: AdminSession) -> None:
    token = admin_token(SHOP, user_id="3")
    response = admin.client.get(f"/dev/admin?shop={SHOP}&path=/admin&id_token={token}")
    _, query = _frame_src(response.get_data(as_text=True))
    assert query["id_token"] == [token]


def test_without_a_devstore_or_a_token_the_frame_says_what_is_missing(
        admin: AdminSession) -> None:
    response = admin.client.get(f"/dev/admin?shop={SHOP}")
    assert (response.status_code, response.json["error"]) == (409, "no_devstore")


def test_the_demo_shop_is_the_default(admin: AdminSession, devstore: ShopifyEmulator) -> None:
    admin.app.extensions["devstore_shop"] = SHOP
    response = admin.client.get("/dev/admin?path=/admin/customers")
    path, query = _frame_src(response.get_data(as_text=True))
    assert (path, query["shop"]) == ("/admin/customers", [SHOP])


@pytest.mark.parametrize("path", ["//evil.example/admin", "https://evil.example/", "admin",
                                  "/\\evil.example"])
def test_the_frame_only_ever_loads_a_path_of_this_app(
        admin: AdminSession, devstore: ShopifyEmulator, path: str) -> None:
    response = admin.client.get("/dev/admin", query_string={"shop": SHOP, "path": path})
    assert (response.status_code, response.json["error"]) == (400, "invalid_path")


def test_fresh_tokens_for_app_bridges_stand_in(admin: AdminSession,
                                               devstore: ShopifyEmulator) -> None:
    response = admin.client.get(f"/dev/admin/id-token?shop={SHOP}&user_id=12")
    check = verify_admin_session_token(admin.app.extensions["runtime"].settings,
                                       response.json["id_token"])
    assert (check.ok, check.user_id, response.headers["Cache-Control"]) == (
        True, "12", "no-store")


def test_production_never_serves_the_frame(db) -> None:  # noqa: ANN001
    app = create_app(app_config(db, env="production", devstore_enabled=True))
    install_shop(db, SHOP)
    app.extensions["devstore"] = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET,
                                                 app_url="https://loyalty.test")
    client = app.test_client()
    assert client.get(f"/dev/admin?shop={SHOP}").status_code == 404
    assert client.get(f"/dev/admin/id-token?shop={SHOP}").status_code == 404
    assert "dev_admin" not in app.extensions


def test_a_production_environment_cannot_switch_the_devstore_on() -> None:
    settings = load_settings({"APP_ENV": "production", "DEVSTORE_ENABLED": "1",
                              "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": "s" * 40,
                              "TOKEN_ENCRYPTION_KEY": "x"})
    assert settings.devstore_enabled is False


def test_the_frame_is_absent_when_the_devstore_is_switched_off(db) -> None:  # noqa: ANN001
    app = create_app(app_config(db, devstore_enabled=False))
    assert app.test_client().get(f"/dev/admin?shop={SHOP}").status_code == 404
