"""The local Shopify emulator as pytest fixtures, for any test that needs Shopify over HTTP.

    from tests.support.emulator_fixture import emulator, live_server  # noqa: F401 (fixtures)

    def test_something(emulator, live_server, app):
        emulator.app_url = live_server(app)          # webhooks and the proxy reach the app
        emulator.add_shop("demo.myshopify.com")
        with emulator_http_client(emulator.base_url) as http:   # https://{shop}/… → emulator
            ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from devstore import BackgroundServer, ShopifyEmulator
from tests.conftest import TEST_API_KEY, TEST_API_SECRET

# Matches tests.conftest.app_config's shopify_app_url, so OAuth redirect_uri checks pass.
DEFAULT_APP_URL = "https://loyalty.test"


class EmulatorTransport(httpx.BaseTransport):
    """Sends `https://{shop}.myshopify.com/…` to `{base}/{shop}.myshopify.com/…`."""

    def __init__(self, base_url: str):
        """Rewrite towards this emulator base URL."""
        self.base = httpx.URL(base_url)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Rewrite Shopify-bound requests; pass every other request through unchanged."""
        host = request.url.host
        if host.endswith(".myshopify.com"):
            url = self.base.copy_with(path=f"/{host}{request.url.path}",
                                      query=request.url.query or None)
            headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"]
            headers.insert(0, ("Host", url.netloc.decode("ascii")))
            request = httpx.Request(request.method, url, headers=headers,
                                    stream=request.stream, extensions=request.extensions)
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the pooled connections."""
        self._inner.close()


def emulator_http_client(base_url: str, **kwargs: Any) -> httpx.Client:
    """An httpx.Client for shopifyapp's `http_client=`: Shopify URLs reach the emulator."""
    return httpx.Client(transport=EmulatorTransport(base_url), **kwargs)


@contextmanager
def live_app_server(app: Any) -> Iterator[str]:
    """Serve a WSGI/Flask app on 127.0.0.1:<free port> in a thread; yields its URL."""
    server = BackgroundServer(app)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], str]]:
    """Start servers for apps during the test (`url = live_server(app)`); all stop after it."""
    servers: list[BackgroundServer] = []

    def serve(app: Any) -> str:
        """Serve one app; returns its URL."""
        server = BackgroundServer(app)
        servers.append(server)
        return server.start()

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture
def emulator() -> Iterator[ShopifyEmulator]:
    """A running emulator with the test app's credentials; set `.app_url` to reach the app."""
    emu = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, app_url=DEFAULT_APP_URL)
    with emu:
        yield emu
