"""Orders as the program sees them: what was eligible, refunded and earned."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class Order(Base):
    """A Shopify order that reached the program."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_order_id"),
        Index("ix_orders_shop_member", "shop_id", "member_id"),
        Index("ix_orders_shop_paid", "shop_id", "paid_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    admin_graphql_id: Mapped[str | None] = mapped_column(String(255))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    name: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_price: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    eligible_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    discount_codes: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(32), default="paid")
    referral_code: Mapped[str | None] = mapped_column(String(64))
    points_awarded: Mapped[int] = mapped_column(Integer, default=0)
    test: Mapped[bool] = mapped_column(default=False)
    # Refund payloads do not say whether prices included tax; the order does.
    taxes_included: Mapped[bool] = mapped_column(default=False)
    browser_ip: Mapped[str | None] = mapped_column(String(64))
    # A normalised shipping address digest for self-referral checks (no address kept).
    address_digest: Mapped[str | None] = mapped_column(String(64))
    # When the shopper placed the order (the payload's created_at): the date they know it by.
    placed_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    shopify_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderRefund(Base):
    """One Shopify refund, recorded once by its id, whether it came before or after payment."""

    __tablename__ = "order_refunds"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_refund_id"),
                      Index("ix_order_refunds_order", "shop_id", "shopify_order_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shopify_refund_id: Mapped[int] = mapped_column(BigInteger)
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    eligible_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    store_credit_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    # The eligible amount's parts and the taxes_included flag they were read with: a refund
    # payload does not say whether prices include tax, so one recorded before its order is
    # read again with the order's own flag when the payment arrives.
    line_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    line_tax: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    adjustments: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    taxes_included: Mapped[bool] = mapped_column(default=False)
    refunded_at: Mapped[datetime | None]
    # Set once the refund's points reversal has been posted (null while its order is unpaid).
    applied_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
