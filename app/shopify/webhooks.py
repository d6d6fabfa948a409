"""Verifying a webhook delivery: HMAC over the raw body first, then its X-Shopify-* headers.

shopify-notes §2; https://shopify.dev/docs/apps/build/webhooks/subscribe/https

The HMAC covers the body only, under the one client secret every shop shares, so the headers
prove nothing: a signed body of one shop could be sent with another shop's
X-Shopify-Shop-Domain. A delivery is therefore refused when its payload names another shop
than the header (`named_shop_mismatch`), and the destructive topics must also be fresh by
X-Shopify-Triggered-At and name the shop's stored Shopify id (`shop_id_refusal`).

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
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.shopify.domains import valid_shop

log = logging.getLogger(__name__)

# Which topics the app handles is the pipeline's topic registry (app/pipeline/topics.py).
# Shopify's mandatory compliance topics (https://shopify.dev/docs/apps/build/compliance/
# privacy-law-compliance):
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
# Topics that end an installation, delete or export data: fresh deliveries only, and one
# application per Shopify event.
DESTRUCTIVE_TOPICS = frozenset(("app/uninstalled",) + COMPLIANCE_TOPICS)

# Shopify retries a failed delivery 8 times over 4 hours with the payload of the moment it was
# triggered, and tells apps to judge staleness by X-Shopify-Triggered-At
# (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism). A destructive delivery
# triggered more than 48 hours ago is no retry of Shopify's; the 44 hours beyond the schedule
# absorb delivery backlogs on Shopify's side.
DESTRUCTIVE_MAX_AGE = timedelta(hours=48)
# A Triggered-At this far ahead of our clock is no clock skew.
MAX_CLOCK_SKEW = timedelta(minutes=5)

# Where Shopify's 2026-07 payloads name the shop (devstore/samples/webhooks/2026-07):
# `shop_domain` in customers/data_request, customers/redact and shop/redact; `myshopify_domain`
# and `domain` in app/uninstalled (the Shop resource, whose `domain` is the primary domain:
# a merchant's own domain cannot be compared, a myshopify.com one must match). Orders name it
# only by id, in `order_status_url` (below); refunds and customers name no shop at all (a
# refund's `user_id` is the staff member who issued it).
_SHOP_NAME_FIELDS = ("shop_domain", "myshopify_domain", "domain")
# Where they carry Shopify's numeric shop id: `shop_id`, and the Shop resource's own `id`.
_SHOP_ID = re.compile(r"[0-9]{1,20}")
_SHOP_ID_FIELD = {"app/uninstalled": "id", "customers/data_request": "shop_id",
                  "customers/redact": "shop_id", "shop/redact": "shop_id"}
# An order's status page: `https://{shop's domain}/{Shopify shop id}/orders/{token}/authenticate
# ?key=…` (the 2026-07 orders/* samples: `https://jsmith.myshopify.com/548380009/orders/
# 123456abcd/authenticate?key=abcdefg`). Shopify's docs describe the field only as the order
# status page's URL and never name that first path segment; it is read as the shop id because
# Shopify's own samples give the same shop 548380009 wherever they name a shop by id
# (`admin_graphql_api_shop_id` of app_subscriptions/update, `shop_id` of app/scopes_update,
# https://shopify.dev/docs/api/webhooks) and storefronts that serve Shopify's routes on their
# own domain forward `/{shop id}/orders/…`. The host may be the shop's primary (own) domain,
# so only the id is compared. A URL of any other shape names no shop: the check binds what
# it can bind, and an order without one is applied as before. At most 18 digits: the id is
# bound as a BIGINT.
_ORDER_STATUS_URL = re.compile(
    r"https://[^/?#]+/([0-9]{1,18})/orders/[^/?#]+/authenticate(?:[?#].*)?", re.DOTALL)


@dataclass(frozen=True)
class WebhookDelivery:
    """A verified delivery, not yet parsed beyond a JSON syntax check."""

    webhook_id: str
    topic: str
    shop_domain: str
    api_version: str | None
    triggered_at: str | None
    body: str
    # X-Shopify-Event-Id: one event sent to several subscriptions, or again, keeps it; the
    # inbox applies a destructive topic once per event id as well as once per webhook id.
    event_id: str | None = None
    # The Shopify shop id a destructive topic's payload names, to compare with the stored one.
    named_shop_id: int | None = None
    # The Shopify shop id an order's status URL names; the inbox stores the order only if the
    # header's shop has no other id on record.
    order_shop_id: int | None = None


@dataclass(frozen=True)
class Refusal:
    """A validly signed delivery refused for what it claims; kept with its reason."""

    reason: str
    topic: str
    shop_domain: str
    named_shop: str | None
    webhook_id: str
    event_id: str | None
    triggered_at: str | None


@dataclass(frozen=True)
class WebhookCheck:
    """The outcome of verification: a delivery, or a stable error code and HTTP status."""

    delivery: WebhookDelivery | None
    code: str
    status: int
    # Set when a signed delivery is refused for its claims, so the refusal can be recorded.
    refusal: Refusal | None = None

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


def named_shop_mismatch(payload: Any, shop_domain: str) -> str | None:
    """The shop the payload names where that is not `shop_domain`; None when they agree or
    the payload names no shop."""
    if not isinstance(payload, dict):
        return None
    for field in _SHOP_NAME_FIELDS:
        value = payload.get(field)
        if value is None:
            continue
        named = valid_shop(value)
        if field == "domain" and named is None:
            continue  # the merchant's own domain
        if named != shop_domain:
            return str(value)[:255]
    return None


def named_shop_id(topic: str, payload: Any) -> int | None:
    """The Shopify shop id a destructive topic's payload names, if it names one."""
    field = _SHOP_ID_FIELD.get(topic)
    value = payload.get(field) if field and isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return int(value) if _SHOP_ID.fullmatch(str(value)) else None


def order_shop_id(topic: str, payload: Any) -> int | None:
    """The Shopify shop id an orders/* payload's `order_status_url` names, if it names one."""
    # Every orders/* topic carries the Order resource (refunds/* a Refund, which has no URL).
    if not topic.startswith("orders/") or not isinstance(payload, dict):
        return None
    url = payload.get("order_status_url")
    found = _ORDER_STATUS_URL.fullmatch(url) if isinstance(url, str) else None
    return int(found.group(1)) if found else None


def order_shop_refusal(delivery: WebhookDelivery) -> WebhookCheck:
    """The refusal of an order whose status URL names another Shopify shop than the header's."""
    return refuse(delivery, "shop_mismatch", named_shop=f"shop id {delivery.order_shop_id}")


def parse_triggered_at(raw: str | None) -> datetime | None:
    """X-Shopify-Triggered-At (ISO 8601, e.g. `2026-11-27T10:00:00.123Z`) as naive UTC."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is None:
            return None  # Shopify always states the zone
        return value.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a date, or past year 9999 once in UTC
        return None


def freshness_refusal_code(triggered_at: str | None, now: datetime) -> str | None:
    """Why a destructive delivery triggered at `triggered_at` is refused at `now` (naive
    UTC), or None when it is within Shopify's retry window."""
    if not triggered_at:
        return "missing_triggered_at"
    moment = parse_triggered_at(triggered_at)
    if moment is None:
        return "invalid_triggered_at"
    if moment < now - DESTRUCTIVE_MAX_AGE:
        return "stale_delivery"
    if moment > now + MAX_CLOCK_SKEW:
        return "triggered_in_the_future"
    return None


# HTTP status of each refusal of a signed delivery: 400 for a header Shopify always sends
# correctly, 401 for a claim that is not Shopify's.
REFUSAL_STATUS = {"shop_mismatch": 401, "stale_delivery": 401, "triggered_in_the_future": 401,
                  "missing_triggered_at": 400, "invalid_triggered_at": 400}


def refuse(delivery: WebhookDelivery, reason: str, named_shop: str | None = None
           ) -> WebhookCheck:
    """The check that refuses a signed delivery, carrying what to record about it."""
    log.warning("webhook refused", extra={"code": reason, "webhook_id": delivery.webhook_id,
                                          "shop": delivery.shop_domain, "topic": delivery.topic})
    return WebhookCheck(None, reason, REFUSAL_STATUS[reason], Refusal(
        reason=reason, topic=delivery.topic, shop_domain=delivery.shop_domain,
        named_shop=named_shop, webhook_id=delivery.webhook_id, event_id=delivery.event_id,
        triggered_at=delivery.triggered_at))


def shop_id_refusal(delivery: WebhookDelivery, stored_shop_id: int | None
                    ) -> WebhookCheck | None:
    """A refusal when the payload names another Shopify shop id than the header's shop has."""
    if (delivery.named_shop_id is None or stored_shop_id is None
            or delivery.named_shop_id == stored_shop_id):
        return None
    return refuse(delivery, "shop_mismatch", named_shop=f"shop id {delivery.named_shop_id}")


def _utcnow() -> datetime:
    """Naive UTC now (how the database stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


def verify_delivery(secrets: Sequence[str], headers: Mapping[str, str],
                    body: bytes, *, clock: Callable[[], datetime] = _utcnow) -> WebhookCheck:
    """Check the HMAC before anything else, then the headers Shopify always sends, then that
    the payload names the header's shop and, for a destructive topic, that it is fresh.

    `secrets`: the client secret, then the old one while a rotation is in progress.
    `clock`: naive UTC now; read only for a destructive topic, so an order delivery never
    pays for it.
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
    event_id = headers.get("X-Shopify-Event-Id") or None
    # Longer than their inbox columns: never Shopify's, and an INSERT would fail with a 500.
    if (len(topic) > 64 or len(shop_domain) > 255 or len(api_version or "") > 16
            or len(triggered_at or "") > 64 or len(event_id or "") > 255):
        return WebhookCheck(None, "invalid_header", 400)
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        log.warning("webhook body is not JSON", extra={"webhook_id": webhook_id,
                                                       "shop": shop_domain})
        return WebhookCheck(None, "malformed_json", 400)
    destructive = topic in DESTRUCTIVE_TOPICS
    delivery = WebhookDelivery(
        webhook_id=webhook_id, topic=topic, shop_domain=shop_domain, api_version=api_version,
        triggered_at=triggered_at, body=text, event_id=event_id,
        named_shop_id=named_shop_id(topic, payload) if destructive else None,
        order_shop_id=order_shop_id(topic, payload))
    mismatch = named_shop_mismatch(payload, shop_domain)
    if mismatch is not None:
        return refuse(delivery, "shop_mismatch", named_shop=mismatch)
    if destructive:
        stale = freshness_refusal_code(triggered_at, clock())
        if stale is not None:
            return refuse(delivery, stale)
    return WebhookCheck(delivery, "verified", 200)
