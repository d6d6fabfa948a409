"""The append-only points ledger: the source of truth for every balance."""

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

LEDGER_KINDS = (
    "earn_order", "refund_reversal", "cancel_reversal", "redeem", "redeem_refund", "expire",
    "adjust", "bonus_signup", "bonus_birthday", "bonus_review", "bonus_nps",
    "referral_referrer", "referral_referee", "import",
)


class LedgerEntry(Base):
    """One signed change of points; pending while available_at is in the future."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # The idempotency key: an event applied twice hits this constraint.
        UniqueConstraint("shop_id", "source_key"),
        Index("ix_ledger_member_created", "member_id", "created_at"),
        # The dashboard's per-period sums read the index alone (app/loyalty/analytics.py).
        Index("ix_ledger_entries_shop_created", "shop_id", "created_at",
              postgresql_include=["kind", "points"]),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    source_key: Mapped[str] = mapped_column(String(191))
    available_at: Mapped[datetime]
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The earning rate and multiplier that applied, so reversals use them, not today's.
    rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    multiplier: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    # Points a reversal could not take because the balance would have gone negative.
    shortfall: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
