"""The authorization-code grant: install link, state nonce, callback checks, code exchange.

Embedded apps install through Shopify's managed installation and token exchange; this grant
serves a plain install link, non-embedded use and the local emulator (notes §0.1, §1A;
shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant).
shopifyapp does not implement it, so it lives here, small and exact.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx

from app.config import Settings
from app.shopify.domains import admin_url
from app.shopify.tokens import GrantResult, TokenGrant
from app.shopify.verify import Verification, verify_oauth_query

log = logging.getLogger(__name__)

STATE_COOKIE = "loyalty_oauth_state"
STATE_COOKIE_PATH = "/auth/callback"
STATE_MAX_AGE_S = 60
# Shopify's own host parameter: base64 of where the admin shows the app.
_ADMIN_HOST = re.compile(r"admin\.shopify\.com/store/[a-zA-Z0-9][a-zA-Z0-9-]*"
                         r"|[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com/admin")
_NONCE = re.compile(r"[0-9a-f]{64}")


def derived_key(secret: str, label: str) -> bytes:
    """A key for one purpose, derived from the client secret.

    Never sign our own cookies with the raw secret: such a value could be replayed as a
    webhook HMAC (shopify-api 13.1.0 advisory, notes §1A).
    """
    return hmac.new(secret.encode(), f"loyalty-loop:{label}".encode(), hashlib.sha256).digest()


def new_nonce() -> str:
    """32 random bytes as hex: the OAuth `state`."""
    return secrets.token_hex(32)


def _state_mac(settings: Settings, nonce: str, shop: str, issued_at: int) -> str:
    """The state cookie's MAC over nonce, shop and issue time, with a derived key."""
    key = derived_key(settings.shopify_api_secret, "oauth-state-cookie")
    return hmac.new(key, f"{nonce}|{shop}|{issued_at}".encode(), hashlib.sha256).hexdigest()


def state_cookie(settings: Settings, nonce: str, shop: str, now: float) -> str:
    """The signed cookie value that binds a nonce to the shop it was issued for."""
    issued_at = int(now)
    return f"{nonce}.{issued_at}.{_state_mac(settings, nonce, shop, issued_at)}"


def check_state(settings: Settings, cookie: str | None, state: str | None, shop: str,
                now: float) -> str | None:
    """None when the callback's state is the nonce we issued for this shop within 60 s."""
    if not cookie:
        return "missing_state_cookie"
    parts = cookie.split(".")
    if len(parts) != 3 or not _NONCE.fullmatch(parts[0]) or not parts[1].isdigit():
        return "invalid_state_cookie"
    nonce, issued, mac = parts[0], int(parts[1]), parts[2]
    if not hmac.compare_digest(_state_mac(settings, nonce, shop, issued), mac):
        return "invalid_state_cookie"
    if not 0 <= now - issued <= STATE_MAX_AGE_S:
        return "expired_state"
    if not state or not hmac.compare_digest(nonce, state):
        return "state_mismatch"
    return None


def redirect_uri(settings: Settings) -> str:
    """Where Shopify sends the merchant back: must be listed in shopify.app.toml."""
    return f"{settings.shopify_app_url.rstrip('/')}/auth/callback"


def authorize_url(settings: Settings, shop: str, nonce: str) -> str:
    """The shop's consent screen for our scopes; an empty grant option asks for offline access."""
    query = urlencode({"client_id": settings.shopify_api_key, "scope": settings.scopes,
                       "redirect_uri": redirect_uri(settings), "state": nonce,
                       "grant_options[]": ""})
    return f"{admin_url(settings, shop, '/admin/oauth/authorize')}?{query}"


def verify_callback(settings: Settings, query_string: str, cookie: str | None,
                    now: float) -> Verification:
    """The callback's query HMAC, timestamp and shop, then its state against our cookie."""
    check = verify_oauth_query(settings, query_string, now)
    if not check.ok:
        return check
    assert check.shop is not None and check.params is not None
    problem = check_state(settings, cookie, check.params.get("state"), check.shop, now)
    if problem:
        log.info("oauth callback rejected", extra={"code": problem})
        return Verification(ok=False, code=problem, detail="state does not match our cookie")
    if not check.params.get("code"):
        return Verification(ok=False, code="missing_code", detail="no authorization code")
    return check


def embedded_app_url(settings: Settings, shop: str, host_param: str | None) -> str:
    """Where to land after install: the app inside the admin (`https://{host}/apps/{client_id}`).

    `host` is Shopify-signed base64; it is still checked against the two shapes Shopify uses so
    it can never redirect elsewhere. Against the emulator there is no admin: the app's own home.
    """
    if settings.shopify_admin_base:
        query = urlencode({"shop": shop, **({"host": host_param} if host_param else {})})
        return f"/?{query}"
    host = decode_host(host_param)
    if host is None:
        host = f"{shop}/admin"
    return f"https://{host}/apps/{settings.shopify_api_key}"


def decode_host(host_param: str | None) -> str | None:
    """The decoded `host` parameter if it is an admin location, else None."""
    if not host_param:
        return None
    padded = host_param + "=" * (-len(host_param) % 4)
    try:
        host = base64.b64decode(padded.replace("-", "+").replace("_", "/"),
                                validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return host if _ADMIN_HOST.fullmatch(host) else None


def exchange_code(settings: Settings, shop: str, code: str, now: datetime,
                  http: httpx.Client) -> GrantResult:
    """POST the authorization code for an expiring offline token (notes §1A)."""
    body = {"client_id": settings.shopify_api_key, "client_secret": settings.shopify_api_secret,
            "code": code, "expiring": "1"}
    try:
        response = http.post(admin_url(settings, shop, "/admin/oauth/access_token"), json=body,
                             headers={"Accept": "application/json"})
    except httpx.HTTPError:
        log.warning("code exchange failed", extra={"code": "network_error", "shop": shop})
        return GrantResult(ok=False, code="network_error", detail="Shopify unreachable")
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
        error = data.get("error") if isinstance(data, dict) else None
        code_ = error if isinstance(error, str) and error.isidentifier() else (
            f"http_{response.status_code}")
        log.warning("code exchange refused", extra={"code": code_, "shop": shop})
        return GrantResult(ok=False, code=code_, detail="Shopify refused the code")
    try:
        expires_at = _after(now, data.get("expires_in"))
        refresh_expires_at = _after(now, data.get("refresh_token_expires_in"))
    except (TypeError, ValueError):
        return GrantResult(ok=False, code="invalid_token_response", detail="bad expiry")
    grant = TokenGrant(
        access_token=str(data["access_token"]), scope=str(data.get("scope") or ""),
        expires_at=expires_at,
        refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
        refresh_token_expires_at=refresh_expires_at)
    return GrantResult(ok=True, code="granted", grant=grant)


def _after(now: datetime, seconds: object) -> datetime | None:
    """`now + seconds`, or None when Shopify sent no lifetime (a non-expiring token)."""
    if seconds is None:
        return None
    return now + timedelta(seconds=int(str(seconds)))
