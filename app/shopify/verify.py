"""Verifying every inbound Shopify surface except webhooks; each check returns a Verification.

- OAuth query HMAC (install link, callback): notes §1A.
- App proxy signature: notes §3.
- Admin session token (embedded app home, /admin/...): notes §1B.
- Checkout and customer-account UI extension session tokens: notes §6.
- POS UI extension session tokens: the staff user's OpenID Connect ID token, the admin's kind.

shopifyapp (Shopify/shopify-app-python) runs where it implements a surface; our stricter checks
sit in front of or after it, where it is weaker than the notes (anchored shop regex, required
claims, iss/dest agreement, an injectable clock, repeated parameters).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt
from shopify_app import RequestInput, Res, ShopifyApp

from app.config import Settings
from app.shopify.domains import valid_shop

log = logging.getLogger(__name__)

# shopify-api-js HMAC_TIMESTAMP_PERMITTED_CLOCK_TOLERANCE_SEC (notes §1A, §3).
TIMESTAMP_TOLERANCE_S = 90
# Session tokens: Shopify's documented clock leeway (notes §1B).
JWT_LEEWAY_S = 10
ADMIN_REQUIRED_CLAIMS = ("exp", "nbf", "iat", "iss", "dest", "aud", "sub", "jti", "sid")
# Extension tokens carry no iss and no sid; sub only when a buyer is logged in (notes §6).
EXTENSION_REQUIRED_CLAIMS = ("exp", "nbf", "iat", "dest", "aud", "jti")
# The bounce page that lets App Bridge fetch a fresh id_token (served by app.web.auth).
PATCH_ID_TOKEN_PATH = "/auth/session-token"
RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_CUSTOMER_ID = re.compile(r"[0-9]{1,20}")
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([0-9]{1,20})")
# App-proxy parameter names we accept: letters, digits and `_ . [ ] -`. Shopify signs
# `key=value` pairs with no separator, so a name holding `=` (or anything outside this set)
# could re-split the signed string into other pairs.
_PROXY_KEY = re.compile(r"[A-Za-z0-9_.\[\]-]+")
# The pairs a proxy request is trusted for. Each must appear once in the signed string: with
# no separator, a value ending in `…logged_in_customer_` followed by a parameter named
# `id` reads the same as a second `logged_in_customer_id=` pair, so a string naming one of
# them twice can be re-split into another shopper's or shop's request with the same signature.
_PROXY_TRUSTED = ("shop=", "logged_in_customer_id=", "timestamp=")
_UNAUTHORIZED = Res(status=401, body="", headers={})


@dataclass(frozen=True)
class Verification:
    """What a check concluded: `ok`, a stable `code` for logs and tests, and what was proven."""

    ok: bool
    code: str
    shop: str | None = None
    detail: str = ""
    user_id: str | None = None
    customer_id: int | None = None
    claims: Mapping[str, Any] | None = None
    token: str | None = None
    params: Mapping[str, str] | None = None
    # What to answer: the failure response, or shopifyapp's success headers (CSP, preflight).
    response: Res | None = None
    # After success, what to answer if Shopify later refuses the token (exchange refused).
    retry_response: Res | None = None


def _fail(code: str, detail: str, response: Res | None = _UNAUTHORIZED) -> Verification:
    """A refusal with its code, logged without the request."""
    log.info("shopify request rejected", extra={"code": code})
    return Verification(ok=False, code=code, detail=detail, response=response)


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """The current client secret, then the old one while a rotation is in progress."""
    old = settings.shopify_old_api_secret
    return (settings.shopify_api_secret, old) if old else (settings.shopify_api_secret,)


def shopify_app(settings: Settings) -> ShopifyApp:
    """shopifyapp configured with our credentials (the old secret accepted during rotation)."""
    return ShopifyApp(settings.shopify_api_key, settings.shopify_api_secret,
                      settings.shopify_old_api_secret)


def _hex_hmac(secret: str, message: str) -> str:
    """Lowercase hex HMAC-SHA256."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _matches_any(secrets: Iterable[str], message: str, received: str) -> bool:
    """Whether `received` is the HMAC of `message` under any of the secrets."""
    # Every secret is tried, so timing does not tell which one matched.
    results = [hmac.compare_digest(_hex_hmac(s, message), received) for s in secrets]
    return any(results)


