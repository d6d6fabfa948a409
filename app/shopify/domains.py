"""Shop domains, Admin URLs and the HTTP client that reaches them (production or emulator)."""

from __future__ import annotations

import re

import httpx

from app.config import Settings

# shopify.dev security check WEAK_SHOP_VALIDATION: anchored, myshopify.com only (notes §1A).
# Always used with fullmatch, so a trailing newline or path can never slip through.
SHOP_DOMAIN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com")
MYSHOPIFY_SUFFIX = ".myshopify.com"

# Shopify's token endpoint and Admin API answer slowly at worst in seconds; never hang a worker.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def valid_shop(value: object) -> str | None:
    """The lowercased shop domain if `value` is exactly `<handle>.myshopify.com`, else None."""
    if not isinstance(value, str) or not SHOP_DOMAIN.fullmatch(value):
        return None
    return value.lower()


def shop_handle(shop: str) -> str:
    """`demo` for `demo.myshopify.com`: the form shopifyapp's exchange and GraphQL take."""
    return shop[: -len(MYSHOPIFY_SUFFIX)] if shop.endswith(MYSHOPIFY_SUFFIX) else shop


def api_version(settings: Settings) -> str:
    """The one Admin API version the app speaks (app.config.API_VERSION unless overridden)."""
    return settings.shopify_api_version


def admin_url(settings: Settings, shop: str, path: str) -> str:
    """`https://{shop}{path}`, or `{SHOPIFY_ADMIN_BASE}/{shop}{path}` against the emulator."""
    if not path.startswith("/"):
        raise ValueError("path must start with '/'")
    if valid_shop(shop) is None:
        raise ValueError("not a myshopify.com shop domain")
    if settings.shopify_admin_base:
        return f"{settings.shopify_admin_base.rstrip('/')}/{shop}{path}"
    return f"https://{shop}{path}"


def graphql_url(settings: Settings, shop: str) -> str:
    """The shop's Admin GraphQL endpoint at the pinned version."""
    return admin_url(settings, shop, f"/admin/api/{api_version(settings)}/graphql.json")


class AdminBaseTransport(httpx.BaseTransport):
    """Sends `https://{shop}/…` to `{base}/{shop}/…`, so shopifyapp's own URLs reach the emulator.

    Any other URL passes through unchanged.
    """

    def __init__(self, base: str, inner: httpx.BaseTransport | None = None) -> None:
        """Wrap `inner` (the network), sending shop URLs to `base`."""
        self.base = httpx.URL(base.rstrip("/"))
        self.inner = inner or httpx.HTTPTransport()

    def rewrite(self, url: httpx.URL) -> httpx.URL:
        """The emulator URL for a shop URL; other URLs unchanged."""
        if url.scheme != "https" or not SHOP_DOMAIN.fullmatch(url.host):
            return url
        path = f"{self.base.path.rstrip('/')}/{url.host}{url.path}"
        return self.base.copy_with(path=path, query=url.query or None)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request to its rewritten URL."""
        url = self.rewrite(request.url)
        if url is not request.url:
            headers = httpx.Headers(request.headers)
            headers["Host"] = url.netloc.decode("ascii")
            request = httpx.Request(request.method, url, headers=headers, stream=request.stream,
                                    extensions=request.extensions)
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


def shop_http_client(settings: Settings, transport: httpx.BaseTransport | None = None
                     ) -> httpx.Client:
    """The client for every call to Shopify; rewrites to SHOPIFY_ADMIN_BASE when it is set.

    `transport` replaces the network (tests pass httpx.MockTransport); the caller closes the
    client.
    """
    if settings.shopify_admin_base:
        transport = AdminBaseTransport(settings.shopify_admin_base, transport)
    return httpx.Client(transport=transport, timeout=HTTP_TIMEOUT, follow_redirects=False)
