"""A shopper enrolled in a shop's program, with balances cached from the ledger."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class Member(Base):
    """A customer (or a guest known only by email) in one shop's program."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("shop_id", "customer_id"),
        UniqueConstraint("shop_id", "referral_code"),
        Index("ix_members_shop_email", "shop_id", "email"),
        Index("ix_members_shop_created", "shop_id", "created_at",
              postgresql_include=["points_available", "points_pending"]),
        # Deleting a member (redaction) checks who it referred: without this, a full scan each.
        Index("ix_members_referred_by", "referred_by_id"),
        # The effect page reads the customers assigned in a window.
        Index("ix_members_shop_holdout", "shop_id", "holdout_assigned_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    # Null for a guest until a customer account with the same email claims it.
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    referral_code: Mapped[str] = mapped_column(String(32))
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"))
    birthday: Mapped[date | None]
    # When the shopper last set it: a birthday can change only a year later (no bonus farming).
    birthday_set_at: Mapped[datetime | None]
    tier: Mapped[str | None] = mapped_column(String(64))
    tier_since: Mapped[datetime | None]
    # A tier the merchant set (Flow's "set tier" action) is kept until then: no review moves
    # the member down before it.
    tier_held_until: Mapped[datetime | None]
    # Cached sums of the ledger, kept equal to it by every ledger write.
    points_available: Mapped[int] = mapped_column(Integer, default=0)
    points_pending: Mapped[int] = mapped_column(Integer, default=0)
    points_lifetime: Mapped[int] = mapped_column(Integer, default=0)
    # Earliest time a pending entry unlocks: when it passes, the cache needs a refresh.
    next_unlock_at: Mapped[datetime | None]
    # Shopify's email marketing state (SUBSCRIBED), and when the customer last changed it: an
    # older consent update never overwrites a newer one.
    accepts_marketing: Mapped[bool] = mapped_column(default=False)
    marketing_consent_updated_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # The customer's language as their latest order gave it (`customer_locale`, BCP 47 such
    # as fr-CA): their emails are written in it; None (English) until an order says.
    locale: Mapped[str | None] = mapped_column(String(35))
    last_activity_at: Mapped[datetime | None]
    redacted_at: Mapped[datetime | None]
    # The holdout group this customer was assigned to when first seen while a holdout ran
    # ('control' gets no program, 'program' does; None: seen outside any holdout), when, and
    # for control, when the merchant ended the holdout and the customer joined the program.
    holdout_group: Mapped[str | None] = mapped_column(String(16))
    holdout_assigned_at: Mapped[datetime | None]
    holdout_released_at: Mapped[datetime | None]
    # The member's arm in the shop's running A/B test, set when they enter it and cleared when
    # it ends (the assignment row is the record): read with the member's row, it spares every
    # member outside a test any look-up of tests (app/loyalty/experiments.py).
    experiment_arm: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def display_name(self) -> str:
        """First name, or a neutral word when unknown."""
        return self.first_name or "there"


class TierChange(Base):
    """A member's move between VIP tiers, kept for the shopper and the merchant."""

    __tablename__ = "tier_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True)
    from_tier: Mapped[str | None] = mapped_column(String(64))
    to_tier: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
