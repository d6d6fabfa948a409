"""OAuth query HMAC and app-proxy signature: notes §9 vectors, then every way to get it wrong."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from app.config import load_settings
from app.shopify.verify import (
    oauth_hmac,
    oauth_message,
    proxy_message,
    proxy_signature,
    verify_oauth_query,
    verify_proxy_query,
)
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.support.shopify_fakes import SHOP, signed_oauth_query, signed_proxy_query

NOW = 1_800_000_000
OLD_SECRET = "old-secret-0123456789abcdef0123456789abcdef"
SETTINGS = load_settings({}, {"shopify_api_key": TEST_API_KEY,
                              "shopify_api_secret": TEST_API_SECRET,
                              "shopify_old_api_secret": OLD_SECRET})


def callback_params(**extra: str) -> dict[str, str]:
    """What Shopify puts on an OAuth callback."""
    return {"code": "a94a110d86d2452eb3e2af4cfb8a3828",
            "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw", "shop": SHOP,
            "state": "ab" * 32, "timestamp": str(NOW), **extra}


# --- notes §9 vectors -------------------------------------------------------------------------

def test_the_python_api_oauth_vector_signs_to_its_published_hex() -> None:
    params = {"code": "a94a110d86d2452eb3e2af4cfb8a3828", "shop": "some-shop.myshopify.com",
              "timestamp": "1337178173", "hmac": "ignored"}
    assert oauth_message(p for p in params.items() if p[0] != "hmac") == (
        "code=a94a110d86d2452eb3e2af4cfb8a3828&shop=some-shop.myshopify.com&timestamp=1337178173")
    assert oauth_hmac("hush", params) == (
        "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2")


def test_delimiters_inside_oauth_keys_and_values_are_escaped_as_in_the_vector() -> None:
    params = {"a": "1&b=2", "c=3&d": "4"}
    assert oauth_message(params.items()) == "a=1%26b=2&c%3D3%26d=4"
    assert oauth_hmac("secret", params) == (
        "8de3c7e965d22fa21e059868e4004f5b6fbdcef293d1622ff9408edd6325bc6b")


def test_the_proxy_vector_signs_to_its_published_hex() -> None:
    pairs = [("shop", "the shop URL"), ("path_prefix", "/apps/my_app"),
             ("logged_in_customer_id", "1"), ("timestamp", "1700000000"), ("signature", "x")]
    assert proxy_message(p for p in pairs if p[0] != "signature") == (
        "logged_in_customer_id=1path_prefix=/apps/my_appshop=the shop URLtimestamp=1700000000")
    assert proxy_signature("my super secret key", pairs) == (
        "86256abb38933370f3e5da1c6c6ec7718f2b09fd9d3ea31e5c06c126c63c7927")


def test_the_oauth_vector_verifies_with_the_clock_injected() -> None:
    settings = load_settings({}, {"shopify_api_secret": "hush"})
    query = ("code=a94a110d86d2452eb3e2af4cfb8a3828&shop=some-shop.myshopify.com"
             "&timestamp=1337178173"
             "&hmac=2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2")
    check = verify_oauth_query(settings, query, now=1337178173 + 30)
    assert (check.ok, check.code, check.shop) == (True, "verified", "some-shop.myshopify.com")


def test_the_proxy_vector_fails_only_on_its_shop_once_the_clock_is_injected() -> None:
    settings = load_settings({}, {"shopify_api_secret": "my super secret key"})
    signature = "86256abb38933370f3e5da1c6c6ec7718f2b09fd9d3ea31e5c06c126c63c7927"
    query = urlencode({"shop": "the shop URL", "path_prefix": "/apps/my_app",
                       "logged_in_customer_id": "1", "timestamp": "1700000000",
                       "signature": signature})
    # The signature and the timestamp pass; "the shop URL" is not a myshopify.com domain.
    assert verify_proxy_query(settings, query, now=1700000000).code == "invalid_shop"


# --- OAuth query ------------------------------------------------------------------------------

def test_a_signed_callback_query_is_verified() -> None:
    check = verify_oauth_query(SETTINGS, signed_oauth_query(callback_params()), NOW)
    assert (check.ok, check.code, check.shop) == (True, "verified", SHOP)
    assert check.params is not None and check.params["state"] == "ab" * 32


def test_a_query_signed_with_the_old_secret_is_accepted_during_rotation() -> None:
    query = signed_oauth_query(callback_params(), OLD_SECRET)
    assert verify_oauth_query(SETTINGS, query, NOW).ok is True


@pytest.mark.parametrize("secret", ["wrong-secret-0123456789abcdef0123456789ab", TEST_API_KEY])
def test_a_query_signed_with_another_secret_is_forged(secret: str) -> None:
    check = verify_oauth_query(SETTINGS, signed_oauth_query(callback_params(), secret), NOW)
    assert (check.ok, check.code) == (False, "invalid_hmac")


def test_a_tampered_value_breaks_the_hmac() -> None:
    query = signed_oauth_query(callback_params()).replace(f"shop={SHOP}",
                                                          "shop=other-shop.myshopify.com")
    assert verify_oauth_query(SETTINGS, query, NOW).code == "invalid_hmac"


def test_an_added_parameter_breaks_the_hmac() -> None:
    query = signed_oauth_query(callback_params()) + "&embedded=1"
    assert verify_oauth_query(SETTINGS, query, NOW).code == "invalid_hmac"


@pytest.mark.parametrize("skew", [-90, 90, 0])
def test_a_timestamp_within_90_seconds_is_fresh(skew: int) -> None:
    assert verify_oauth_query(SETTINGS, signed_oauth_query(callback_params()), NOW + skew).ok


@pytest.mark.parametrize("skew", [-91, 91, 3600])
def test_a_replayed_query_outside_90_seconds_is_stale(skew: int) -> None:
    check = verify_oauth_query(SETTINGS, signed_oauth_query(callback_params()), NOW + skew)
    assert (check.ok, check.code) == (False, "stale_timestamp")


@pytest.mark.parametrize(("timestamp", "code"), [("", "invalid_timestamp"),
                                                 ("1e9", "invalid_timestamp"),
                                                 ("-5", "invalid_timestamp"),
                                                 (" 1800000000", "invalid_timestamp")])
def test_a_timestamp_must_be_a_plain_integer(timestamp: str, code: str) -> None:
    check = verify_oauth_query(SETTINGS, signed_oauth_query(callback_params(timestamp=timestamp)),
                               NOW)
    assert check.code == code


def test_a_query_without_timestamp_is_refused() -> None:
    params = callback_params()
    del params["timestamp"]
    assert verify_oauth_query(SETTINGS, signed_oauth_query(params), NOW).code == (
        "missing_timestamp")


def test_a_repeated_parameter_is_refused_before_anything_else() -> None:
    query = signed_oauth_query(callback_params()) + f"&timestamp={NOW}"
    assert verify_oauth_query(SETTINGS, query, NOW).code == "repeated_parameter"


def test_a_query_without_hmac_is_refused() -> None:
    assert verify_oauth_query(SETTINGS, urlencode(callback_params()), NOW).code == "missing_hmac"


@pytest.mark.parametrize("shop", ["demo-shop.myshopify.com.evil.com", "evil.com",
                                  "demo-shop.myshopify.com/admin"])
def test_a_signed_query_for_a_domain_that_is_not_a_shop_is_refused(shop: str) -> None:
    check = verify_oauth_query(SETTINGS, signed_oauth_query(callback_params(shop=shop)), NOW)
    assert (check.ok, check.code) == (False, "invalid_shop")


# --- App proxy --------------------------------------------------------------------------------

def proxy_params(**extra: str) -> dict[str, str]:
    """What Shopify adds to an app-proxy request."""
    return {"shop": SHOP, "logged_in_customer_id": "115310627314723954",
            "path_prefix": "/apps/loyalty", "timestamp": str(NOW), **extra}


def test_a_signed_proxy_request_yields_the_shop_and_the_logged_in_customer() -> None:
    check = verify_proxy_query(SETTINGS, signed_proxy_query(proxy_params()), NOW)
    assert (check.ok, check.shop, check.customer_id) == (True, SHOP, 115310627314723954)


def test_a_logged_out_shopper_has_no_customer_id() -> None:
    check = verify_proxy_query(
        SETTINGS, signed_proxy_query(proxy_params(logged_in_customer_id="")), NOW)
    assert (check.ok, check.customer_id) == (True, None)


def test_a_repeated_widget_parameter_is_signed_joined_by_commas() -> None:
    import hashlib
    import hmac

    message = (f"ids=1,2logged_in_customer_id=7path_prefix=/apps/loyaltyshop={SHOP}"
               f"timestamp={NOW}")
    signature = hmac.new(TEST_API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    query = urlencode([("ids", "1"), ("ids", "2"), ("logged_in_customer_id", "7"),
                       ("path_prefix", "/apps/loyalty"), ("shop", SHOP),
                       ("timestamp", str(NOW)), ("signature", signature)])
    assert verify_proxy_query(SETTINGS, query, NOW).customer_id == 7


def test_a_proxy_request_signed_with_the_old_secret_is_accepted() -> None:
    assert verify_proxy_query(SETTINGS, signed_proxy_query(proxy_params(), OLD_SECRET), NOW).ok


def test_a_proxy_request_with_a_swapped_customer_is_refused() -> None:
    query = signed_proxy_query(proxy_params()).replace("115310627314723954", "115310627314723955")
    check = verify_proxy_query(SETTINGS, query, NOW)
    assert (check.ok, check.code, check.customer_id) == (False, "invalid_signature", None)


def test_a_proxy_request_signed_with_a_wrong_secret_is_refused() -> None:
    query = signed_proxy_query(proxy_params(), "not-our-secret-0123456789abcdef012345")
    assert verify_proxy_query(SETTINGS, query, NOW).code == "invalid_signature"


@pytest.mark.parametrize("name", ["shop", "signature", "timestamp", "logged_in_customer_id"])
def test_a_repeated_identity_parameter_is_refused(name: str) -> None:
    query = signed_proxy_query(proxy_params())
    value = {"shop": "other-shop.myshopify.com", "signature": "00", "timestamp": str(NOW),
             "logged_in_customer_id": "1"}[name]
    check = verify_proxy_query(SETTINGS, f"{query}&{name}={value}", NOW)
    assert (check.ok, check.code) == (False, "repeated_parameter")


@pytest.mark.parametrize("skew", [-91, 91])
def test_a_replayed_proxy_request_is_stale(skew: int) -> None:
    check = verify_proxy_query(SETTINGS, signed_proxy_query(proxy_params()), NOW + skew)
    assert (check.ok, check.code) == (False, "stale_timestamp")


def test_a_proxy_request_without_signature_is_refused() -> None:
    assert verify_proxy_query(SETTINGS, urlencode(proxy_params()), NOW).code == (
        "missing_signature")


def test_a_signed_proxy_request_for_a_foreign_domain_is_refused() -> None:
    query = signed_proxy_query(proxy_params(shop="shop.example.com"))
    assert verify_proxy_query(SETTINGS, query, NOW).code == "invalid_shop"


def test_a_signed_but_non_numeric_customer_id_is_refused() -> None:
    query = signed_proxy_query(proxy_params(logged_in_customer_id="1 OR 1=1"))
    assert verify_proxy_query(SETTINGS, query, NOW).code == "invalid_customer_id"