def _check_timestamp(raw: str | None, now: float) -> Verification | None:
    """A refusal if the timestamp is missing, malformed or outside ±90 s of `now`."""
    if raw is None:
        return _fail("missing_timestamp", "the timestamp parameter is required")
    if not _TIMESTAMP.fullmatch(raw):
        return _fail("invalid_timestamp", "timestamp is not an integer")
    if abs(now - int(raw)) > TIMESTAMP_TOLERANCE_S:
        return _fail("stale_timestamp", "timestamp is outside the permitted 90 s window")
    return None


# --- OAuth query HMAC (notes §1A) ---------------------------------------------------------

def oauth_message(pairs: Iterable[tuple[str, str]]) -> str:
    """The string Shopify signs: pairs sorted by key, `key=value` joined by `&`.

    Delimiters inside keys and values are escaped exactly as Shopify/shopify_python_api does
    (`%`→`%25` in both, `=`→`%3D` in keys, `&`→`%26` in both), so a value cannot forge a pair.
    """
    encoded = []
    for key, value in sorted(pairs, key=lambda kv: kv[0]):
        k = key.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
        v = value.replace("%", "%25").replace("&", "%26")
        encoded.append(f"{k}={v}")
    return "&".join(encoded)


def oauth_hmac(secret: str, params: Mapping[str, str]) -> str:
    """Lowercase hex HMAC-SHA256 of the query minus `hmac` and `signature`."""
    pairs = [(k, v) for k, v in params.items() if k not in ("hmac", "signature")]
    return _hex_hmac(secret, oauth_message(pairs))


def verify_oauth_query(settings: Settings, query_string: str, now: float) -> Verification:
    """Check a query Shopify signed with `hmac` (install link, OAuth callback, app URL loads)."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            # Shopify never repeats a parameter; a repeat could make us read another value
            # than the one that was signed.
            return _fail("repeated_parameter", f"parameter {key!r} appears more than once")
        params[key] = value
    received = params.get("hmac")
    if not received:
        return _fail("missing_hmac", "the hmac parameter is required")
    message = oauth_message((k, v) for k, v in params.items() if k not in ("hmac", "signature"))
    if not _matches_any(secrets_of(settings), message, received.lower()):
        return _fail("invalid_hmac", "hmac does not match the query")
    stale = _check_timestamp(params.get("timestamp"), now)
    if stale:
        return stale
    shop = valid_shop(params.get("shop"))
    if shop is None:
        return _fail("invalid_shop", "shop is not a myshopify.com domain", Res(400, "", {}))
    return Verification(ok=True, code="verified", shop=shop, params=params)


# --- App proxy signature (notes §3) -------------------------------------------------------

def proxy_message(pairs: Iterable[tuple[str, str]]) -> str:
    """The string Shopify signs for the app proxy: sorted `key=v1,v2` with no separator."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return "".join(f"{k}={','.join(v)}" for k, v in sorted(grouped.items()))


def proxy_signature(secret: str, pairs: Iterable[tuple[str, str]]) -> str:
    """Hex HMAC-SHA256 over the proxy message, only `signature` excluded (as Shopify signs)."""
    kept = [(k, v) for k, v in pairs if k != "signature"]
    return _hex_hmac(secret, proxy_message(kept))


def _ambiguous_proxy_query(pairs: Iterable[tuple[str, str]], message: str) -> Verification | None:
    """A refusal if the query could be re-split into other pairs under the same signature."""
    for key, _ in pairs:
        if "=" in key or not _PROXY_KEY.fullmatch(key):
            return _fail("invalid_parameter", "a parameter name has characters Shopify never sends")
    for trusted in _PROXY_TRUSTED:
        if message.count(trusted) > 1:
            return _fail("ambiguous_query", f"the signed string names {trusted[:-1]!r} twice")
    return None


