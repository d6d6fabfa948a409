"""Signed links for the public pages an email points to: unsubscribe, review, survey, clicks.

A link carries its claims (purpose, shop, member, message, …) and an HMAC-SHA256 over them.
The key is derived from the app secret with HKDF for this one purpose, so the raw secret never
signs anything a shopper can see, and a leaked link key would not sign webhooks or tokens.
During a secret rotation the old secret's key is still accepted, like Shopify's own rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

UNSUBSCRIBE, REVIEW, SURVEY, CLICK, OPEN = "u", "r", "n", "c", "o"
# Review and survey links stop working after this; unsubscribe links never do.
ANSWER_LINK_LIFETIME = timedelta(days=90)
_EPOCH = datetime(2020, 1, 1)


def derive_link_key(app_secret: str) -> bytes:
    """The link-signing key for an app secret (HKDF-SHA256, purpose-bound)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"loyalty-loop",
                info=b"engagement-links/v1").derive(app_secret.encode())


def _b64(raw: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """The bytes of unpadded URL-safe base64."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Makes and checks signed link tokens and the app URLs that carry them."""

    def __init__(self, app_secrets: Iterable[str | None], base_url: str) -> None:
        """Sign with the first secret's key; accept any of them (rotation)."""
        self.keys = [derive_link_key(s) for s in app_secrets if s]
        if not self.keys:
            raise ValueError("a link signer needs an app secret")
        self.base_url = base_url.rstrip("/")

    def token(self, purpose: str, now: datetime, **claims: Any) -> str:
        """A token for these claims: base64url(JSON) '.' base64url(HMAC)."""
        body = {"p": purpose, "t": int((now - _EPOCH).total_seconds() // 60), **claims}
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        signature = hmac.new(self.keys[0], payload.encode("ascii"), hashlib.sha256).digest()
        return f"{payload}.{_b64(signature)}"

    def claims(self, token: str, purpose: str, now: datetime) -> dict[str, Any] | None:
        """The token's claims if it is ours, for this purpose and not expired; else None."""
        payload, _, signature = (token or "").partition(".")
        try:
            given = _unb64(signature)
        except (ValueError, TypeError):
            return None
        if not any(hmac.compare_digest(given, hmac.new(key, payload.encode("ascii", "replace"),
                                                       hashlib.sha256).digest())
                   for key in self.keys):
            return None
        try:
            body = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(body, dict) or body.get("p") != purpose:
            return None
        issued = _EPOCH + timedelta(minutes=int(body.get("t", 0)))
        if purpose in (REVIEW, SURVEY) and now - issued > ANSWER_LINK_LIFETIME:
            return None
        return body

    def url(self, path: str, purpose: str, now: datetime, **claims: Any) -> str:
        """An absolute app URL `/e/<path>/<token>`."""
        return f"{self.base_url}/e/{path}/{self.token(purpose, now, **claims)}"
