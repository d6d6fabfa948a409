"""What a shop pays: its app subscription (Shopify's Billing API) and the usage charged."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class BillingSubscription(Base):
    """One app subscription the merchant was asked to approve; the newest active one applies.

    Status follows Shopify's AppSubscriptionStatus (PENDING until the merchant approves on
    Shopify's confirmation page, then ACTIVE, or DECLINED, CANCELLED, FROZEN, EXPIRED).
    """

    __tablename__ = "billing_subscriptions"
    __table_args__ = (UniqueConstraint("shopify_subscription_id"),
                      Index("ix_billing_subscriptions_shop", "shop_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    shopify_subscription_id: Mapped[str] = mapped_column(String(255))
    # The usage line item usage records are charged to.
    usage_line_item_id: Mapped[str | None] = mapped_column(String(255))
    capped_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    test: Mapped[bool] = mapped_column(default=False)
    confirmation_url: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Billing periods of this subscription are 30 days counted from here.
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class UsageCharge(Base):
    """The usage charged for one closed billing period, once (its idempotency key)."""

    __tablename__ = "usage_charges"
    __table_args__ = (UniqueConstraint("idempotency_key"),
                      Index("ix_usage_charges_subscription", "subscription_id", "period_start"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("billing_subscriptions.id", ondelete="CASCADE"))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    orders_counted: Mapped[int] = mapped_column(Integer)
    orders_charged: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    shopify_usage_record_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
