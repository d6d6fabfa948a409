"""OAuth on the emulator: authorize, the code grant, token exchange, refresh with rotation."""

import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from shopify_app import admin_graphql_request, refresh_access_token, token_exchange

from devstore import ShopifyEmulator
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.devstore.conftest import FakeClock
from tests.support.emulator_fixture import emulator_http_client

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE = "urn:shopify:params:oauth:token-type:offline-access-token"
INVALID_API_KEY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def _authorize(http, emulator, shop, **extra):
    """GET the shop's authorize URL as the app's install link would."""
    params = {"client_id": TEST_API_KEY, "scope": "read_orders,write_discounts",
              "redirect_uri": "https://loyalty.test/auth/callback", "state": "ab12cd34", **extra}
    return http.get(emulator.admin_url(shop, "/admin/oauth/authorize"), params=params)


def _callback_params(response):
    """The query the merchant is sent back to the app with."""
    location = response.headers["Location"]
    assert location.startswith("https://loyalty.test/auth/callback?")
    return dict(parse_qsl(urlsplit(location).query))


def _token_url(emulator, shop):
    """The shop's access_token endpoint on the emulator."""
    return emulator.admin_url(shop, "/admin/oauth/access_token")


def _exchange_body(subject_token, **extra):
    """A token-exchange request body for a subject token."""
    return {"client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET,
            "grant_type": TOKEN_EXCHANGE, "subject_token": subject_token,
            "subject_token_type": ID_TOKEN, "requested_token_type": OFFLINE, "expiring": "1",
            **extra}


def test_authorize_redirects_back_with_a_code_signed_like_shopify(http, emulator, shop):
    response = _authorize(http, emulator, shop)
    assert response.status_code == 302
    params = _callback_params(response)
    assert list(params) == ["code", "hmac", "host", "shop", "state", "timestamp"]
    assert (params["shop"], params["state"]) == (shop, "ab12cd34")
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    expected = hmac.new(TEST_API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert params["hmac"] == expected


def test_authorize_rejects_an_unknown_client_id(http, emulator, shop):
    response = _authorize(http, emulator, shop, client_id="someone-else")
    assert response.status_code == 400
    assert "Could not find Shopify API application" in response.text


def test_authorize_rejects_a_redirect_outside_the_app_url(http, emulator, shop):
    response = _authorize(http, emulator, shop, redirect_uri="https://evil.test/auth/callback")
    assert response.status_code == 400
    assert response.text == "Oauth error invalid_request: The redirect_uri is not whitelisted"


def test_an_unknown_shop_is_404_like_shopify(http, emulator, shop):
    response = _authorize(http, emulator, "nope.myshopify.com")
    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}


def test_the_code_grant_issues_an_expiring_offline_token_once(http, emulator, shop):
    code = _callback_params(_authorize(http, emulator, shop))["code"]
    body = {"client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET, "code": code,
            "expiring": "1"}
    response = http.post(_token_url(emulator, shop), json=body)
    assert response.status_code == 200
    token = response.json()
    assert set(token) == {"access_token", "scope", "expires_in", "refresh_token",
                          "refresh_token_expires_in"}
    assert token["access_token"].startswith("shpat_")
    assert token["refresh_token"].startswith("shprt_")
    assert (token["scope"], token["expires_in"], token["refresh_token_expires_in"]) == (
        "read_orders,write_discounts", 3600, 7_776_000)
    again = http.post(_token_url(emulator, shop), json=body)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


