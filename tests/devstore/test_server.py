"""The emulator as a server: OS-chosen port, clean stop, and the embedded-admin launch."""

import hashlib
import hmac
import socket
import threading
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest

from devstore import ShopifyEmulator
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.support.emulator_fixture import live_app_server


def _port_is_closed(url: str) -> bool:
    """Whether nothing listens on the URL's port any more."""
    parts = urlsplit(url)
    with socket.socket() as sock:
        return sock.connect_ex((parts.hostname, parts.port)) != 0


def test_start_binds_a_free_port_and_stop_leaves_no_socket_or_thread():
    before = set(threading.enumerate())
    emu = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, "https://loyalty.test")
    with emu:
        emu.add_shop("demo.myshopify.com")
        url = emu.base_url
        assert urlsplit(url).port not in (None, 0)
        with httpx.Client() as client:
            assert client.get(f"{url}/_emulator/shops").json() == ["demo.myshopify.com"]
    assert _port_is_closed(url)
    assert set(threading.enumerate()) == before
    with pytest.raises(RuntimeError):
        emu.base_url  # noqa: B018 - the property raises when stopped


def test_two_emulators_run_side_by_side_on_different_ports():
    first = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, "https://loyalty.test")
    second = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, "https://loyalty.test")
    with first, second:
        assert first.base_url != second.base_url


def test_live_app_server_serves_a_wsgi_app_until_the_block_ends():
    def hello(environ, start_response):
        """A WSGI app that says hello."""
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    with live_app_server(hello) as url, httpx.Client() as client:
        assert client.get(url).text == "hello"
    assert _port_is_closed(url)


def test_an_unknown_path_or_shop_is_shopifys_json_404(http, emulator, shop):
    unknown_path = http.get(f"{emulator.base_url}/{shop}/admin/themes.json")
    assert (unknown_path.status_code, unknown_path.json()) == (404, {"errors": "Not Found"})
    unknown_shop = http.post(emulator.graphql_url("nope.myshopify.com"), json={"query": "{}"})
    assert (unknown_shop.status_code, unknown_shop.json()) == (404, {"errors": "Not Found"})


def test_opening_the_app_in_the_admin_redirects_with_a_signed_id_token(http, emulator, shop):
    response = http.get(f"{emulator.base_url}/{shop}/admin/apps/{TEST_API_KEY}/settings")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    target = f"{location.scheme}://{location.netloc}{location.path}"
    assert target == "https://loyalty.test/settings"
    params = dict(parse_qsl(location.query))
    assert (params["embedded"], params["shop"]) == ("1", shop)
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    assert params["hmac"] == hmac.new(TEST_API_SECRET.encode(), message.encode(),
                                      hashlib.sha256).hexdigest()
    claims = jwt.decode(params["id_token"], TEST_API_SECRET, algorithms=["HS256"],
                        audience=TEST_API_KEY)
    assert claims["dest"] == f"https://{shop}"


def test_opening_another_app_is_404(http, emulator, shop):
    assert http.get(f"{emulator.base_url}/{shop}/admin/apps/someone-else").status_code == 404


def test_scopes_proxy_and_webhook_path_come_from_the_app_configuration(tmp_path):
    toml = tmp_path / "shopify.app.toml"
    toml.write_text('[access_scopes]\nscopes = "read_orders"\n'
                    '[app_proxy]\nurl = "https://app.example.com/storefront"\n'
                    'prefix = "a"\nsubpath = "points"\n'
                    '[[webhooks.subscriptions]]\ntopics = ["orders/paid"]\nuri = "/hooks"\n')
    emu = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, "https://loyalty.test", app_toml=toml)
    assert (emu.scopes, emu.proxy_path_prefix, emu.proxy_url, emu.webhook_path) == (
        "read_orders", "/a/points", "/storefront", "/hooks")


def test_without_an_app_configuration_the_defaults_apply(tmp_path):
    emu = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, "https://loyalty.test",
                          app_toml=tmp_path / "missing.toml")
    assert (emu.proxy_path_prefix, emu.proxy_url, emu.webhook_path) == (
        "/apps/loyalty", "/proxy", "/webhooks")
    assert "write_discounts" in emu.scopes
