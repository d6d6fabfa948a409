"""Shopify's side of the wire for tests, written independently of app.shopify.

Signing follows shopify-notes §1A, §3 and §1B/§6 directly with hmac and PyJWT; FakeShopify is an
httpx.MockTransport handler for the token endpoint and Admin GraphQL (Shopify is not our code,
so faking it is fine; our own code paths are never mocked).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from tests.conftest import TEST_API_KEY, TEST_API_SECRET

SHOP = "demo-shop.myshopify.com"
OTHER_SHOP = "other-shop.myshopify.com"


def sign_oauth_params(params: dict[str, str], secret: str = TEST_API_SECRET) -> dict[str, str]:
    """params plus `hmac`: hex HMAC-SHA256 of sorted `k=v` pairs joined by `&`."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {**params, "hmac": digest}


def signed_oauth_query(params: dict[str, str], secret: str = TEST_API_SECRET) -> str:
    """A query string Shopify would send, with its hmac."""
    return urlencode(sign_oauth_params(params, secret))


def signed_proxy_query(params: dict[str, str], secret: str = TEST_API_SECRET) -> str:
    """An app-proxy query with `signature`: sorted `k=v` concatenated with no separator."""
    message = "".join(f"{k}={v}" for k, v in sorted(params.items()))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode({**params, "signature": digest})


def admin_token(shop: str = SHOP, *, secret: str = TEST_API_SECRET, aud: str = TEST_API_KEY,
                now: float | None = None, ttl: int = 60, user_id: str = "42",
                drop: tuple[str, ...] = (), algorithm: str = "HS256", **overrides: Any) -> str:
    """An App Bridge admin session token with every claim of notes §1B."""
    now = time.time() if now is None else now
    claims: dict[str, Any] = {
        "iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": aud, "sub": user_id,
        "exp": int(now) + ttl, "nbf": int(now) - 1, "iat": int(now) - 1,
        "jti": f"jti-{now}", "sid": "session-1",
    }
    claims.update(overrides)
    for name in drop:
        claims.pop(name, None)
    return jwt.encode(claims, secret if algorithm != "none" else None, algorithm=algorithm)


def extension_token(shop: str = SHOP, *, secret: str = TEST_API_SECRET, aud: str = TEST_API_KEY,
                    now: float | None = None, ttl: int = 300, customer_id: int | None = None,
                    drop: tuple[str, ...] = (), algorithm: str = "HS256",
                    **overrides: Any) -> str:
    """A checkout/customer-account extension token (notes §6): bare-host dest, no iss/sid."""
    now = time.time() if now is None else now
    claims: dict[str, Any] = {"dest": shop, "aud": aud, "exp": int(now) + ttl,
                              "nbf": int(now) - 1, "iat": int(now) - 1, "jti": f"jti-{now}"}
    if customer_id is not None:
        claims["sub"] = f"gid://shopify/Customer/{customer_id}"
    claims.update(overrides)
    for name in drop:
        claims.pop(name, None)
    return jwt.encode(claims, secret if algorithm != "none" else None, algorithm=algorithm)


