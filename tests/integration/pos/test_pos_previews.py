"""/dev/pos: the development previews of the built POS extension, listed among the demo's
links, explaining what is missing instead of failing, and never registered without the
devstore. (The pages rendering the real bundle are in test_pos_browser.py.)"""

from __future__ import annotations

import pytest

from app import create_app
from app.db import Database
from app.shopify.verify import verify_admin_session_token
from tests.conftest import app_config
from tests.integration.pos.test_pos_api import (  # noqa: F401 - fixture
    CUSTOMER_ID,
    SHOP,
    Counter,
    counter,
)


def test_the_demo_lists_the_three_pos_previews(counter: Counter) -> None:  # noqa: F811
    links = [path for path, _ in counter.app.extensions["demo_links"]]
    assert [link for link in links if link.startswith("/dev/pos")] == [
        "/dev/pos", "/dev/pos/tile", "/dev/pos/customer"]


def test_without_a_running_emulator_the_preview_says_how_to_start_one(
        counter: Counter) -> None:  # noqa: F811
    with counter.app.test_client() as client:
        response = client.get("/dev/pos")
    assert response.status_code == 404
    assert "make demo" in response.get_data(as_text=True)


@pytest.mark.parametrize(("query", "status", "says"), [
    ("customer_id=abc", 400, "customer_id is a numeric Shopify id."),
    ("locale=de", 400, "locale is one of en, fr."),
    ("subtotal=lots", 400, "subtotal is an amount like 24.50."),
    ("subtotal=-3", 400, "subtotal is an amount like 24.50."),
    ("", 409, "npm run build"),
])
def test_bad_preview_input_and_a_bundle_for_another_app_url_are_explained_with_a_4xx(
        counter: Counter, query: str, status: int, says: str) -> None:  # noqa: F811
    # The app's URL here (https://loyalty.test) is never the one a bundle was built for.
    counter.app.extensions.update(devstore=counter.emulator, devstore_shop=SHOP)
    with counter.app.test_client() as client:
        for path in ("/dev/pos", "/dev/pos/tile", "/dev/pos/customer"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == status
            assert says in response.get_data(as_text=True)


def test_the_preview_token_is_a_pos_staff_token_for_the_emulators_shop(
        counter: Counter) -> None:  # noqa: F811
    counter.app.extensions.update(devstore=counter.emulator, devstore_shop=SHOP)
    with counter.app.test_client() as client:
        token = client.get("/dev/session-token?kind=pos").get_json()["token"]
    check = verify_admin_session_token(counter.app.extensions["runtime"].settings, token)
    assert (check.ok, check.shop) == (True, SHOP)


def test_a_disabled_devstore_registers_no_pos_previews(db: Database) -> None:
    app = create_app(app_config(db, devstore_enabled=False))
    assert "pos_previews" not in app.blueprints
    assert "pos_api" in app.blueprints
