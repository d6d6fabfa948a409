"""The rewards catalog and the codes members redeem from it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class Reward(Base):
    """Something a member can buy with points."""

    __tablename__ = "rewards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    # One of app/loyalty/reward_kinds.KINDS (checked when a reward is saved).
    kind: Mapped[str] = mapped_column(String(32))
    cost: Mapped[int] = mapped_column(Integer)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    min_subtotal: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    tier_required: Mapped[str | None] = mapped_column(String(64))
    combines: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Redemption(Base):
    """Points spent on a reward, and the Shopify discount (or credit) they became."""

    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("shop_id", "code"),
        # A repeated click or client retry carries the same key and finds the same redemption.
        UniqueConstraint("shop_id", "member_id", "request_key"),
        Index("ix_redemptions_member", "member_id", "created_at"),
        Index("ix_redemptions_shop_used_order", "shop_id", "used_order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id", ondelete="SET NULL"))
    points: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    request_key: Mapped[str | None] = mapped_column(String(100))
    shopify_discount_id: Mapped[str | None] = mapped_column(String(255))
    # issued, used, expired, failed, refunded
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    used_order_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