def verify_proxy_query(settings: Settings, query_string: str, now: float) -> Verification:
    """Check a request Shopify forwarded through the app proxy (`/apps/loyalty/…` → `/proxy/…`).

    Our own implementation: shopifyapp's verify_app_proxy_req reads the wall clock and
    accepts a repeated `signature`/`timestamp`. Only `signature` is left out of the signed
    string, as Shopify documents
    (https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies).
    """
    pairs = parse_qsl(query_string, keep_blank_values=True)
    counts: dict[str, int] = defaultdict(int)
    for key, _ in pairs:
        counts[key] += 1
    for key in ("shop", "signature", "timestamp", "logged_in_customer_id"):
        if counts[key] > 1:
            return _fail("repeated_parameter", f"parameter {key!r} appears more than once")
    params = dict(pairs)
    received = params.get("signature")
    if not received:
        return _fail("missing_signature", "the signature parameter is required")
    message = proxy_message((k, v) for k, v in pairs if k != "signature")
    ambiguous = _ambiguous_proxy_query(pairs, message)
    if ambiguous:
        return ambiguous
    if not _matches_any(secrets_of(settings), message, received.lower()):
        return _fail("invalid_signature", "signature does not match the query")
    stale = _check_timestamp(params.get("timestamp"), now)
    if stale:
        return stale
    shop = valid_shop(params.get("shop"))
    if shop is None:
        return _fail("invalid_shop", "shop is not a myshopify.com domain")
    raw_customer = params.get("logged_in_customer_id", "")
    if raw_customer and not _CUSTOMER_ID.fullmatch(raw_customer):
        return _fail("invalid_customer_id", "logged_in_customer_id is not numeric")
    return Verification(ok=True, code="verified", shop=shop, params=params,
                        customer_id=int(raw_customer) if raw_customer else None)


# --- Session tokens (notes §1B, §6) -------------------------------------------------------

_JWT_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "expired_token"),
    (jwt.ImmatureSignatureError, "token_not_yet_valid"),
    (jwt.InvalidAudienceError, "invalid_audience"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.InvalidAlgorithmError, "invalid_algorithm"),
    (jwt.InvalidSignatureError, "invalid_signature"),
)


def decode_session_token(settings: Settings, token: str, required: Iterable[str]
                         ) -> tuple[dict[str, Any] | None, str]:
    """Decode an HS256 session token signed with our (current or old) secret; (claims, code)."""
    code = "invalid_signature"
    for secret in secrets_of(settings):
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"],
                                audience=settings.shopify_api_key, leeway=JWT_LEEWAY_S,
                                options={"require": list(required)})
            return claims, "verified"
        except jwt.InvalidSignatureError:
            continue  # maybe signed with the other secret of a rotation
        except jwt.PyJWTError as exc:
            code = next((c for kind, c in _JWT_ERRORS if isinstance(exc, kind)), "malformed_token")
            return None, code
    return None, code


def admin_token_shop(claims: Mapping[str, Any]) -> str | None:
    """The shop an admin token names, if `dest` is `https://{shop}` and `iss` its `/admin`."""
    dest, iss = claims.get("dest"), claims.get("iss")
    if not isinstance(dest, str) or not dest.startswith("https://"):
        return None
    shop = valid_shop(dest[len("https://"):])
    if shop is None or not isinstance(iss, str) or iss.lower() != f"https://{shop}/admin":
        return None
    return shop


def verify_admin_session_token(settings: Settings, token: str) -> Verification:
    """Our strict check of an admin session token: every claim, audience, iss/dest agree."""
    claims, code = decode_session_token(settings, token, ADMIN_REQUIRED_CLAIMS)
    if claims is None:
        return _fail(code, "session token rejected")
    shop = admin_token_shop(claims)
    if shop is None:
        return _fail("shop_mismatch", "iss and dest do not name the same valid shop")
    sub = claims.get("sub")
    if not isinstance(sub, str | int) or not str(sub):
        return _fail("invalid_sub", "sub is not a staff user id")
    return Verification(ok=True, code="verified", shop=shop, user_id=str(sub), claims=claims,
                        token=token)