def test_the_code_grant_accepts_a_form_encoded_body_and_a_non_expiring_token(http, emulator,
                                                                             shop):
    code = _callback_params(_authorize(http, emulator, shop))["code"]
    response = http.post(_token_url(emulator, shop), data={
        "client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET, "code": code})
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "scope"}


def test_a_per_user_grant_returns_an_online_token_with_its_user(http, emulator, shop):
    code = _callback_params(_authorize(http, emulator, shop,
                                       **{"grant_options[]": "per-user"}))["code"]
    response = http.post(_token_url(emulator, shop), json={
        "client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET, "code": code})
    token = response.json()
    assert token["access_token"].startswith("shpua_")
    assert token["expires_in"] == 86399
    assert token["associated_user"]["account_owner"] is True


def test_a_wrong_client_secret_is_invalid_client(http, emulator, shop):
    code = _callback_params(_authorize(http, emulator, shop))["code"]
    response = http.post(_token_url(emulator, shop), json={
        "client_id": TEST_API_KEY, "client_secret": "wrong-secret", "code": code})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_token_exchange_trades_a_session_token_for_an_expiring_offline_token(http, emulator,
                                                                             shop, gql):
    id_token = emulator.mint_admin_session_token(shop)
    response = http.post(_token_url(emulator, shop), json=_exchange_body(id_token))
    assert response.status_code == 200
    token = response.json()
    assert token["expires_in"] == 3600 and token["refresh_token"].startswith("shprt_")
    assert token["scope"] == emulator.scopes
    shop_query = gql("{ shop { myshopifyDomain } }", token=token["access_token"])
    assert shop_query.json()["data"] == {"shop": {"myshopifyDomain": shop}}


@pytest.mark.parametrize("make_token", [
    pytest.param(lambda emu, shop: emu.mint_admin_session_token(shop, secret="x" * 40),
                 id="wrong-secret"),
    pytest.param(lambda emu, shop: emu.mint_admin_session_token(shop, now=emu.clock() - 3600),
                 id="expired"),
    pytest.param(lambda emu, shop: emu.mint_admin_session_token("other.myshopify.com"),
                 id="another-shop"),
    pytest.param(lambda emu, shop: emu.mint_extension_session_token(shop, customer_id=1),
                 id="extension-token"),
    pytest.param(lambda emu, shop: jwt.encode({"dest": f"https://{shop}", "aud": TEST_API_KEY},
                                              None, algorithm="none"), id="alg-none"),
    pytest.param(lambda emu, shop: ShopifyEmulator("another-app", TEST_API_SECRET, "https://x")
                 .mint_admin_session_token(shop), id="wrong-audience"),
])
def test_token_exchange_refuses_a_bad_subject_token(http, emulator, shop, make_token):
    response = http.post(_token_url(emulator, shop),
                         json=_exchange_body(make_token(emulator, shop)))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_subject_token"


def test_refresh_rotates_the_refresh_token_and_retires_the_old_one(http, emulator, shop):
    issued = emulator.issue_access_token(shop)
    body = {"client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET,
            "grant_type": "refresh_token", "refresh_token": issued.refresh_token}
    first = http.post(_token_url(emulator, shop), json=body)
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != issued.refresh_token
    assert rotated["access_token"] != issued.access_token
    reused = http.post(_token_url(emulator, shop), json=body)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    following = http.post(_token_url(emulator, shop),
                          json={**body, "refresh_token": rotated["refresh_token"]})
    assert following.status_code == 200


def test_keep_used_refresh_token_mode_retires_it_only_once_the_replacement_is_used(http,
                                                                                   emulator,
                                                                                   shop):
    emulator.keep_used_refresh_token = True
    issued = emulator.issue_access_token(shop)
    body = {"client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET,
            "grant_type": "refresh_token", "refresh_token": issued.refresh_token}
    replacement = http.post(_token_url(emulator, shop), json=body).json()["refresh_token"]
    assert http.post(_token_url(emulator, shop), json=body).status_code == 200
    assert http.post(_token_url(emulator, shop),
                     json={**body, "refresh_token": replacement}).status_code == 200
    assert http.post(_token_url(emulator, shop), json=body).status_code == 400


def test_an_expired_access_token_is_refused_until_the_app_refreshes(http, emulator, shop, gql):
    issued = emulator.issue_access_token(shop)
    assert gql("{ shop { name } }", token=issued.access_token).status_code == 200
    emulator.expire_access_token(shop)
    refused = gql("{ shop { name } }", token=issued.access_token)
    assert refused.status_code == 401
    assert refused.json() == INVALID_API_KEY
    fresh = http.post(_token_url(emulator, shop), json={
        "client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET,
        "grant_type": "refresh_token", "refresh_token": issued.refresh_token}).json()
    assert gql("{ shop { name } }", token=fresh["access_token"]).status_code == 200


def test_an_access_token_expires_by_the_clock(http, shop, emulator, gql):
    clock = FakeClock(emulator.clock())
    emulator.clock = clock
    issued = emulator.issue_access_token(shop)
    clock.advance(3599)
    assert gql("{ shop { name } }", token=issued.access_token).status_code == 200
    clock.advance(1)
    assert gql("{ shop { name } }", token=issued.access_token).status_code == 401


def test_an_unknown_grant_type_is_unsupported(http, emulator, shop):
    response = http.post(_token_url(emulator, shop), json={
        "client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET, "grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_shopifyapp_exchanges_refreshes_and_queries_against_the_emulator(emulator, shop):
    config = {"client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET}
    id_token = emulator.mint_admin_session_token(shop)
    claims = jwt.decode(id_token, TEST_API_SECRET, algorithms=["HS256"], audience=TEST_API_KEY)
    with emulator_http_client(emulator.base_url) as client:
        exchanged = token_exchange("offline", config,
                                   {"exchangeable": True, "token": id_token, "claims": claims},
                                   http_client=client)
        assert exchanged.ok, exchanged.log
        token = exchanged.access_token
        stale = {"shop": token.shop, "access_mode": "offline", "refresh_token": token.refresh_token,
                 "expires": "2000-01-01T00:00:00Z",
                 "refresh_token_expires": token.refresh_token_expires}
        refreshed = refresh_access_token(stale, config, http_client=client)
        assert refreshed.ok and refreshed.log.code == "success"
        assert refreshed.access_token.refresh_token != token.refresh_token
        replayed = refresh_access_token(stale, config, http_client=client)
        assert (replayed.ok, replayed.log.code) == (False, "invalid_grant")
        result = admin_graphql_request("query ShopName { shop { name } }", token.shop,
                                       refreshed.access_token.token, "2026-07",
                                       http_client=client)
    assert result.ok
    assert result.data == {"shop": {"name": "Demo Shop"}}
    assert result.extensions["cost"]["requestedQueryCost"] == 1


def test_shopifyapp_reports_an_invalid_subject_token(emulator, shop):
    config = {"client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET}
    id_token = emulator.mint_admin_session_token(shop, now=emulator.clock() - 3600)
    claims = jwt.decode(id_token, TEST_API_SECRET, algorithms=["HS256"], audience=TEST_API_KEY,
                        options={"verify_exp": False})
    with emulator_http_client(emulator.base_url) as client:
        result = token_exchange("offline", config,
                                {"exchangeable": True, "token": id_token, "claims": claims},
                                http_client=client)
    assert (result.ok, result.log.code) == (False, "invalid_subject_token")


def test_token_exchange_for_an_online_token_names_the_staff_user(http, emulator, shop):
    id_token = emulator.mint_admin_session_token(shop, user_id=901)
    response = http.post(_token_url(emulator, shop), json=_exchange_body(
        id_token, requested_token_type="urn:shopify:params:oauth:token-type:online-access-token"))
    token = response.json()
    assert token["access_token"].startswith("shpua_")
    assert token["associated_user"]["id"] == 901
    assert "refresh_token" not in token
