"""Fixtures for the emulator's own tests: a shop, a token, a GraphQL caller, a webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from devstore import ShopifyEmulator

SHOP = "demo-shop.myshopify.com"


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, start: float = 1_790_000_000.0):
        """Start the clock at a fixed instant."""
        self.now = start

    def __call__(self) -> float:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Let time pass."""
        self.now += seconds


@pytest.fixture
def dead_url() -> str:
    """A URL where nothing listens: a port the OS handed out and that was closed again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def shop(emulator: ShopifyEmulator) -> str:  # noqa: F811 - fixture from emulator_fixture
    """A shop on the emulator with the app installed; its domain."""
    emulator.add_shop(SHOP, name="Demo Shop", currency="USD")
    return SHOP


@pytest.fixture
def access_token(emulator: ShopifyEmulator, shop: str) -> str:  # noqa: F811
    """A valid expiring offline access token for the shop."""
    return emulator.issue_access_token(shop).access_token


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client that does not follow redirects."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def gql(emulator: ShopifyEmulator, shop: str, access_token: str,  # noqa: F811
        http: httpx.Client) -> Callable[..., httpx.Response]:
    """POST a GraphQL document to the shop's Admin API with the shop's token."""

    def call(query: str, variables: dict[str, Any] | None = None, *,
             token: str | None = None, operation_name: str | None = None) -> httpx.Response:
        """POST one GraphQL request."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        return http.post(emulator.graphql_url(shop), json=body,
                         headers={"X-Shopify-Access-Token": token or access_token})

    return call


@dataclass
class Received:
    """One request a test receiver got (header names lower-cased)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A tiny WSGI app that records requests and answers with a canned response."""

    status: str = "200 OK"
    response_body: bytes = b'{"ok": true}'
    response_headers: list[tuple[str, str]] = field(
        default_factory=lambda: [("Content-Type", "application/json")])
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """Record the request and answer with the canned response."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        with self._lock:
            self.requests.append(Received(environ["REQUEST_METHOD"], environ["PATH_INFO"],
                                          environ.get("QUERY_STRING", ""), headers,
                                          environ["wsgi.input"].read(length)))
        start_response(self.status, self.response_headers)
        return [self.response_body]

    def json(self, index: int = -1) -> Any:
        """The JSON body of a received request."""
        return json.loads(self.requests[index].body)


@pytest.fixture
def receiver(live_server: Callable[[Any], str]) -> Receiver:  # noqa: F811
    """A running Receiver; its URL in `.url`."""
    app = Receiver()
    app.url = live_server(app)
    return app
