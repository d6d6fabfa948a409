"""Install link, OAuth callback, embedded home and admin sessions over the Flask test client."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from flask import Flask, g, jsonify
from sqlalchemy import select

from app import create_app
from app.db import Database
from app.models import Shop
from app.shopify.domains import shop_http_client
from app.shopify.tokens import cipher_for
from app.web.auth import bp as auth_bp
from app.web.auth import require_admin_session
from tests.conftest import TEST_API_KEY, app_config
from tests.support.shopify_fakes import (
    SHOP,
    FakeShopify,
    admin_token,
    shop_reply,
    sign_oauth_params,
    signed_oauth_query,
)

NOW = 1_800_000_000
NOW_UTC = datetime.fromtimestamp(NOW, UTC).replace(tzinfo=None)
ADMIN_HOST = base64.b64encode(b"admin.shopify.com/store/demo-shop").decode().rstrip("=")
CSP = f"frame-ancestors https://{SHOP} https://admin.shopify.com;"


def build_app(db: Database, fake: FakeShopify, **settings: Any) -> Flask:
    """The app with our blueprint, a fake Shopify network and a fixed clock."""
    app = create_app(app_config(db, **settings))
    if "auth" not in app.blueprints:
        app.register_blueprint(auth_bp)

    @app.get("/admin/whoami")
    @require_admin_session
    def whoami():  # noqa: ANN202 - test view
        """What the decorator put on g."""
        return jsonify(shop=g.shop_domain, shop_id=g.shop.id, staff=g.staff_user_id)

    app.extensions["shopify_http"] = fake.client()
    app.extensions["shopify_clock"] = lambda: NOW
    return app


@pytest.fixture
def fake() -> FakeShopify:
    shopify = FakeShopify()
    shopify.graphql["shop"] = shop_reply("Demo Shop")
    return shopify


@pytest.fixture
def app(db: Database, fake: FakeShopify) -> Iterator[Flask]:
    flask_app = build_app(db, fake)
    yield flask_app
    flask_app.extensions["shopify_http"].close()


def shop_row(db: Database) -> Shop | None:
    """The committed shop row."""
    with db.sessions() as session:
        return session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one_or_none()


def start_install(client: Any) -> str:
    """Follow the install link; the nonce Shopify will echo back as state."""
    response = client.get(f"/auth/install?shop={SHOP}")
    return parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]


def callback_url(state: str, code: str, **extra: str) -> str:
    """The callback Shopify redirects to, signed."""
    return "/auth/callback?" + signed_oauth_query(
        {"code": code, "host": ADMIN_HOST, "shop": SHOP, "state": state,
         "timestamp": str(NOW), **extra})


# --- /auth/install ----------------------------------------------------------------------------

def test_install_redirects_to_the_consent_screen_with_a_nonce_cookie(app: Flask) -> None:
    response = app.test_client().get(f"/auth/install?shop={SHOP}")
    location = urlsplit(response.headers["Location"])
    state = parse_qs(location.query)["state"][0]
    cookie = response.headers["Set-Cookie"]
    assert (response.status_code, location.netloc, location.path) == (
        302, SHOP, "/admin/oauth/authorize")
    assert len(state) == 64 and int(state, 16) >= 0
    assert cookie.startswith(f"loyalty_oauth_state={state}.{NOW}.")
    for attribute in ("Path=/auth/callback", "SameSite=Lax", "Secure", "HttpOnly",
                      "Max-Age=60"):
        assert attribute in cookie


def test_install_over_plain_http_in_development_drops_secure(db: Database,
                                                             fake: FakeShopify) -> None:
    app = build_app(db, fake, shopify_app_url="http://127.0.0.1:8000")
    response = app.test_client().get(f"/auth/install?shop={SHOP}")
    app.extensions["shopify_http"].close()
    assert "Secure" not in response.headers["Set-Cookie"]


def test_a_signed_install_link_is_verified(app: Flask) -> None:
    query = signed_oauth_query({"shop": SHOP, "timestamp": str(NOW)})
    assert app.test_client().get(f"/auth/install?{query}").status_code == 302


def test_a_tampered_install_link_is_refused(app: Flask) -> None:
    params = sign_oauth_params({"shop": SHOP, "timestamp": str(NOW)})
    params["shop"] = "other-shop.myshopify.com"
    response = app.test_client().get("/auth/install", query_string=params)
    assert (response.status_code, response.json["error"]) == (401, "invalid_hmac")


@pytest.mark.parametrize("shop", ["evil.com", "demo.myshopify.com.evil.com", ""])
def test_install_for_something_that_is_not_a_shop_is_refused(app: Flask, shop: str) -> None:
    response = app.test_client().get("/auth/install", query_string={"shop": shop})
    assert (response.status_code, response.json["error"]) == (400, "invalid_shop")


# --- /auth/callback ---------------------------------------------------------------------------

def test_the_callback_stores_encrypted_tokens_and_lands_in_the_admin(
        app: Flask, db: Database, fake: FakeShopify) -> None:
    client = app.test_client()
    state = start_install(client)
    response = client.get(callback_url(state, fake.issue_code(SHOP)))
    shop = shop_row(db)
    cipher = cipher_for(app.extensions["runtime"].settings)
    granted = fake.calls_to("code")[0]
    assert (response.status_code, response.headers["Location"]) == (
        302, f"https://admin.shopify.com/store/demo-shop/apps/{TEST_API_KEY}")
    assert cipher.decrypt(shop.access_token_enc) in fake.access_tokens
    assert cipher.decrypt(shop.refresh_token_enc) in fake.refresh_tokens
    assert (shop.installed_at, shop.access_token_expires_at) == (
        NOW_UTC, NOW_UTC + timedelta(hours=1))
    assert (shop.name, shop.currency, shop.timezone, shop.shopify_shop_id) == (
        "Demo Shop", "EUR", "Europe/Berlin", 777)
    assert granted["body"]["expiring"] == "1"
    assert "loyalty_oauth_state=;" in response.headers["Set-Cookie"]


def test_a_callback_after_reinstall_updates_the_same_shop(app: Flask, db: Database,
                                                          fake: FakeShopify) -> None:
    with db.transaction() as session:
        session.add(Shop(domain=SHOP, installed_at=NOW_UTC - timedelta(days=30),
                         uninstalled_at=NOW_UTC - timedelta(days=2), currency="EUR"))
    before = shop_row(db)
    client = app.test_client()
    client.get(callback_url(start_install(client), fake.issue_code(SHOP)))
    after = shop_row(db)
    assert (after.id, after.installed_at, after.uninstalled_at) == (before.id, NOW_UTC, None)


def test_a_replayed_callback_is_stale_and_exchanges_nothing(db: Database,
                                                            fake: FakeShopify) -> None:
    app = build_app(db, fake)
    client = app.test_client()
    state = start_install(client)
    app.extensions["shopify_clock"] = lambda: NOW + 91
    response = client.get(callback_url(state, fake.issue_code(SHOP)))
    app.extensions["shopify_http"].close()
    assert (response.status_code, response.json["error"]) == (401, "stale_timestamp")
    assert fake.calls == [] and shop_row(db) is None


def test_a_callback_without_our_cookie_is_refused(app: Flask, fake: FakeShopify) -> None:
    response = app.test_client().get(callback_url("ab" * 32, fake.issue_code(SHOP)))
    assert (response.status_code, response.json["error"]) == (401, "missing_state_cookie")
    assert fake.calls == []


def test_a_callback_with_a_state_from_another_install_is_refused(app: Flask,
                                                                 fake: FakeShopify) -> None:
    client = app.test_client()
    start_install(client)
    response = client.get(callback_url("ab" * 32, fake.issue_code(SHOP)))
    assert (response.status_code, response.json["error"]) == (401, "state_mismatch")


def test_a_callback_whose_code_shopify_refuses_installs_nothing(app: Flask, db: Database,
                                                                fake: FakeShopify) -> None:
    client = app.test_client()
    response = client.get(callback_url(start_install(client), "forged-code"))
    assert (response.status_code, response.json["error"]) == (502, "invalid_request")
    assert shop_row(db) is None


def test_against_the_emulator_every_call_goes_under_its_shop_prefix(db: Database,
                                                                     fake: FakeShopify) -> None:
    app = build_app(db, fake, shopify_admin_base="http://127.0.0.1:7001")
    seen: list[str] = []

    def emulator(request: httpx.Request) -> httpx.Response:
        # Serve {base}/{shop}/… the way the emulator does: by the shop in the path.
        seen.append(str(request.url))
        _, shop, rest = request.url.path.split("/", 2)
        return fake.handle(httpx.Request(request.method, f"https://{shop}/{rest}",
                                         headers=request.headers, content=request.content))

    app.extensions["shopify_http"].close()
    app.extensions["shopify_http"] = shop_http_client(app.extensions["runtime"].settings,
                                                      httpx.MockTransport(emulator))
    client = app.test_client()
    install = client.get(f"/auth/install?shop={SHOP}")
    state = parse_qs(urlsplit(install.headers["Location"]).query)["state"][0]
    response = client.get(callback_url(state, fake.issue_code(SHOP)))
    app.extensions["shopify_http"].close()
    assert install.headers["Location"].startswith(
        f"http://127.0.0.1:7001/{SHOP}/admin/oauth/authorize?")
    assert seen == [f"http://127.0.0.1:7001/{SHOP}/admin/oauth/access_token",
                    f"http://127.0.0.1:7001/{SHOP}/admin/api/2026-07/graphql.json"]
    assert (response.status_code, response.headers["Location"]) == (
        302, f"/?shop={SHOP}&host={ADMIN_HOST}")


# --- Embedded home ----------------------------------------------------------------------------

def test_the_first_load_without_a_token_is_bounced_for_one(app: Flask) -> None:
    response = app.test_client().get(f"/?shop={SHOP}&host={ADMIN_HOST}&embedded=1")
    location = urlsplit(response.headers["Location"])
    assert (response.status_code, location.path) == (302, "/auth/session-token")
    assert parse_qs(location.query)["shopify-reload"] == [
        f"/?shop={SHOP}&host={ADMIN_HOST}&embedded=1"]


def test_the_first_load_with_an_id_token_connects_the_shop_and_opens_the_admin(
        app: Flask, db: Database, fake: FakeShopify) -> None:
    query = f"shop={SHOP}&host={ADMIN_HOST}&embedded=1&id_token={admin_token()}"
    response = app.test_client().get(f"/?{query}")
    shop = shop_row(db)
    assert (response.status_code, response.headers["Location"]) == (302, f"/admin?{query}")
    assert response.headers["Content-Security-Policy"] == CSP
    assert [c["kind"] for c in fake.calls] == ["token_exchange", "graphql"]
    assert (shop.installed_at, shop.name) == (NOW_UTC, "Demo Shop")
    page = app.test_client().get(f"/admin?{query}", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.request.path == "/admin/onboarding"
    assert "Launch your loyalty program" in html
    assert f'<meta name="shopify-api-key" content="{TEST_API_KEY}">' in html
    first_script = html.index("<script")
    assert html[first_script:].startswith(
        '<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>')
    assert html.index("polaris.js") > first_script
    assert "<s-app-nav>" in html


def test_a_second_load_reuses_the_stored_token(app: Flask, fake: FakeShopify) -> None:
    client = app.test_client()
    client.get(f"/?shop={SHOP}&id_token={admin_token()}")
    calls = len(fake.calls)
    assert client.get(f"/?shop={SHOP}&id_token={admin_token()}").status_code == 302
    assert len(fake.calls) == calls


def test_a_fetch_with_an_expired_token_gets_401_and_the_retry_header(app: Flask) -> None:
    response = app.test_client().get(
        "/", headers={"Authorization": f"Bearer {admin_token(ttl=-11)}"})
    assert (response.status_code, response.json["error"]) == (401, "expired_id_token")
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_a_load_whose_exchange_shopify_refuses_is_bounced_for_a_new_token(
        app: Flask, db: Database, fake: FakeShopify) -> None:
    fake.refuse_exchange = True
    response = app.test_client().get(f"/?shop={SHOP}&id_token={admin_token()}")
    assert (response.status_code, urlsplit(response.headers["Location"]).path) == (
        302, "/auth/session-token")
    assert shop_row(db) is None


def test_the_session_token_page_is_only_app_bridge(app: Flask) -> None:
    response = app.test_client().get(
        "/auth/session-token", query_string={"shop": SHOP, "shopify-reload": f"/?shop={SHOP}"})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == (
        f'<script data-api-key="{TEST_API_KEY}" '
        'src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>')
    assert response.headers["Content-Security-Policy"] == CSP


@pytest.mark.parametrize(("shop", "reload_to", "code"), [
    (SHOP, "//evil.com/", "invalid_reload"), (SHOP, "https://evil.com/", "invalid_reload"),
    (SHOP, "/\\evil.com", "invalid_reload"), ("evil.com", "/", "invalid_shop"),
])
def test_the_session_token_page_never_reloads_elsewhere(app: Flask, shop: str, reload_to: str,
                                                        code: str) -> None:
    response = app.test_client().get(
        "/auth/session-token", query_string={"shop": shop, "shopify-reload": reload_to})
    assert (response.status_code, response.json["error"]) == (400, code)


# --- require_admin_session --------------------------------------------------------------------

def installed(app: Flask) -> None:
    """Connect the shop through the home page."""
    assert app.test_client().get(f"/?shop={SHOP}&id_token={admin_token()}").status_code == 302


def test_an_admin_fetch_gets_its_shop_and_staff_user_on_g(app: Flask, db: Database) -> None:
    installed(app)
    response = app.test_client().get(
        "/admin/whoami", headers={"Authorization": f"Bearer {admin_token(user_id='7')}"})
    assert (response.status_code, response.json) == (
        200, {"shop": SHOP, "shop_id": shop_row(db).id, "staff": "7"})
    assert response.headers["Content-Security-Policy"] == CSP


# Minted when the test runs: a token minted at collection would expire before a long suite.
@pytest.mark.parametrize(("make_token", "code"), [
    (lambda: admin_token(ttl=-11), "expired_id_token"),
    (lambda: admin_token(aud="another-app"), "invalid_aud"),
    (lambda: admin_token(drop=("sid",)), "missing_claim"),
])
def test_an_admin_fetch_with_a_bad_token_gets_401_and_the_retry_header(
        app: Flask, make_token: Any, code: str) -> None:
    installed(app)
    response = app.test_client().get("/admin/whoami",
                                     headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert json.loads(response.data)["error"] == code


def test_an_admin_fetch_for_a_shop_that_is_not_installed_is_refused(app: Flask) -> None:
    response = app.test_client().get("/admin/whoami",
                                     headers={"Authorization": f"Bearer {admin_token()}"})
    assert (response.status_code, response.json["error"]) == (401, "shop_not_installed")
    assert "X-Shopify-Retry-Invalid-Session-Request" not in response.headers


def test_an_admin_page_for_a_new_shop_goes_through_the_home_first(app: Flask) -> None:
    token = admin_token()
    response = app.test_client().get(f"/admin/whoami?shop={SHOP}&id_token={token}")
    assert (response.status_code, response.headers["Location"]) == (
        302, f"/?shop={SHOP}&id_token={token}")


# Raw query strings, as a link would carry them. Most decode to a target a browser resolves to
# another origin (tab and newline removed, `\` read as `/`, leading controls stripped) or to a
# scheme that is not a page of this app; the rest carry a character no path of this app has.
REFUSED_RELOADS = [
    "%2F%2Fevil.com", "%2F%5Cevil.com", "%5C%5Cevil.com", "%5C%2Fevil.com",
    "%2F%09%2Fevil.com", "%2F%0A%2Fevil.com", "%2F%0D%2Fevil.com", "%2F%0D%0A%2Fevil.com",
    "%09%2F%2Fevil.com", "%20%2F%2Fevil.com", "%00%2F%2Fevil.com", "%2F%2F%2Fevil.com",
    "https%3A%2F%2Fevil.com", "HTTPS%3A%2F%2Fevil.com", "https%3Aevil.com",
    "javascript%3Aalert(1)", "JaVaScRiPt%3Aalert(1)", "data%3Atext%2Fhtml%2C%3Cscript%3E",
    "%2F%0D%0ASet-Cookie%3A%20x%3D1", "%2F%00", "%2F%7F", "%2F%C2%85%2Fevil.com",
    "%2F%E3%80%80%2Fevil.com", "%2F%20%2Fevil.com", "evil.com", "", "%2F%09",
]


@pytest.mark.parametrize("raw_reload", REFUSED_RELOADS)
def test_the_session_token_page_refuses_every_reload_that_is_not_a_plain_path_of_this_app(
        app: Flask, raw_reload: str) -> None:
    response = app.test_client().get(
        f"/auth/session-token?shop={SHOP}&shopify-reload={raw_reload}")
    assert (response.status_code, response.json["error"]) == (400, "invalid_reload")


@pytest.mark.parametrize("raw_reload", [
    "%2F", "%2F%3Fshop%3Ddemo-shop.myshopify.com%26embedded%3D1",
    "%2Fadmin%2Fcustomers%3Fq%3Dada%2520lovelace", "%2Fadmin%2Fsettings%23earning",
])
def test_the_session_token_page_reloads_a_path_of_this_app(app: Flask, raw_reload: str) -> None:
    response = app.test_client().get(
        f"/auth/session-token?shop={SHOP}&shopify-reload={raw_reload}")
    assert response.status_code == 200
    reload_to = parse_qs(f"r={raw_reload}")["r"][0]
    # What a browser would load stays on the app's origin.
    assert urlsplit(urljoin("https://loyalty.test/admin/x", reload_to)).netloc == "loyalty.test"
