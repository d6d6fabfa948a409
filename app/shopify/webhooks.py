"""Verifying a webhook delivery: HMAC over the raw body first, then its X-Shopify-* headers.

shopify-notes §2; https://shopify.dev/docs/apps/build/webhooks/subscribe/https

The HMAC is checked here rather than by shopifyapp's `verify_webhook_req`: that call builds a
redacted copy of the request for its log on every delivery, re-parsing the ~15 KB body, which
was a third of the acknowledgement's CPU (bench/ingest.py). The algorithm is the same (base64
HMAC-SHA256 of the raw body under the client secret, then the old secret during a rotation,
compared in constant time); tests/unit/shopify/test_webhook_hmac.py holds both to the same
answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.shopify.domains import valid_shop

log = logging.getLogger(__name__)

# Topics declared in shopify.app.toml; anything else is acknowledged, recorded and ignored.
ORDER_TOPICS = ("orders/paid", "orders/cancelled", "orders/updated", "orders/fulfilled",
                "refunds/create")
CUSTOMER_TOPICS = ("customers/create", "customers/update")
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
APP_TOPICS = ("app/uninstalled", "shop/update")
KNOWN_TOPICS = frozenset(ORDER_TOPICS + CUSTOMER_TOPICS + COMPLIANCE_TOPICS + APP_TOPICS)


@dataclass(frozen=True)
class WebhookDelivery:
    """A verified delivery, not yet parsed beyond a JSON syntax check."""

    webhook_id: str
    topic: str
    shop_domain: str
    api_version: str | None
    triggered_at: str | None
    body: str


@dataclass(frozen=True)
class WebhookCheck:
    """The outcome of verification: a delivery, or a stable error code and HTTP status."""

    delivery: WebhookDelivery | None
    code: str
    status: int

    @property
    def ok(self) -> bool:
        """Whether the delivery may be stored."""
        return self.delivery is not None


# Shopify's header, then the name its newer delivery methods use (as shopifyapp reads them).
HMAC_HEADERS = ("X-Shopify-Hmac-SHA256", "Shopify-Hmac-SHA256")


def body_hmac_matches(secrets: Sequence[str], body: bytes, received: str) -> bool:
    """Whether `received` is the base64 HMAC-SHA256 of the raw body under one of the secrets."""
    expected = received.encode("ascii", "replace")
    # Every secret is tried, so timing does not tell which one matched.
    results = [hmac.compare_digest(
        base64.b64encode(hmac.new(s.encode(), body, hashlib.sha256).digest()), expected)
        for s in secrets]
    return any(results)


def verify_delivery(secrets: Sequence[str], headers: Mapping[str, str],
                    body: bytes) -> WebhookCheck:
    """Check the HMAC before anything else, then the headers Shopify always sends.

    `secrets`: the client secret, then the old one while a rotation is in progress.
    """
    received = next((v for v in map(headers.get, HMAC_HEADERS) if v), "")
    if not received:
        log.warning("webhook rejected", extra={"code": "missing_hmac_header"})
        return WebhookCheck(None, "missing_hmac_header", 400)
    if not body_hmac_matches(secrets, body, received):
        log.warning("webhook rejected", extra={"code": "invalid_hmac"})
        return WebhookCheck(None, "invalid_hmac", 401)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return WebhookCheck(None, "invalid_body_encoding", 400)
    topic = headers.get("X-Shopify-Topic", "")
    shop_domain = valid_shop(headers.get("X-Shopify-Shop-Domain", ""))
    webhook_id = headers.get("X-Shopify-Webhook-Id", "")
    if not topic:
        return WebhookCheck(None, "missing_topic", 400)
    if shop_domain is None:
        return WebhookCheck(None, "invalid_shop_domain", 400)
    if not webhook_id or len(webhook_id) > 255:
        return WebhookCheck(None, "missing_webhook_id", 400)
    api_version = headers.get("X-Shopify-API-Version")
    triggered_at = headers.get("X-Shopify-Triggered-At")
    # Longer than their inbox columns: never Shopify's, and an INSERT would fail with a 500.
    if (len(topic) > 64 or len(shop_domain) > 255 or len(api_version or "") > 16
            or len(triggered_at or "") > 64):
        return WebhookCheck(None, "invalid_header", 400)
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        log.warning("webhook body is not JSON", extra={"webhook_id": webhook_id,
                                                       "shop": shop_domain})
        return WebhookCheck(None, "malformed_json", 400)
    return WebhookCheck(
        WebhookDelivery(webhook_id=webhook_id, topic=topic, shop_domain=shop_domain,
                        api_version=api_version, triggered_at=triggered_at, body=text),
        "verified", 200)
