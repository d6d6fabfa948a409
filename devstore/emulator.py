"""ShopifyEmulator: a local Shopify that speaks Shopify's protocols over real HTTP.

Every shop lives under a path prefix of its domain (`{base}/demo.myshopify.com/admin/...`); the
app maps `https://{shop}/...` to `{base}/{shop}/...`. The emulator knows nothing of the app: it
signs, throttles and answers as Shopify does, and keeps what the app did for tests to inspect.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import tomllib
import uuid
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from devstore import history, payloads
from devstore.bulk import BulkRunner
from devstore.server import BackgroundServer
from devstore.signing import (
    admin_session_token,
    extension_session_token,
    flatten_params,
    proxy_signature,
    webhook_hmac,
)
from devstore.state import (
    PLAN_LIMITS,
    FailureRule,
    IssuedToken,
    ShopState,
    ThrottleBucket,
    next_id,
)

# What a merchant may choose for the app proxy URL of their store (shopify.dev
# docs/apps/online-store/app-proxies): one of these prefixes, and a subpath of letters,
# numbers, underscores and hyphens, up to 30 characters, other than the reserved words.
PROXY_PREFIXES = ("apps", "a", "community", "tools")
PROXY_SUBPATH = re.compile(r"[A-Za-z0-9_-]{1,30}")
RESERVED_PROXY_SUBPATHS = frozenset({"admin", "services", "password", "login"})
# Used only when shopify.app.toml cannot be read (shopify-notes §4).
DEFAULT_SCOPES = "read_orders,read_customers,write_customers,write_discounts,write_app_proxy"
FAILURE_KINDS = ("http_503", "http_429", "throttled", "user_error", "network")
DEFAULT_ACCESS_TOKEN_TTL = 3600
# Refresh tokens live 90 days (shopify.dev changelog "More resilient refreshes…", 2026-08-28).
DEFAULT_REFRESH_TOKEN_TTL = 90 * 24 * 3600


def app_toml_settings(path: str | Path | None = None) -> dict[str, str]:
    """What Shopify knows from the app's shopify.app.toml: scopes, app proxy, webhook URI.

    Read from $SHOPIFY_APP_TOML, else the repository root; {} when there is none, so the
    emulator's defaults apply. https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration
    """
    location = Path(path or os.environ.get("SHOPIFY_APP_TOML")
                    or Path(__file__).resolve().parents[1] / "shopify.app.toml")
    try:
        config = tomllib.loads(location.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    found: dict[str, str] = {}
    scopes = (config.get("access_scopes") or {}).get("scopes")
    if scopes:
        found["scopes"] = str(scopes)
    proxy = config.get("app_proxy") or {}
    for key, name in (("prefix", "proxy_prefix"), ("subpath", "proxy_subpath"),
                      ("url", "proxy_url")):
        if proxy.get(key):
            found[name] = urlsplit(str(proxy[key])).path or "/"
    for subscription in (config.get("webhooks") or {}).get("subscriptions") or []:
        if subscription.get("uri"):
            found.setdefault("webhook_path", urlsplit(str(subscription["uri"])).path)
    return found


@dataclass(frozen=True)
class DeliveryResult:
    """One webhook delivery attempt and the app's answer (status 0: no connection)."""

    topic: str
    webhook_id: str
    event_id: str
    status: int
    body: str


