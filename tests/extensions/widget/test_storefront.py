"""The storefront preview without a browser: what Shopify would render for whom, from what."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstore import Metafield, ShopifyEmulator
from devstore.demo import CUSTOMERS, DEMO_SHOP, start_demo
from devstore.storefront import (
    PAGE_PATH,
    create_storefront_app,
    liquid_customer,
    metafield_value,
)
from tests.extensions.widget.dom import parse
from tests.extensions.widget.tools import REPO_ROOT

SHOP = "preview-shop.myshopify.com"
CUSTOMER_ID = 9001
CUSTOMER_GID = f"gid://shopify/Customer/{CUSTOMER_ID}"


def put_metafield(emulator: ShopifyEmulator, namespace: str, key: str, type_: str,
                  value: str) -> None:
    """Store a customer metafield in the emulated shop, as metafieldsSet leaves it."""
    state = emulator.shop(SHOP)
    state.metafields[(CUSTOMER_GID, namespace, key)] = Metafield(
        id=len(state.metafields) + 1, owner_id=CUSTOMER_GID, namespace=namespace, key=key,
        type=type_, value=value, created_at="2026-11-27T10:00:00Z",
        updated_at="2026-11-27T10:00:00Z")


@pytest.fixture
def shop(emulator: ShopifyEmulator) -> ShopifyEmulator:
    """A shop with Ada, whose app-owned metafields hold 1,234 points and the Gold tier."""
    emulator.add_shop(SHOP, name="Preview Tea", currency="EUR")
    emulator.shop(SHOP).add_customer(CUSTOMER_ID, first_name="Ada", email="ada@example.com")
    own = f"app--{emulator.app_id}"
    put_metafield(emulator, own, "points", "number_integer", "1234")
    put_metafield(emulator, own, "tier", "single_line_text_field", "Gold")
    # Another app's (or the merchant's) field of the same key is not ours to show.
    put_metafield(emulator, "custom", "points", "number_integer", "999")
    return emulator


@pytest.fixture
def storefront(shop: ShopifyEmulator) -> Iterator[Any]:
    """A test client of the shop's storefront."""
    with create_storefront_app(shop, SHOP).test_client() as client:
        yield client


def test_a_customer_is_rendered_with_the_apps_own_metafields_from_shopify(shop):
    customer = liquid_customer(shop, SHOP, CUSTOMER_ID)

    assert customer == {
        "id": CUSTOMER_ID, "first_name": "Ada", "last_name": "", "email": "ada@example.com",
        "metafields": {"$app": {"points": {"value": 1234, "type": "number_integer"},
                                "tier": {"value": "Gold", "type": "single_line_text_field"}}}}
    assert liquid_customer(shop, SHOP, 404) is None


def test_metafield_values_reach_liquid_typed():
    assert [metafield_value("number_integer", "12"), metafield_value("boolean", "true"),
            metafield_value("json", '{"a": [1]}'), metafield_value("date", "2026-12-24"),
            metafield_value("number_decimal", "1.5")] == [12, True, {"a": [1]}, "2026-12-24", 1.5]


def test_a_members_page_shows_the_balance_shopify_holds_and_signs_them_in(storefront):
    page = storefront.get(f"{PAGE_PATH}?customer_id={CUSTOMER_ID}")

    root = parse(page.get_data(as_text=True))
    assert root.find("button", data_ll_toggle=True).text() == "Rewards 1234 pts"
    assert root.find("p", class_="ll-tier").text(even_if_hidden=True) == "Tier: Gold"
    assert root.find("header").text() == "Preview Tea · Hello, Ada"
    assert root.find(data_ll_root=True).attrs["data-ll-currency"] == "EUR"
    assert page.headers["Set-Cookie"] == (
        f"emu_customer_id={CUSTOMER_ID}; HttpOnly; Path=/; SameSite=Lax")


def test_a_guests_page_has_no_balance_and_ends_the_storefront_session(storefront):
    page = storefront.get(PAGE_PATH)

    root = parse(page.get_data(as_text=True))
    assert root.find("button", data_ll_toggle=True).text() == "Rewards"
    assert root.find("header").text() == "Preview Tea · Guest"
    assert page.headers["Set-Cookie"].startswith("emu_customer_id=; Expires=Thu, 01 Jan 1970")


def test_the_loyalty_page_has_the_block_in_a_section_and_the_embed(storefront):
    root = parse(storefront.get(f"{PAGE_PATH}/loyalty?customer_id={CUSTOMER_ID}&locale=fr")
                 .get_data(as_text=True))

    assert root.find(class_="shopify-section").find("section", data_ll_page=True).find(
        "p", class_="ll-balance").text() == "1234 points disponibles"
    assert root.find("div", data_ll_root=True).attrs["class"] == "ll ll--embed ll--right"


