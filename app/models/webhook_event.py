"""The webhook inbox: every verified delivery, stored once before it is processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class WebhookEvent(Base):
    """A verified delivery; processed_at stays null until a worker has applied it."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_unprocessed", "processed_at", "received_at"),)

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