class ShopifyEmulator:
    """Shopify on localhost: OAuth, token exchange and refresh, Admin GraphQL, app proxy,
    session tokens and signed webhooks, with throttling and failure injection."""

    def __init__(self, client_id: str, client_secret: str, app_url: str,
                 api_version: str = "2026-07", *, scopes: str | None = None,
                 proxy_prefix: str | None = None, proxy_subpath: str | None = None,
                 proxy_url: str | None = None, webhook_path: str | None = None,
                 app_toml: str | Path | None = None,
                 access_token_ttl: int = DEFAULT_ACCESS_TOKEN_TTL,
                 refresh_token_ttl: int = DEFAULT_REFRESH_TOKEN_TTL,
                 keep_used_refresh_token: bool = False, app_id: int | None = None,
                 clock: Any = time.time, request_timeout: float = 10.0):
        """Configure the emulator; nothing listens until start().

        Scopes, the app proxy and the webhook path default to shopify.app.toml's, as Shopify
        takes them from the deployed app configuration.
        """
        toml = app_toml_settings(app_toml)
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_url = app_url
        self.api_version = api_version
        self.scopes = scopes or toml.get("scopes", DEFAULT_SCOPES)
        self.proxy_prefix = proxy_prefix or toml.get("proxy_prefix", "apps")
        self.proxy_subpath = proxy_subpath or toml.get("proxy_subpath", "loyalty")
        self.proxy_url = proxy_url or toml.get("proxy_url", "/proxy")
        self.webhook_path = webhook_path or toml.get("webhook_path", "/webhooks")
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.keep_used_refresh_token = keep_used_refresh_token
        # `$app` metafield namespaces resolve to app--<this id>.
        self.app_id = app_id if app_id is not None else 1_000_000 + zlib.crc32(
            client_id.encode()) % 9_000_000
        self.clock = clock
        self.request_timeout = request_timeout
        self.lock = threading.RLock()
        self.shops: dict[str, ShopState] = {}
        self.failures: list[FailureRule] = []
        self._server: BackgroundServer | None = None
        self._wsgi_app: Any = None
        self._proxy_http: httpx.Client | None = None
        self._proxy_http_lock = threading.Lock()
        self.bulk = BulkRunner(lambda: self.base_url)

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def wsgi_app(self) -> Any:
        """The emulator's Flask app (for a test client or another server)."""
        from devstore.web import create_emulator_app

        if self._wsgi_app is None:
            self._wsgi_app = create_emulator_app(self)
        return self._wsgi_app

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port> while running."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start()")
        return self._server.url

    @property
    def running(self) -> bool:
        """Whether start() has it serving."""
        return self._server is not None

    @property
    def proxy_http(self) -> httpx.Client:
        """The one HTTP client of the app proxy's hops (the storefront to the emulator, the
        emulator to the app). A new client per request builds a TLS context from the whole
        certificate store, about 60 ms each time: twice on every proxied call a shopper waits
        for. It keeps no cookies: each call carries only its own visitor's, and cookies never
        reach the app (shopify.dev "About app proxies")."""
        with self._proxy_http_lock:
            if self._proxy_http is None:
                self._proxy_http = httpx.Client(cookies=CookieJar(
                    policy=DefaultCookiePolicy(allowed_domains=[])))
            return self._proxy_http

    def start(self, port: int = 0) -> str:
        """Serve in a background thread (port 0: chosen by the OS); returns the base URL."""
        if self._server is None:
            self._server = BackgroundServer(self.wsgi_app, port=port)
            self._server.start()
        return self._server.url

    def stop(self) -> None:
        """Stop serving and join every thread the server started."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self.bulk.close()
        with self._proxy_http_lock:
            http, self._proxy_http = self._proxy_http, None
        if http is not None:
            http.close()

    def __enter__(self) -> ShopifyEmulator:
        """Start serving for the `with` block."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop serving at the end of the `with` block."""
        self.stop()

    # --- shops and their data -----------------------------------------------------------------

    def add_shop(self, domain: str, name: str | None = None, currency: str = "USD",
                 plan: str = "Basic", *, email: str | None = None,
                 timezone: str = "America/New_York",
                 primary_domain: str | None = None) -> ShopState:
        """Create a shop (the app counts as installed with the emulator's scopes)."""
        maximum, rate = PLAN_LIMITS.get(plan.lower(), PLAN_LIMITS["basic"])
        handle = domain.removesuffix(".myshopify.com")
        state = ShopState(
            domain=domain, name=name or handle.replace("-", " ").title(), currency=currency,
            plan=plan, shop_id=next_id(), installation_id=next_id(),
            email=email or f"owner@{handle}.example", timezone=timezone,
            bucket=ThrottleBucket(maximum, rate, maximum, self.clock()),
            granted_scopes=self.scopes, primary_domain=primary_domain)
        with self.lock:
            self.shops[domain] = state
        return state

    def add_order_history(self, domain: str, count: int, **options: Any) -> list[int]:
        """Give a shop `count` past orders (devstore/history.py); their ids, oldest first."""
        with self.lock:
            return history.add_order_history(self.shop(domain), count, **options)

    def shop(self, domain: str) -> ShopState:
        """A shop's state (KeyError for an unknown shop)."""
        return self.shops[domain]

    def admin_url(self, shop: str, path: str = "") -> str:
        """Where `https://{shop}{path}` lives on the emulator."""
        return f"{self.base_url}/{shop}{path}"

    def graphql_url(self, shop: str, api_version: str | None = None) -> str:
        """The Admin GraphQL endpoint of a shop."""
        return self.admin_url(shop, f"/admin/api/{api_version or self.api_version}/graphql.json")

    def state(self, shop: str) -> dict[str, Any]:
        """JSON-ready dump: discounts, metafields, store credit, calls (as /_emulator/state)."""
        with self.lock:
            return self.shop(shop).dump()

    # --- tokens -------------------------------------------------------------------------------

    def _now(self, now: float | int | None) -> int:
        """Whole seconds: the given time, else the emulator's clock."""
        return int(self.clock() if now is None else now)

    def mint_admin_session_token(self, shop: str, user_id: int | str = 1, ttl: int = 60,
                                 now: float | int | None = None,
                                 secret: str | None = None) -> str:
        """An App Bridge id_token for the shop's admin (shopify-notes §1B claims)."""
        return admin_session_token(shop, self.client_id, secret or self.client_secret,
                                   user_id=user_id, now=self._now(now), ttl=ttl)

    def mint_pos_session_token(self, shop: str, user_id: int | str = 1, ttl: int = 60,
                               now: float | int | None = None,
                               secret: str | None = None) -> str:
        """What `shopify.session.getSessionToken()` gives a POS UI extension: the OpenID
        Connect ID token of the user logged into POS, the App Bridge id_token's kind
        (https://shopify.dev/docs/api/pos-ui-extensions/2026-07/target-apis/standard-apis/session-api)."""
        return self.mint_admin_session_token(shop, user_id=user_id, ttl=ttl, now=now,
                                             secret=secret)

    def mint_extension_session_token(self, shop: str, customer_id: int | str | None = None,
                                     ttl: int = 300, now: float | int | None = None,
                                     secret: str | None = None) -> str:
        """A checkout / customer-account extension token (§6: bare dest, no iss or sid)."""
        return extension_session_token(shop, self.client_id, secret or self.client_secret,
                                       customer_id=customer_id, now=self._now(now), ttl=ttl)

    def issue_access_token(self, shop: str, *, expiring: bool = True,
                           scope: str | None = None) -> IssuedToken:
        """Seed an offline token as if the app had already authenticated (no HTTP)."""
        from devstore.endpoints import _issue

        with self.lock:
            state = self.shop(shop)
            token, _ = _issue(self, state, grant="seeded", scope=scope or state.granted_scopes
                              or self.scopes, expiring=expiring)
        return token

    def expire_access_token(self, shop: str) -> None:
        """Expire every access token of the shop now, so the app has to refresh."""
        with self.lock:
            now = self.clock()
            for token in self.shop(shop).tokens.values():
                if token.active(now):
                    token.expires_at = now - 1

    def uninstall_app(self, shop: str, *, notify: bool = True) -> tuple[int, str] | None:
        """Revoke every token and, when notify, send app/uninstalled like Shopify does.

        The app installation goes with it: app-data metafields are tied to one installation
        (shopify.dev/docs/apps/build/custom-data/ownership#app-data-metafields), and a later
        install is a new AppInstallation that holds none of them.
        """
        with self.lock:
            state = self.shop(shop)
            owner = state.installation_gid
            for key in [k for k in state.metafields if k[0] == owner]:
                del state.metafields[key]
            state.installation_id = next_id()
            state.tokens.clear()
            state.refresh_tokens.clear()
            state.granted_scopes = None
            body = payloads.shop_payload(shop, name=state.name, currency=state.currency,
                                         shop_id=state.shop_id,
                                         api_version=self.api_version)
        return self.send_webhook(shop, "app/uninstalled", body) if notify else None

    # --- throttling and failures --------------------------------------------------------------

    def set_throttle(self, shop: str, maximum_available: float = 2000.0,
                     restore_rate: float = 100.0,
                     currently_available: float | None = None) -> None:
        """Set the shop's leaky bucket (full unless currently_available is given)."""
        with self.lock:
            self.shop(shop).bucket = ThrottleBucket(
                float(maximum_available), float(restore_rate),
                float(maximum_available if currently_available is None else currently_available),
                self.clock())

    def fail_next(self, operation_name_or_field: str, kind: str = "http_503", times: int = 1,
                  retry_after: int | None = None) -> None:
        """Make the next `times` matching requests fail.

        The name matches a GraphQL operation name or root field, `oauth/access_token` (or a
        grant type) for the token endpoint, or `*` for any request.
        """
        if kind not in FAILURE_KINDS:
            raise ValueError(f"kind must be one of {FAILURE_KINDS}, not {kind!r}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self.lock:
            self.failures.append(FailureRule(operation_name_or_field, kind, times, retry_after))

    def take_failure(self, names: list[str | None],
                     kinds: Iterable[str] | None = None) -> FailureRule | None:
        """Consume one injected failure matching a request, if any."""
        allowed = set(kinds) if kinds is not None else None
        with self.lock:
            for rule in self.failures:
                if rule.matches(names) and (allowed is None or rule.kind in allowed):
                    rule.times -= 1
                    if rule.times <= 0:
                        self.failures.remove(rule)
                    return replace(rule)
        return None

    # --- app proxy ----------------------------------------------------------------------------

    @property
    def proxy_path_prefix(self) -> str:
        """The storefront path the app's configuration asks for, e.g. /apps/loyalty."""
        return f"/{self.proxy_prefix}/{self.proxy_subpath}"

    def proxy_path_for(self, shop: str) -> str:
        """The storefront path Shopify proxies on this shop: the merchant's, else the app's."""
        with self.lock:
            state = self.shops.get(shop)
            custom = state.proxy_path if state is not None else None
        return custom or self.proxy_path_prefix

    def customize_app_proxy(self, shop: str, prefix: str, subpath: str) -> str:
        """What a merchant does in the admin's app settings (App proxy > Customize URL): the
        store's proxy moves to /<prefix>/<subpath> and the old path stops being proxied.
        Returns the new path; ValueError for one Shopify's form would refuse."""
        if prefix not in PROXY_PREFIXES:
            raise ValueError(f"prefix must be one of {PROXY_PREFIXES}, not {prefix!r}")
        if not PROXY_SUBPATH.fullmatch(subpath) or subpath.lower() in RESERVED_PROXY_SUBPATHS:
            raise ValueError(f"{subpath!r} is not a subpath Shopify accepts")
        path = f"/{prefix}/{subpath}"
        with self.lock:
            self.shop(shop).proxy_path = None if path == self.proxy_path_prefix else path
        return path

    def proxy_params(self, shop: str, original: Iterable[tuple[str, str]],
                     logged_in_customer_id: str | int | None,
                     now: float | int | None = None) -> list[tuple[str, str]]:
        """The parameters Shopify appends to a proxied request, signature last."""
        added = [("shop", shop),
                 ("logged_in_customer_id",
                  "" if logged_in_customer_id is None else str(logged_in_customer_id)),
                 ("path_prefix", self.proxy_path_for(shop)),
                 ("timestamp", str(self._now(now)))]
        signature = proxy_signature([*original, *added], self.client_secret)
        return [*added, ("signature", signature)]

    def sign_proxy_query(self, shop: str, params: Mapping[str, Any] | None = None,
                         logged_in_customer_id: str | int | None = None,
                         now: float | int | None = None) -> str:
        """A query string as the app receives it through the proxy (params + Shopify's)."""
        original = flatten_params(params or {})
        return urlencode([*original, *self.proxy_params(shop, original, logged_in_customer_id,
                                                        now)])

    # --- webhooks -----------------------------------------------------------------------------

    def sample_payload(self, topic: str, **overrides: Any) -> dict[str, Any]:
        """Shopify's sample body for a topic, made into a variant by overrides.

        orders/*: see payloads.order_payload (customer_id, email, line_items, discount_codes,
        note_attributes, browser_ip, shipping_address, total, …); shop=<domain> of a shop the
        emulator knows writes that shop's own order_status_url. refunds/create: order=<order
        payload>, line_items=[(line_item_id, qty)], amount. customers/create|update:
        customer_id, email, first_name, last_name. customers_email_marketing_consent/update:
        customer_id, email, state, opt_in_level, consent_updated_at. app/uninstalled,
        shop/update and compliance topics: shop=<domain>.
        """
        version = overrides.pop("api_version", self.api_version)
        if topic in payloads.ORDER_TOPICS:
            shop = overrides.pop("shop", None)
            owner = {"shop": shop, **self._shop_id_of(shop)} if shop else {}
            return payloads.order_payload(topic, api_version=version, **{**owner, **overrides})
        if topic == "refunds/create":
            order = overrides.pop("order", None) or payloads.order_payload(api_version=version)
            return payloads.refund_payload(order, api_version=version, **overrides)
        if topic in ("customers/create", "customers/update"):
            return payloads.customer_payload(api_version=version, **overrides)
        if topic == "customers_email_marketing_consent/update":
            return payloads.consent_payload(api_version=version, **overrides)
        if topic in ("app/uninstalled", "shop/update"):  # both send the Shop resource
            shop = overrides.pop("shop", "shop.myshopify.com")
            with self.lock:
                state = self.shops.get(shop)
            # `domain` is the shop's primary domain, `myshopify_domain` its permanent one.
            primary = {"domain": state.primary_host} if state is not None else {}
            return payloads.shop_payload(shop, topic=topic, api_version=version,
                                         **{**self._shop_id_of(shop), **primary, **overrides})
        if topic == "app_subscriptions/update":
            shop = overrides.pop("shop", None)
            body = payloads.sample(topic, version)
            ids = self._shop_id_of(shop) if shop else {}
            if ids:
                body["app_subscription"]["admin_graphql_api_shop_id"] = (
                    f"gid://shopify/Shop/{ids['shop_id']}")
            body["app_subscription"].update(overrides)
            return body
        if topic in ("customers/data_request", "customers/redact", "shop/redact"):
            shop = overrides.pop("shop", "shop.myshopify.com")
            return payloads.compliance_payload(topic, shop, api_version=version,
                                               **{**self._shop_id_of(shop), **overrides})
        return {**payloads.sample(topic, version), **overrides}

    def _shop_id_of(self, shop: str) -> dict[str, int]:
        """{shop_id: …} of a shop the emulator knows: Shopify names its own shop's id."""
        with self.lock:
            state = self.shops.get(shop)
        return {"shop_id": state.shop_id} if state is not None else {}

    def webhook_request(self, shop: str, topic: str, payload: dict[str, Any] | bytes, *,
                        webhook_id: str | None = None, event_id: str | None = None,
                        triggered_at: str | None = None, secret: str | None = None,
                        headers_override: Mapping[str, str | None] | None = None
                        ) -> tuple[bytes, dict[str, str]]:
        """The exact body and headers Shopify would POST (nothing is sent)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": webhook_hmac(body, secret or self.client_secret),
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
            "X-Shopify-Triggered-At": triggered_at or _iso_millis(self.clock()),
        }
        for name, value in (headers_override or {}).items():
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        return body, headers

    def send_webhook(self, shop: str, topic: str, payload: dict[str, Any] | bytes,
                     webhook_id: str | None = None, event_id: str | None = None,
                     triggered_at: str | None = None, secret: str | None = None,
                     headers_override: Mapping[str, str | None] | None = None
                     ) -> tuple[int, str]:
        """POST a signed delivery to {app_url}/webhooks; returns (status, body), 0 if unreachable.

        Orders and customers sent this way are remembered by the shop, as Shopify would know
        them, so `order(id:)` and `customer(id:)` answer for them.
        """
        body, headers = self.webhook_request(shop, topic, payload, webhook_id=webhook_id,
                                             event_id=event_id, triggered_at=triggered_at,
                                             secret=secret, headers_override=headers_override)
        if isinstance(payload, dict) and shop in self.shops:
            with self.lock:
                _remember(self.shops[shop], topic, payload)
        url = self.app_url.rstrip("/") + self.webhook_path
        try:
            with httpx.Client(timeout=self.request_timeout) as client:
                response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}"
        return response.status_code, response.text

    def send_flow_action(self, shop: str, handle: str, properties: dict[str, Any], *,
                         action_run_id: str | None = None, secret: str | None = None
                         ) -> httpx.Response:
        """Run one of the app's Flow actions as Flow does: a signed POST to its runtime_url
        path on the app (devstore/flow.py); the same action_run_id is a resend."""
        from devstore.flow import send_flow_action

        state = self.shop(shop)
        return send_flow_action(self.app_url, shop, state.shop_id, handle, properties,
                                secret or self.client_secret, action_run_id=action_run_id,
                                timeout=self.request_timeout)

    def deliver(self, shop: str, deliveries: list[Any], *, duplicate: int = 1,
                shuffle: bool = False, delay_s: float = 0, seed: int | None = None
                ) -> list[DeliveryResult]:
        """Deliver several webhooks as Shopify may: each `duplicate` times, shuffled, late.

        A delivery is (topic, payload) or {topic, payload, webhook_id?, event_id?,
        triggered_at?}. Duplicates keep their webhook and event ids; delay_s waits before
        every send.
        """
        expanded = []
        for item in deliveries:
            spec = dict(item) if isinstance(item, Mapping) else {"topic": item[0],
                                                                  "payload": item[1]}
            spec.setdefault("webhook_id", str(uuid.uuid4()))
            spec.setdefault("event_id", str(uuid.uuid4()))
            spec.setdefault("triggered_at", _iso_millis(self.clock()))
            expanded.extend([spec] * duplicate)
        if shuffle:
            random.Random(seed).shuffle(expanded)
        results = []
        for spec in expanded:
            if delay_s:
                time.sleep(delay_s)
            status, text = self.send_webhook(shop, spec["topic"], spec["payload"],
                                             webhook_id=spec["webhook_id"],
                                             event_id=spec["event_id"],
                                             triggered_at=spec["triggered_at"])
            results.append(DeliveryResult(spec["topic"], spec["webhook_id"], spec["event_id"],
                                          status, text))
        return results


def _iso_millis(ts: float) -> str:
    """X-Shopify-Triggered-At style: 2026-11-27T10:00:00.123Z."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _remember(shop: ShopState, topic: str, payload: dict[str, Any]) -> None:
    """Keep what a delivery tells about the shop's orders and customers."""
    if topic.startswith("orders/") and payload.get("id") is not None:
        shop.orders[int(payload["id"])] = payload
        customer = payload.get("customer")
        if customer and customer.get("id") is not None:
            _remember_customer(shop, customer)
            _recount_customer(shop, int(customer["id"]))
    elif topic == "refunds/create" and payload.get("order_id") is not None:
        order = shop.orders.get(int(payload["order_id"]))
        if order is not None:
            refunds = [r for r in order.get("refunds") or [] if r.get("id") != payload.get("id")]
            order["refunds"] = [*refunds, payload]
    elif topic in ("customers/create", "customers/update") and payload.get("id") is not None:
        _remember_customer(shop, payload)
    elif (topic == "customers_email_marketing_consent/update"
          and payload.get("customer_id") is not None):
        _remember_consent(shop, payload)


def _remember_customer(shop: ShopState, data: dict[str, Any]) -> None:
    """Record (or update) a customer from a payload, keeping known fields.

    Customer payloads carry no tags and no marketing consent since API 2025-01 (tags come
    on customer.tags_added, consent on customers_email_marketing_consent/update).
    """
    known = {k: v for k, v in {"email": data.get("email"), "first_name": data.get("first_name"),
                               "last_name": data.get("last_name"), "phone": data.get("phone"),
                               "note": data.get("note")}.items() if v is not None}
    if data.get("state"):
        known["state"] = data["state"]
    shop.add_customer(int(data["id"]), **known)


def _remember_consent(shop: ShopState, payload: dict[str, Any]) -> None:
    """A consent change becomes the customer's defaultEmailAddress state, unless the customer
    already holds a later one (Shopify keeps the latest change)."""
    consent = payload.get("email_marketing_consent") or {}
    customer = shop.add_customer(int(payload["customer_id"]))
    if payload.get("email_address"):
        customer.email = payload["email_address"]
    changed_at = consent.get("consent_updated_at")
    held = customer.email_marketing_updated_at
    if changed_at and held and _instant(changed_at) < _instant(held):
        return
    customer.email_marketing_state = str(consent.get("state") or "not_subscribed").upper()
    customer.email_marketing_updated_at = changed_at or held


def _instant(value: str) -> datetime:
    """An ISO 8601 time with offset, comparable across offsets."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _recount_customer(shop: ShopState, customer_id: int) -> None:
    """Recompute a customer's order count and amount spent from known orders."""
    orders = [o for o in shop.orders.values()
              if (o.get("customer") or {}).get("id") is not None
              and int(o["customer"]["id"]) == customer_id]
    customer = shop.customers[customer_id]
    customer.number_of_orders = len(orders)
    customer.amount_spent = sum((Decimal(str(o.get("current_total_price") or o.get(
        "total_price") or "0")) for o in orders if not o.get("cancelled_at")), Decimal("0"))
