"""What no view expected is still answered in our error shape, by every blueprint.

JSON blueprints answer `{"error", "message"}`; an admin page loaded by Shopify's admin gets an
HTML page carrying the same code; never Flask's default HTML. The failures are real ones: a
test-only blueprint under each prefix that raises, and the app's injectable clocks raising
inside the real checkout, proxy and admin views.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from flask import Blueprint, Flask

from app import create_app
from app.db import Database
from app.loyalty.referrals import ReferralDecisionError
from app.loyalty.rewards import RewardError
from tests.conftest import app_config
from tests.support.factories import make_shop
from tests.support.shopify_fakes import admin_token, extension_token, signed_proxy_query

SHOP = "errors-shop.myshopify.com"
PREFIXES = ("/api/checkout", "/proxy", "/webhooks", "/e", "/auth", "/health", "/admin")


def _broken_clock() -> float:
    raise RuntimeError("the clock broke")


def _app_with_failing_routes(db: Database) -> Flask:
    """The app plus a test-only blueprint whose routes raise, one under each prefix."""
    app = create_app(app_config(db))
    failing = Blueprint("failing_for_test", __name__)
    for n, prefix in enumerate(PREFIXES):
        failing.add_url_rule(f"{prefix}/__fails", f"fails_{n}", _fail, methods=["GET", "POST"])
    app.register_blueprint(failing)
    return app


def _fail() -> str:
    raise ZeroDivisionError("a bug in a view")


@pytest.fixture
def installed(db: Database) -> Database:
    with db.transaction() as session:
        make_shop(session, domain=SHOP)
    return db


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_exception_in_any_json_route_is_a_500_in_the_error_shape(
        installed: Database, prefix: str, method: str) -> None:
    client = _app_with_failing_routes(installed).test_client()
    # App Bridge fetches carry a Bearer token: those are JSON even under /admin.
    response = client.open(f"{prefix}/__fails", method=method,
                           headers={"Authorization": "Bearer x"})
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal_error",
                                   "message": "something went wrong on our side"}


def test_an_exception_on_an_admin_page_load_is_an_html_error_page(installed: Database) -> None:
    client = _app_with_failing_routes(installed).test_client()
    response = client.get("/admin/__fails?embedded=1")
    assert (response.status_code, response.mimetype) == (500, "text/html")
    page = response.get_data(as_text=True)
    assert '<meta name="loyalty-error" content="internal_error">' in page
    assert "Something went wrong" in page and "Traceback" not in page


def test_a_failing_checkout_view_answers_the_error_shape_with_cors(installed: Database) -> None:
    app = create_app(app_config(installed))
    app.extensions["shopify_clock"] = _broken_clock
    token = extension_token(SHOP, customer_id=7001)
    response = app.test_client().get("/api/checkout/order/1001",
                                     headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.get_json()["error"]) == (500, "internal_error")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_failing_proxy_check_answers_the_error_shape(installed: Database) -> None:
    app = create_app(app_config(installed))
    app.extensions["shopify_clock"] = _broken_clock
    query = signed_proxy_query({"shop": SHOP, "logged_in_customer_id": "7001",
                                "path_prefix": "/apps/loyalty",
                                "timestamp": str(int(time.time()))})
    response = app.test_client().get(f"/proxy/member?{query}")
    assert (response.status_code, response.get_json()["error"]) == (500, "internal_error")


def test_a_failing_admin_page_is_the_html_error_page(installed: Database) -> None:
    app = create_app(app_config(installed))
    app.extensions["admin_clock"] = _broken_clock
    query = urlencode({"embedded": "1", "shop": SHOP, "id_token": admin_token(SHOP)})
    response = app.test_client().get(f"/admin/dashboard?{query}")
    assert (response.status_code, response.mimetype) == (500, "text/html")
    assert 'data-error="internal_error"' in response.get_data(as_text=True)


def test_unknown_paths_and_wrong_methods_are_answered_in_the_error_shape(
        installed: Database) -> None:
    client = create_app(app_config(installed)).test_client()
    unknown = client.get("/proxy/no-such-thing")
    assert (unknown.status_code, unknown.get_json()["error"]) == (404, "not_found")
    wrong = client.delete("/api/checkout/nps")
    assert (wrong.status_code, wrong.get_json()["error"]) == (405, "method_not_allowed")
    assert "POST" in wrong.headers["Allow"]
    assert wrong.headers["Access-Control-Allow-Origin"] == "*"
    page = client.get("/admin/no-such-page?embedded=1")
    assert (page.status_code, page.mimetype) == (404, "text/html")
    assert 'data-error="not_found"' in page.get_data(as_text=True)
    fetch = client.post("/admin/settings/rewards/99999999999999999999",
                        headers={"Authorization": "Bearer x"})
    assert (fetch.status_code, fetch.get_json()["error"]) == (404, "not_found")


def test_a_body_over_the_size_cap_is_413_in_the_error_shape(installed: Database) -> None:
    client = create_app(app_config(installed, webhook_max_bytes=1024)).test_client()
    token = extension_token(SHOP, customer_id=7001)
    response = client.post("/api/checkout/nps", data=b"x" * 4096,
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {token}"})
    assert response.status_code == 413
    assert response.get_json()["error"] == "body_too_large"


def _refuse() -> str:
    raise ReferralDecisionError("only a flagged referral can be approved")


def _refuse_fields() -> str:
    raise RewardError({"cost": "must be a whole number of points from 1 to 10,000,000"})


def _app_with_refusing_routes(db: Database) -> Flask:
    """The app plus test-only routes that let a rule's refusal through, JSON and admin."""
    app = create_app(app_config(db))
    refusing = Blueprint("refusing_for_test", __name__)
    refusing.add_url_rule("/proxy/__refuses", "proxy", _refuse)
    refusing.add_url_rule("/admin/__refuses", "admin", _refuse)
    refusing.add_url_rule("/admin/__refuses_fields", "fields", _refuse_fields, methods=["POST"])
    app.register_blueprint(refusing)
    return app


def test_a_refusal_a_view_lets_through_answers_with_its_own_code_and_status(
        installed: Database) -> None:
    client = _app_with_refusing_routes(installed).test_client()
    response = client.get("/proxy/__refuses")
    assert (response.status_code, response.json) == (409, {
        "error": "not_decidable", "message": "only a flagged referral can be approved"})


def test_a_form_refusal_carries_its_fields(installed: Database) -> None:
    client = _app_with_refusing_routes(installed).test_client()
    response = client.post("/admin/__refuses_fields", headers={"Authorization": "Bearer x"})
    assert response.status_code == 422
    assert response.json == {
        "error": "invalid_reward", "message": "Some fields need attention.",
        "fields": {"cost": "must be a whole number of points from 1 to 10,000,000"}}


def test_a_refusal_on_an_admin_page_load_is_the_html_error_page(installed: Database) -> None:
    response = _app_with_refusing_routes(installed).test_client().get("/admin/__refuses")
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'data-error="not_decidable"' in page
    assert "only a flagged referral can be approved" in page
