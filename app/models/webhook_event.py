"""The webhook inbox: every verified delivery, stored once before it is processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class WebhookEvent(Base):
    """A verified delivery; processed_at stays null until a worker has applied it."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_unprocessed", "processed_at", "received_at"),
        # Only destructive topics carry an event id, so order deliveries never touch this index.
        Index("uq_webhook_events_shopify_event_id", "shopify_event_id", unique=True,
              postgresql_where=text("shopify_event_id IS NOT NULL"),
              sqlite_where=text("shopify_event_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # X-Shopify-Webhook-Id: the idempotency key of a delivery.
    webhook_id: Mapped[str] = mapped_column(String(255), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    shop_domain: Mapped[str] = mapped_column(String(255))
    api_version: Mapped[str | None] = mapped_column(String(16))
    triggered_at: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    # processed, ignored (no such shop, unknown topic), failed (gave up after retries)
    outcome: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # X-Shopify-Event-Id of app/uninstalled and the privacy topics: each event applies once.
    shopify_event_id: Mapped[str | None] = mapped_column(String(255))


class RefusedWebhook(Base):
    """A validly signed delivery the app refused for what it claimed, and why.

    Reasons: shop_mismatch (the payload names another shop, or another Shopify shop id, than
    X-Shopify-Shop-Domain), stale_delivery, triggered_in_the_future, missing_triggered_at,
    invalid_triggered_at (a destructive topic outside Shopify's retry window). The payload is
    not kept: it may hold personal data and nothing is done with it.
    """

    __tablename__ = "refused_webhooks"
    __table_args__ = (Index("ix_refused_webhooks_shop_received", "shop_domain", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(64))
    # X-Shopify-Shop-Domain: the shop the delivery was sent for.
    shop_domain: Mapped[str] = mapped_column(String(255))
    # What the payload named instead, when that was the reason.
    named_shop: Mapped[str | None] = mapped_column(String(255))
    webhook_id: Mapped[str] = mapped_column(String(255))
    shopify_event_id: Mapped[str | None] = mapped_column(String(255))
    triggered_at: Mapped[str | None] = mapped_column(String(64))
