"""Verifying a webhook delivery: HMAC over the raw body first, then its X-Shopify-* headers.

shopify-notes §2; https://shopify.dev/docs/apps/build/webhooks/subscribe/https
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from shopify_app import ShopifyApp

from app.config import Settings

log = logging.getLogger(__name__)
_SHOP_DOMAIN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com")

# Topics declared in shopify.app.toml; anything else is acknowledged, recorded and ignored.
ORDER_TOPICS = ("orders/paid", "orders/cancelled", "orders/updated", "refunds/create")
CUSTOMER_TOPICS = ("customers/create", "customers/update")
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
APP_TOPICS = ("app/uninstalled",)
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


def shopify_app(settings: Settings) -> ShopifyApp:
    """shopifyapp's verifier for our credentials (the old secret accepted during rotation)."""
    return ShopifyApp(settings.shopify_api_key, settings.shopify_api_secret,
                      settings.shopify_old_api_secret)


def verify_delivery(verifier: ShopifyApp, headers: Mapping[str, str], body: bytes,
                    url: str) -> WebhookCheck:
    """Check the HMAC before anything else, then the headers Shopify always sends."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return WebhookCheck(None, "invalid_body_encoding", 400)
    result = verifier.verify_webhook_req(
        {"method": "POST", "headers": dict(headers), "url": url, "body": text})
    if not result.ok:
        log.warning("webhook rejected", extra={"code": result.log.code})
        return WebhookCheck(None, result.log.code, 401 if result.log.code == "invalid_hmac"
                            else result.response.status)
    topic = headers.get("X-Shopify-Topic", "")
    shop_domain = headers.get("X-Shopify-Shop-Domain", "").lower()
    webhook_id = headers.get("X-Shopify-Webhook-Id", "")
    if not topic:
        return WebhookCheck(None, "missing_topic", 400)
    if not _SHOP_DOMAIN.fullmatch(shop_domain):
        return WebhookCheck(None, "invalid_shop_domain", 400)
    if not webhook_id or len(webhook_id) > 255:
        return WebhookCheck(None, "missing_webhook_id", 400)
    try:
        json.loads(text)
    except ValueError:
        log.warning("webhook body is not JSON", extra={"webhook_id": webhook_id,
                                                       "shop": shop_domain})
        return WebhookCheck(None, "malformed_json", 400)
    return WebhookCheck(
        WebhookDelivery(webhook_id=webhook_id, topic=topic, shop_domain=shop_domain,
                        api_version=headers.get("X-Shopify-API-Version"),
                        triggered_at=headers.get("X-Shopify-Triggered-At"), body=text),
        "verified", 200)