def verify_app_home_request(settings: Settings, request: RequestInput) -> Verification:
    """Verify an embedded admin request (document or App Bridge fetch).

    shopifyapp finds the token (Bearer header, else `id_token`) and builds the answers: a
    document without a valid token is bounced through the patch-id-token page, a fetch gets
    401 with the retry header. Then our stricter checks run on the token it accepted.
    """
    result = shopify_app(settings).verify_app_home_req(request, PATCH_ID_TOKEN_PATH)
    if not result.ok or result.id_token is None:
        return _fail(result.log.code, result.log.detail, result.response)
    strict = verify_admin_session_token(settings, result.id_token.token)
    if not strict.ok:
        return _fail(strict.code, strict.detail, result.invalid_token_response)
    return Verification(ok=True, code="verified", shop=strict.shop, user_id=strict.user_id,
                        claims=strict.claims, token=strict.token,
                        # on success: the CSP and preload headers for a document, none for a fetch
                        response=result.response,
                        retry_response=result.invalid_token_response)


def verify_extension_session_token(settings: Settings, token: str) -> Verification:
    """Our strict check of a checkout/customer-account extension token (notes §6)."""
    claims, code = decode_session_token(settings, token, EXTENSION_REQUIRED_CLAIMS)
    if claims is None:
        return _fail(code, "session token rejected")
    dest = claims.get("dest")
    # A bare host, never a URL: an admin token (dest https://…) is not accepted here.
    shop = valid_shop(dest)
    if shop is None:
        return _fail("invalid_dest", "dest is not a bare myshopify.com host")
    customer_id = None
    sub = claims.get("sub")
    if sub is not None:
        match = _CUSTOMER_GID.fullmatch(sub) if isinstance(sub, str) else None
        if match is None:
            return _fail("invalid_sub", "sub is not a customer gid")
        customer_id = int(match.group(1))
    return Verification(ok=True, code="verified", shop=shop, customer_id=customer_id,
                        claims=claims, token=token)


def verify_extension_request(settings: Settings, request: RequestInput,
                             surface: str = "checkout") -> Verification:
    """Verify a request from the thank-you (checkout) or order-status (customer account) UI.

    shopifyapp answers the CORS preflight (code `options_request`, a ready 204) and finds the
    Bearer token; our stricter token check follows. The customer comes from `sub` only.
    """
    app = shopify_app(settings)
    if surface == "checkout":
        result = app.verify_checkout_ui_ext_req(request)
    elif surface == "customer_account":
        result = app.verify_customer_account_ui_ext_req(request)
    else:
        raise ValueError(f"unknown extension surface {surface!r}")
    if result.ok and result.log.code == "options_request":
        return Verification(ok=False, code="options_request", detail=result.log.detail,
                            response=result.response)
    if not result.ok or result.id_token is None:
        return _fail(result.log.code, result.log.detail, result.response)
    return verify_extension_session_token(settings, result.id_token.token)


def verify_pos_request(settings: Settings, request: RequestInput) -> Verification:
    """Verify a request from a POS UI extension (`shopify.session.getSessionToken()`).

    The token is "a Shopify OpenID Connect ID Token" of the user logged into POS
    (https://shopify.dev/docs/api/pos-ui-extensions/2026-07/target-apis/standard-apis/session-api),
    the same kind App Bridge gives the embedded admin: `dest` https://{shop}, `iss` its /admin,
    `sub` the staff user. shopifyapp answers the CORS preflight and finds the Bearer token;
    the admin token's strict check follows (every claim, audience, iss/dest agree). The
    customer never comes from the token: staff act for the customer the POS cart names.
    """
    result = shopify_app(settings).verify_pos_ui_ext_req(request)
    if result.ok and result.log.code == "options_request":
        return Verification(ok=False, code="options_request", detail=result.log.detail,
                            response=result.response)
    if not result.ok or result.id_token is None:
        return _fail(result.log.code, result.log.detail, result.response)
    return verify_admin_session_token(settings, result.id_token.token)