@dataclass
class FakeShopify:
    """The token endpoint and Admin GraphQL of any number of shops, in memory.

    Refresh tokens rotate on use, as Shopify does. `graphql` maps a root field name (found in
    the query text) to a function of (variables, shop) returning the whole JSON body; `replies`
    queues raw httpx.Responses to send before anything else (429, 503, throttled bodies).
    """

    expires_in: int = 3600
    refresh_expires_in: int = 7_776_000
    delay_s: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> shop
    access_tokens: dict[str, str] = field(default_factory=dict)  # token -> shop
    codes: dict[str, str] = field(default_factory=dict)  # code -> shop
    graphql: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = field(
        default_factory=dict)
    replies: list[httpx.Response] = field(default_factory=list)
    refuse_exchange: bool = False
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> httpx.Client:
        """An httpx client whose network is this fake (the caller closes it)."""
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def issue_code(self, shop: str = SHOP) -> str:
        """An authorization code Shopify would put on the callback."""
        code = f"code{next(self._seq)}"
        self.codes[code] = shop
        return code

    def grant(self, shop: str) -> dict[str, Any]:
        """A new expiring offline token pair for the shop."""
        n = next(self._seq)
        access, refresh = f"shpat_{shop[:4]}_{n}", f"shprt_{shop[:4]}_{n}"
        self.access_tokens[access] = shop
        self.refresh_tokens[refresh] = shop
        return {"access_token": access, "scope": "read_orders,write_discounts",
                "expires_in": self.expires_in, "refresh_token": refresh,
                "refresh_token_expires_in": self.refresh_expires_in}

    def calls_to(self, kind: str) -> list[dict[str, Any]]:
        """Recorded calls of one kind: code, token_exchange, refresh, graphql."""
        return [c for c in self.calls if c["kind"] == kind]

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as Shopify would."""
        if self.delay_s:
            time.sleep(self.delay_s)
        shop = request.url.host
        with self._lock:
            if self.replies:
                self.calls.append({"kind": "scripted", "url": str(request.url)})
                return self.replies.pop(0)
            if request.url.path == "/admin/oauth/access_token":
                return self._token(shop, json.loads(request.content))
            if request.url.path.endswith("/graphql.json"):
                return self._graphql(shop, request)
        return httpx.Response(404, json={"errors": "Not Found"})

    def _token(self, shop: str, body: dict[str, Any]) -> httpx.Response:
        """The token endpoint: code grant, token exchange, rotating refresh."""
        if body.get("client_id") != TEST_API_KEY or body.get("client_secret") != TEST_API_SECRET:
            return httpx.Response(400, json={"error": "invalid_client"})
        grant_type = body.get("grant_type")
        if grant_type == "refresh_token":
            self.calls.append({"kind": "refresh", "shop": shop, "body": body})
            if self.refresh_tokens.pop(body.get("refresh_token"), None) != shop:
                return httpx.Response(400, json={"error": "invalid_grant"})
            return httpx.Response(200, json=self.grant(shop))
        if grant_type == "urn:ietf:params:oauth:grant-type:token-exchange":
            self.calls.append({"kind": "token_exchange", "shop": shop, "body": body})
            try:
                claims = jwt.decode(body.get("subject_token", ""), TEST_API_SECRET,
                                    algorithms=["HS256"], audience=TEST_API_KEY)
            except jwt.PyJWTError:
                return httpx.Response(400, json={"error": "invalid_subject_token"})
            if self.refuse_exchange or claims.get("dest") != f"https://{shop}":
                return httpx.Response(400, json={"error": "invalid_subject_token"})
            return httpx.Response(200, json=self.grant(shop))
        self.calls.append({"kind": "code", "shop": shop, "body": body})
        if self.codes.pop(body.get("code"), None) != shop:
            return httpx.Response(400, json={"error": "invalid_request",
                                             "error_description": "code is invalid"})
        return httpx.Response(200, json=self.grant(shop))

    def _graphql(self, shop: str, request: httpx.Request) -> httpx.Response:
        """Admin GraphQL: 401 for a token it did not issue, else the scripted answer."""
        token = request.headers.get("X-Shopify-Access-Token")
        body = json.loads(request.content)
        self.calls.append({"kind": "graphql", "shop": shop, "path": request.url.path,
                           "token": token, "query": body["query"],
                           "variables": body.get("variables")})
        if self.access_tokens.get(token) != shop:
            return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})
        # The root field is the first of the known fields to appear in the query.
        found = [(m.start(), root) for root in self.graphql
                 if (m := re.search(rf"\b{root}\s*[({{]", body["query"]))]
        if not found:
            return httpx.Response(200, json={"errors": [{"message": "unknown field"}]})
        answer = self.graphql[min(found)[1]]
        return httpx.Response(200, json=answer(body.get("variables") or {}, shop))


def shop_reply(name: str = "Demo Shop") -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """A `shop` query answer."""
    def answer(_variables: dict[str, Any], shop: str) -> dict[str, Any]:
        """The shop, in EUR."""
        return {"data": {"shop": {"id": "gid://shopify/Shop/777", "name": name,
                                  "email": "owner@example.com", "myshopifyDomain": shop,
                                  "currencyCode": "EUR", "ianaTimezone": "Europe/Berlin"}},
                "extensions": cost(1)}
    return answer


def cost(requested: float, available: float = 1990.0, restore: float = 100.0,
         maximum: float = 2000.0) -> dict[str, Any]:
    """An `extensions.cost` block."""
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": requested,
                     "throttleStatus": {"maximumAvailable": maximum,
                                        "currentlyAvailable": available,
                                        "restoreRate": restore}}}
