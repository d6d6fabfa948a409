"""How Shopify signs what it sends: OAuth query HMAC, webhook HMAC, app-proxy signature, JWTs.

Written from Shopify's own sources, independently of the app's verifiers (shopify-notes §1-§3, §6):
the emulator must sign exactly as Shopify does so that the app's checks are tested for real.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping

import jwt


def flatten_params(params: Mapping[str, object] | Iterable[tuple[str, object]]
                   ) -> list[tuple[str, str]]:
    """Flatten a mapping (list values become repeated keys) or a list of pairs into str pairs."""
    items = params.items() if isinstance(params, Mapping) else params
    flat: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, list | tuple):
            flat.extend((key, str(v)) for v in value)
        else:
            flat.append((key, "" if value is None else str(value)))
    return flat


def oauth_query_hmac(params: Mapping[str, object] | Iterable[tuple[str, object]],
                     secret: str) -> str:
    """Hex HMAC-SHA256 of an OAuth/app-home query, as Shopify computes it.

    Escaping follows Shopify/shopify_python_api `Session.__encoded_params_for_signature`:
    `%` and `=` are escaped in keys, `%` in values, `&` in the whole pair; `key[]` values are
    a JSON list. Pairs are sorted and joined with `&`; `hmac` itself is left out.
    """
    grouped: dict[str, list[str]] = {}
    for key, value in flatten_params(params):
        if key not in ("hmac", "signature"):
            grouped.setdefault(key, []).append(value)
    encoded = []
    for key, values in grouped.items():
        if key.endswith("[]"):
            key, value = key[:-2], json.dumps(values)
        else:
            value = ",".join(values)
        key = key.replace("%", "%25").replace("=", "%3D")
        value = value.replace("%", "%25")
        encoded.append(f"{key}={value}".replace("&", "%26"))
    message = "&".join(sorted(encoded))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def webhook_hmac(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 over the exact body bytes."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def proxy_signature(params: Mapping[str, object] | Iterable[tuple[str, object]],
                    secret: str) -> str:
    """App-proxy `signature`: decoded pairs, repeated keys joined by `,`, sorted, no separator.

    https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies
    """
    grouped: dict[str, list[str]] = {}
    for key, value in flatten_params(params):
        if key != "signature":
            grouped.setdefault(key, []).append(value)
    message = "".join(f"{key}={','.join(values)}" for key, values in sorted(grouped.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def admin_session_token(shop: str, client_id: str, secret: str, *, user_id: int | str,
                        now: int, ttl: int) -> str:
    """An App Bridge session token (id_token): HS256, 1 minute by default (shopify-notes §1B)."""
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": client_id,
        "sub": str(user_id),
        "exp": now + ttl,
        "nbf": now,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(16),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def extension_session_token(shop: str, client_id: str, secret: str, *,
                            customer_id: int | str | None, now: int, ttl: int) -> str:
    """A checkout/customer-account UI extension token: bare-host dest, no iss, no sid (§6)."""
    claims: dict[str, object] = {
        "dest": shop,
        "aud": client_id,
        "exp": now + ttl,
        "nbf": now,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    if customer_id is not None:
        claims["sub"] = f"gid://shopify/Customer/{customer_id}"
    return jwt.encode(claims, secret, algorithm="HS256")


def admin_host_param(shop: str) -> str:
    """The `host` query parameter: base64 of the admin URL, padding stripped.

    Shopify/cli `packages/app/src/cli/utilities/app/app-url.ts` strips `=` the same way, so the
    app must decode without relying on padding.
    """
    handle = shop.removesuffix(".myshopify.com")
    return base64.b64encode(f"admin.shopify.com/store/{handle}".encode()).decode().rstrip("=")
