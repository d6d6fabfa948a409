"""The authorization-code grant: state cookie, consent URL, callback checks, code exchange."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.config import load_settings
from app.shopify.oauth import (
    authorize_url,
    check_state,
    decode_host,
    derived_key,
    embedded_app_url,
    exchange_code,
    state_cookie,
    verify_callback,
)
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.support.shopify_fakes import OTHER_SHOP, SHOP, FakeShopify, signed_oauth_query

NOW = 1_800_000_000
NONCE = "0f" * 32
SETTINGS = load_settings({}, {"shopify_api_key": TEST_API_KEY,
                              "shopify_api_secret": TEST_API_SECRET,
                              "shopify_app_url": "https://loyalty.test",
                              "scopes": "read_orders,write_discounts"})


def test_the_cookie_key_is_derived_and_never_the_client_secret() -> None:
    key = derived_key(TEST_API_SECRET, "oauth-state-cookie")
    assert len(key) == 32
    assert key != TEST_API_SECRET.encode()
    assert key != derived_key(TEST_API_SECRET, "another-purpose")


def test_the_consent_url_asks_for_our_scopes_offline_with_the_nonce() -> None:
    url = urlsplit(authorize_url(SETTINGS, SHOP, NONCE))
    assert (url.scheme, url.netloc, url.path) == ("https", SHOP, "/admin/oauth/authorize")
    assert parse_qs(url.query, keep_blank_values=True) == {
        "client_id": [TEST_API_KEY], "scope": ["read_orders,write_discounts"],
        "redirect_uri": ["https://loyalty.test/auth/callback"], "state": [NONCE],
        "grant_options[]": [""]}


def test_the_state_issued_for_a_shop_checks_out_within_60_seconds() -> None:
    cookie = state_cookie(SETTINGS, NONCE, SHOP, NOW)
    assert check_state(SETTINGS, cookie, NONCE, SHOP, NOW + 60) is None


@pytest.mark.parametrize(("cookie_shop", "state", "at", "code"), [
    (SHOP, NONCE, NOW + 61, "expired_state"),
    (SHOP, "1e" * 32, NOW, "state_mismatch"),
    (SHOP, None, NOW, "state_mismatch"),
    (OTHER_SHOP, NONCE, NOW, "invalid_state_cookie"),
])
def test_a_state_that_is_late_different_or_for_another_shop_is_refused(
        cookie_shop: str, state: str | None, at: int, code: str) -> None:
    cookie = state_cookie(SETTINGS, NONCE, cookie_shop, NOW)
    assert check_state(SETTINGS, cookie, state, SHOP, at) == code


@pytest.mark.parametrize("cookie", [None, "", "garbage", f"{NONCE}.{NOW}.00",
                                    f"{NONCE}.{NOW}"])
def test_a_missing_or_forged_state_cookie_is_refused(cookie: str | None) -> None:
    assert check_state(SETTINGS, cookie, NONCE, SHOP, NOW) in {"missing_state_cookie",
                                                               "invalid_state_cookie"}


def test_a_cookie_signed_with_the_raw_client_secret_is_refused() -> None:
    import hashlib
    import hmac

    mac = hmac.new(TEST_API_SECRET.encode(), f"{NONCE}|{SHOP}|{NOW}".encode(),
                   hashlib.sha256).hexdigest()
    assert check_state(SETTINGS, f"{NONCE}.{NOW}.{mac}", NONCE, SHOP, NOW) == (
        "invalid_state_cookie")


def callback_query(**extra: str) -> str:
    """A callback query Shopify signed."""
    return signed_oauth_query({"code": "code-1", "host": "aG9zdA", "shop": SHOP,
                               "state": NONCE, "timestamp": str(NOW), **extra})


def test_a_callback_with_our_state_and_a_good_hmac_is_verified() -> None:
    check = verify_callback(SETTINGS, callback_query(), state_cookie(SETTINGS, NONCE, SHOP, NOW),
                            NOW + 5)
    assert (check.ok, check.shop, check.params["code"]) == (True, SHOP, "code-1")


def test_a_callback_with_a_good_hmac_but_someone_elses_state_is_refused() -> None:
    cookie = state_cookie(SETTINGS, "aa" * 32, SHOP, NOW)
    assert verify_callback(SETTINGS, callback_query(), cookie, NOW).code == "state_mismatch"


def test_a_callback_checks_its_hmac_before_its_state() -> None:
    query = callback_query().replace("code=code-1", "code=code-2")
    cookie = state_cookie(SETTINGS, NONCE, SHOP, NOW)
    assert verify_callback(SETTINGS, query, cookie, NOW).code == "invalid_hmac"


def test_the_admin_host_decodes_to_the_embedded_app_url() -> None:
    host = base64.b64encode(b"admin.shopify.com/store/demo-shop").decode().rstrip("=")
    assert embedded_app_url(SETTINGS, SHOP, host) == (
        f"https://admin.shopify.com/store/demo-shop/apps/{TEST_API_KEY}")


@pytest.mark.parametrize("raw", [b"evil.com/store/x", b"admin.shopify.com.evil.com/store/x",
                                 b"admin.shopify.com/store/x/../../evil", b"\xff\xfe"])
def test_a_host_that_is_not_an_admin_location_falls_back_to_the_shop_admin(raw: bytes) -> None:
    host = base64.b64encode(raw).decode()
    assert decode_host(host) is None
    assert embedded_app_url(SETTINGS, SHOP, host) == f"https://{SHOP}/admin/apps/{TEST_API_KEY}"


def test_against_the_emulator_the_app_lands_on_its_own_home() -> None:
    emulated = load_settings({}, {"shopify_admin_base": "http://127.0.0.1:9"})
    assert embedded_app_url(emulated, SHOP, "aG9zdA") == f"/?shop={SHOP}&host=aG9zdA"


def test_the_code_is_exchanged_for_an_expiring_offline_token() -> None:
    fake = FakeShopify()
    code = fake.issue_code(SHOP)
    now = datetime(2026, 11, 1, 12, 0)
    with fake.client() as http:
        result = exchange_code(SETTINGS, SHOP, code, now, http)
    assert (result.ok, result.code) == (True, "granted")
    assert result.grant.access_token.startswith("shpat_")
    assert result.grant.expires_at == now + timedelta(hours=1)
    assert result.grant.refresh_token_expires_at == now + timedelta(days=90)
    assert fake.calls_to("code")[0]["body"] == {"client_id": TEST_API_KEY,
                                                "client_secret": TEST_API_SECRET,
                                                "code": code, "expiring": "1"}


def test_a_refused_code_yields_shopifys_error_code() -> None:
    with FakeShopify().client() as http:
        result = exchange_code(SETTINGS, SHOP, "never-issued", datetime(2026, 11, 1), http)
    assert (result.ok, result.code, result.grant) == (False, "invalid_request", None)


def test_an_unreachable_shopify_is_a_network_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(down)) as http:
        result = exchange_code(SETTINGS, SHOP, "code", datetime(2026, 11, 1), http)
    assert (result.ok, result.code) == (False, "network_error")


def test_a_non_expiring_grant_has_no_expiry() -> None:
    def legacy(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["expiring"] == "1"
        return httpx.Response(200, json={"access_token": "shpat_x", "scope": "read_orders"})

    with httpx.Client(transport=httpx.MockTransport(legacy)) as http:
        result = exchange_code(SETTINGS, SHOP, "code", datetime(2026, 11, 1), http)
    assert (result.grant.expires_at, result.grant.refresh_token) == (None, None)
