"""/dev/thank-you: a development preview that production never serves."""

from __future__ import annotations

from pathlib import Path

from app import create_app
from app.db import Database
from tests.conftest import app_config
from tests.integration.checkout.conftest import ADA, SHOP, CheckoutShop

ORDER_ID = 820982911946154508


def test_production_never_registers_the_previews(db: Database) -> None:
    app = create_app(app_config(db, env="production"))
    assert "previews" not in app.blueprints
    assert app.test_client().get("/dev/thank-you").status_code == 404
    assert app.test_client().get("/dev/session-token").status_code == 404


def test_a_disabled_devstore_registers_no_previews(db: Database) -> None:
    app = create_app(app_config(db, devstore_enabled=False))
    assert "previews" not in app.blueprints


def test_development_lists_the_preview_among_the_demo_links(checkout: CheckoutShop) -> None:
    assert ("/dev/thank-you", "thank-you page preview (built bundle, emulator session token)"
            ) in checkout.app.extensions["demo_links"]


def test_without_a_running_emulator_the_preview_says_how_to_start_one(
        checkout: CheckoutShop) -> None:
    response = checkout.client.get("/dev/thank-you")
    assert response.status_code == 404
    assert "make demo" in response.get_data(as_text=True)


def test_the_preview_page_hosts_the_bundle_for_the_newest_order_and_its_customer(
        checkout: CheckoutShop, tmp_path: Path) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    bundle = tmp_path / "loyalty-thank-you.js"
    bundle.write_text('var appUrl = "https://loyalty.test";')
    checkout.app.extensions.update(devstore=checkout.emulator, devstore_shop=SHOP,
                                   thank_you_bundle=bundle)

    page = checkout.client.get("/dev/thank-you").get_data(as_text=True)

    assert f'"gid://shopify/Order/{ORDER_ID}"' in page
    assert f"/dev/session-token?shop={SHOP}\\u0026customer_id={ADA}" in page
    served = checkout.client.get("/dev/thank-you/bundle.js")
    assert (served.mimetype, served.get_data(as_text=True)) == (
        "text/javascript", 'var appUrl = "https://loyalty.test";')


def test_a_bundle_built_for_another_app_url_is_explained_not_served(
        checkout: CheckoutShop, tmp_path: Path) -> None:
    bundle = tmp_path / "loyalty-thank-you.js"
    bundle.write_text('var appUrl = "http://127.0.0.1:9999";')
    checkout.app.extensions.update(devstore=checkout.emulator, devstore_shop=SHOP,
                                   thank_you_bundle=bundle)

    response = checkout.client.get(f"/dev/thank-you?order_id={ORDER_ID}&customer_id={ADA}")

    assert response.status_code == 409
    assert "SHOPIFY_APP_URL=https://loyalty.test npm run build" in response.get_data(
        as_text=True)


def test_the_preview_session_token_is_one_the_checkout_api_accepts(
        checkout: CheckoutShop) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    checkout.app.extensions.update(devstore=checkout.emulator, devstore_shop=SHOP)

    token = checkout.client.get(f"/dev/session-token?customer_id={ADA}").get_json()["token"]

    body = checkout.get_order(ORDER_ID, token).get_json()
    assert (body["order"]["points"], body["member"]["first_name"]) == (135, "Ada")
