"""The shop-domain regex, Admin URLs and the emulator-rewriting transport."""

from __future__ import annotations

import httpx
import pytest

from app.config import API_VERSION, load_settings
from app.shopify.domains import (
    AdminBaseTransport,
    admin_url,
    graphql_url,
    shop_http_client,
    valid_shop,
)


@pytest.mark.parametrize("domain", ["demo.myshopify.com", "demo-shop-2.myshopify.com",
                                    "Demo.myshopify.com", "0x.myshopify.com"])
def test_a_myshopify_domain_is_accepted_in_lowercase(domain: str) -> None:
    assert valid_shop(domain) == domain.lower()


@pytest.mark.parametrize("domain", [
    "demo.myshopify.com\n", "demo.myshopify.com.evil.com", "evil.com/demo.myshopify.com",
    "-demo.myshopify.com", "demo.myshopify.com/admin", "demo_shop.myshopify.com",
    "https://demo.myshopify.com", ".myshopify.com", "demo.shopify.com", "", None, 42,
    "a.b.myshopify.com",
])
def test_anything_else_is_not_a_shop(domain: object) -> None:
    assert valid_shop(domain) is None


def test_admin_url_is_the_shop_itself_in_production() -> None:
    settings = load_settings({}, {"shopify_admin_base": None})
    assert admin_url(settings, "demo.myshopify.com", "/admin/oauth/authorize") == (
        "https://demo.myshopify.com/admin/oauth/authorize")


def test_admin_url_is_under_the_emulator_prefix_when_a_base_is_set() -> None:
    settings = load_settings({}, {"shopify_admin_base": "http://127.0.0.1:5001/"})
    assert graphql_url(settings, "demo.myshopify.com") == (
        f"http://127.0.0.1:5001/demo.myshopify.com/admin/api/{API_VERSION}/graphql.json")


def test_admin_url_refuses_a_foreign_host() -> None:
    settings = load_settings({}, {})
    with pytest.raises(ValueError):
        admin_url(settings, "evil.com", "/admin/oauth/authorize")


def test_the_transport_sends_shop_urls_to_the_emulator_with_its_host_header() -> None:
    seen: list[httpx.Request] = []

    def emulator(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    transport = AdminBaseTransport("http://127.0.0.1:5001/base", httpx.MockTransport(emulator))
    with httpx.Client(transport=transport) as client:
        client.post("https://demo.myshopify.com/admin/api/2026-07/graphql.json?x=1",
                    json={"query": "{ shop { id } }"})
    assert str(seen[0].url) == (
        "http://127.0.0.1:5001/base/demo.myshopify.com/admin/api/2026-07/graphql.json?x=1")
    assert seen[0].headers["Host"] == "127.0.0.1:5001"
    assert seen[0].content == b'{"query":"{ shop { id } }"}'


def test_the_transport_leaves_other_urls_alone() -> None:
    seen: list[str] = []
    transport = AdminBaseTransport("http://127.0.0.1:5001",
                                   httpx.MockTransport(lambda r: (seen.append(str(r.url)),
                                                                  httpx.Response(204))[1]))
    with httpx.Client(transport=transport) as client:
        client.get("https://example.com/x")
    assert seen == ["https://example.com/x"]


def test_the_shop_client_rewrites_only_when_the_emulator_is_configured() -> None:
    seen: list[str] = []
    mock = httpx.MockTransport(lambda r: (seen.append(str(r.url)), httpx.Response(204))[1])
    emulated = load_settings({}, {"shopify_admin_base": "http://127.0.0.1:9"})
    with shop_http_client(emulated, mock) as client:
        client.get("https://demo.myshopify.com/admin/oauth/authorize")
    with shop_http_client(load_settings({}, {}), mock) as client:
        client.get("https://demo.myshopify.com/admin/oauth/authorize")
    assert seen == ["http://127.0.0.1:9/demo.myshopify.com/admin/oauth/authorize",
                    "https://demo.myshopify.com/admin/oauth/authorize"]