def test_logging_in_as_someone_new_makes_them_a_customer_without_points(storefront, shop):
    root = parse(storefront.get(f"{PAGE_PATH}?customer_id=77").get_data(as_text=True))

    assert root.find("button", data_ll_toggle=True).text() == "Rewards 0 pts"
    assert 77 in shop.shop(SHOP).customers


@pytest.mark.parametrize("customer_id", ["ada", "-1", "1" * 21])
def test_a_customer_id_that_is_no_shopify_id_is_400(storefront, customer_id):
    assert storefront.get(f"{PAGE_PATH}?customer_id={customer_id}").status_code == 400


def test_a_shop_the_emulator_does_not_have_is_404(shop):
    with create_storefront_app(shop, "nowhere.myshopify.com").test_client() as client:
        page = client.get(PAGE_PATH)

    assert (page.status_code, page.get_data(as_text=True)) == (
        404, "nowhere.myshopify.com is not a shop of this Shopify emulator")


def test_assets_are_served_and_nothing_outside_assets_is(storefront):
    script = storefront.get(f"{PAGE_PATH}/assets/loyalty-widget.js")

    assert (script.status_code, script.mimetype) == (200, "text/javascript")
    assert script.data == (REPO_ROOT / "extensions/loyalty-widget/assets/loyalty-widget.js"
                           ).read_bytes()
    assert storefront.get(f"{PAGE_PATH}/assets/..%2Fblocks%2Flauncher.liquid").status_code == 404
    assert storefront.get(f"{PAGE_PATH}/assets/missing.js").status_code == 404


def test_the_demo_serves_the_storefront_beside_the_app_and_prints_its_links(tmp_path,
                                                                           monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    demo = start_demo(database_url=f"sqlite:///{tmp_path / 'demo.db'}", port=0)
    try:
        demo.emulator.add_shop(DEMO_SHOP)
        links = [path for path, _ in demo.app.extensions["demo_links"]
                 if path.startswith(PAGE_PATH)]
        ada = CUSTOMERS[0]["id"]
        assert links == [f"{PAGE_PATH}?customer_id={ada}", PAGE_PATH,
                         f"{PAGE_PATH}/loyalty?customer_id={ada}"]
        with httpx.Client(base_url=demo.app_url, timeout=10) as browser:
            assert [browser.get(link).status_code for link in links] == [200, 200, 200]
            # Not installed yet: the app itself answers through the emulator's signed proxy.
            program = browser.get("/apps/loyalty/program")
            assert (program.status_code, program.json()["error"]) == (404, "shop_not_installed")
            assert browser.get("/healthz").status_code == 200
    finally:
        demo.stop()


def test_the_blocks_call_the_proxy_path_the_app_wrote_on_its_installation(storefront, shop):
    assert parse(storefront.get(PAGE_PATH).get_data(as_text=True)).find(
        "div", data_ll_root=True).attrs["data-ll-proxy"] == "/apps/loyalty"
    state = shop.shop(SHOP)
    state.metafields[(state.installation_gid, f"app--{shop.app_id}", "proxy_path")] = Metafield(
        id=99, owner_id=state.installation_gid, namespace=f"app--{shop.app_id}",
        key="proxy_path", type="single_line_text_field", value="/a/rewards",
        created_at="2026-12-05T10:00:00Z", updated_at="2026-12-05T10:00:00Z")

    page = parse(storefront.get(f"{PAGE_PATH}/loyalty").get_data(as_text=True))

    assert [root.attrs["data-ll-proxy"] for root in page.find_all(data_ll_root=True)] == [
        "/a/rewards", "/a/rewards"]


def test_the_demo_storefront_follows_the_proxy_where_the_merchant_moved_it(tmp_path,
                                                                         monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    demo = start_demo(database_url=f"sqlite:///{tmp_path / 'demo.db'}", port=0)
    try:
        demo.emulator.add_shop(DEMO_SHOP)
        demo.emulator.customize_app_proxy(DEMO_SHOP, "a", "rewards")
        with httpx.Client(base_url=demo.app_url, timeout=10) as browser:
            # The app answers through the emulator's signed proxy at the new path only.
            program = browser.get("/a/rewards/program")
            assert (program.status_code, program.json()["error"]) == (404, "shop_not_installed")
            old = browser.get("/apps/loyalty/program")
            assert old.status_code == 404
            assert "shop_not_installed" not in old.text
    finally:
        demo.stop()


def test_the_storefront_and_the_demo_import_without_python_liquid():
    blocked = ("import sys; sys.modules['liquid'] = None; "
               "import devstore.storefront, devstore.demo; print('ok')")
    result = subprocess.run([sys.executable, "-c", blocked], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60, check=False)

    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr
