"""Signing deliveries exactly as Shopify does, written independently of the app's verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from devstore.payloads import fixtures_dir
from tests.conftest import TEST_API_SECRET

FIXTURES = fixtures_dir("2026-07")


def fixture_payload(topic: str) -> dict[str, Any]:
    """Shopify's documented sample payload for a topic."""
    return json.loads((FIXTURES / f"{topic.replace('/', '__')}.json").read_text())


def triggered_now() -> str:
    """X-Shopify-Triggered-At for an event that happened just now: 2026-11-27T10:00:00.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signed_headers(body: bytes, topic: str, shop: str, *, secret: str = TEST_API_SECRET,
                   webhook_id: str | None = None, event_id: str | None = None,
                   triggered_at: str | None = None) -> dict[str, str]:
    """Every header Shopify sends, with base64 HMAC-SHA256 of the raw body; the event was
    triggered now unless `triggered_at` says otherwise."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at or triggered_now(),
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
    }


def post_webhook(client, topic: str, shop: str, payload: Any, **kwargs: Any):
    """POST a signed delivery through a Flask test client."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    # buffered: the response is closed as a real server closes it, which runs inline jobs.
    return client.post("/webhooks", data=body, headers=signed_headers(body, topic, shop, **kwargs),
                       buffered=True)
