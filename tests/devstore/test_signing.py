"""The emulator signs exactly as Shopify does: shopify-notes §9 vectors, recomputed here."""

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

import jwt

from devstore import ShopifyEmulator
from devstore.signing import admin_host_param, oauth_query_hmac, proxy_signature


def _hex(secret: str, message: str) -> str:
    """Hex HMAC-SHA256 of a message, computed here independently."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_oauth_query_hmac_matches_the_shopify_python_api_vector():
    expected = _hex("hush", "code=a94a110d86d2452eb3e2af4cfb8a3828&shop=some-shop.myshopify.com"
                            "&timestamp=1337178173")
    assert expected == "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2"
    params = {"shop": "some-shop.myshopify.com", "code": "a94a110d86d2452eb3e2af4cfb8a3828",
              "timestamp": "1337178173", "hmac": "ignored"}
    assert oauth_query_hmac(params, "hush") == expected


def test_oauth_query_hmac_escapes_delimiters_like_the_shopify_python_api_vector():
    expected = _hex("secret", "a=1%26b=2&c%3D3%26d=4")
    assert expected == "8de3c7e965d22fa21e059868e4004f5b6fbdcef293d1622ff9408edd6325bc6b"
    assert oauth_query_hmac({"a": "1&b=2", "c=3&d": "4"}, "secret") == expected


def test_webhook_hmac_matches_the_shopify_api_php_vector():
    secret = "7008c5f4da4718b9b45d26d3fcbbb157"
    body = b'{"foo":"bar"}'
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    assert expected == "+R9TwYM4mbLTk3hEAOBkpA7zW2lc9vNFmVKs2u2jtyY="
    emu = ShopifyEmulator("client", secret, "https://app.test")
    _, headers = emu.webhook_request("x.myshopify.com", "orders/paid", body)
    assert headers["X-Shopify-Hmac-Sha256"] == expected


def test_proxy_signature_matches_the_shopify_js_vector():
    expected = _hex("my super secret key", "logged_in_customer_id=1path_prefix=/apps/my_app"
                                           "shop=the shop URLtimestamp=1700000000")
    assert expected == "86256abb38933370f3e5da1c6c6ec7718f2b09fd9d3ea31e5c06c126c63c7927"
    emu = ShopifyEmulator("client", "my super secret key", "https://app.test",
                          proxy_subpath="my_app")
    query = emu.sign_proxy_query("the shop URL", {}, logged_in_customer_id=1, now=1700000000)
    assert dict(parse_qsl(query)) == {
        "shop": "the shop URL", "logged_in_customer_id": "1", "path_prefix": "/apps/my_app",
        "timestamp": "1700000000", "signature": expected}


def test_proxy_signature_joins_repeated_keys_with_commas():
    expected = _hex("k" * 32, "a=1,2b=3")
    assert proxy_signature([("b", "3"), ("a", "1"), ("a", "2")], "k" * 32) == expected


def test_admin_session_token_carries_every_app_bridge_claim():
    emu = ShopifyEmulator("client-id", "s" * 40, "https://app.test")
    token = emu.mint_admin_session_token("demo.myshopify.com", user_id=42, ttl=60,
                                         now=1_800_000_000)
    claims = jwt.decode(token, "s" * 40, algorithms=["HS256"], audience="client-id",
                        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
    assert claims["iss"] == "https://demo.myshopify.com/admin"
    assert claims["dest"] == "https://demo.myshopify.com"
    assert claims["sub"] == "42"
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (1_800_000_000, 1_800_000_000,
                                                            1_800_000_060)
    assert claims["jti"] and len(claims["sid"]) == 32


def test_extension_session_token_has_a_bare_dest_and_no_iss_or_sid():
    emu = ShopifyEmulator("client-id", "s" * 40, "https://app.test")
    token = emu.mint_extension_session_token("demo.myshopify.com", customer_id=7, now=1_800_000_000)
    claims = jwt.decode(token, "s" * 40, algorithms=["HS256"], audience="client-id",
                        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
    assert claims["dest"] == "demo.myshopify.com"
    assert claims["sub"] == "gid://shopify/Customer/7"
    assert claims["exp"] - claims["iat"] == 300
    assert "iss" not in claims and "sid" not in claims


def test_extension_session_token_for_a_guest_has_no_subject():
    emu = ShopifyEmulator("client-id", "s" * 40, "https://app.test")
    token = emu.mint_extension_session_token("demo.myshopify.com")
    claims = jwt.decode(token, "s" * 40, algorithms=["HS256"], audience="client-id")
    assert "sub" not in claims


def test_a_token_minted_with_another_secret_does_not_verify_with_the_client_secret():
    emu = ShopifyEmulator("client-id", "s" * 40, "https://app.test")
    token = emu.mint_admin_session_token("demo.myshopify.com", secret="w" * 40)
    try:
        jwt.decode(token, "s" * 40, algorithms=["HS256"], audience="client-id")
    except jwt.InvalidSignatureError:
        return
    raise AssertionError("a token signed with another secret verified")


def test_host_param_is_unpadded_base64_of_the_admin_store_url():
    host = admin_host_param("demo.myshopify.com")
    assert "=" not in host
    decoded = base64.b64decode(host + "=" * (-len(host) % 4)).decode()
    assert decoded == "admin.shopify.com/store/demo"
