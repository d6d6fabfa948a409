"""Referrals from an advocate's share link or code to a friend's first order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class Referral(Base):
    """One friend's order attributed to a referrer, and what was decided about it."""

    __tablename__ = "referrals"
    __table_args__ = (
        # A friend's order is attributed once.
        UniqueConstraint("shop_id", "order_id"),
        Index("ix_referrals_referrer", "referrer_id", "created_at"),
        Index("ix_referrals_shop_created", "shop_id", "created_at",
              postgresql_include=["status"]),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    referee_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    referee_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    referee_email: Mapped[str | None] = mapped_column(String(320))
    order_id: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(64))
    # pending (waiting out the return window), flagged (merchant decides), rewarded, rejected
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    browser_ip: Mapped[str | None] = mapped_column(String(64))
    reward_due_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
