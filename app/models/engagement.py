"""What shoppers told us (NPS) and what we sent them (messages)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class SurveyResponse(Base):
    """A 0-10 answer to 'how likely are you to recommend us', once per order."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("shop_id", "order_id"),
                      Index("ix_survey_responses_shop_created", "shop_id", "created_at",
                            postgresql_include=["score"]))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    order_id: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32), default="thank_you")
    detractor: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """One outbound engagement message, scheduled, sent or suppressed with its reason."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("shop_id", "natural_key"),
        Index("ix_messages_member_sent", "member_id", "sent_at"),
        Index("ix_messages_shop_kind_created", "shop_id", "kind", "created_at"),
        # The due-message sweep: scheduled rows by time.
        Index("ix_messages_status_scheduled", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    natural_key: Mapped[str] = mapped_column(String(191))
    scheduled_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # scheduled, sent, suppressed, failed, cancelled
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    reason: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
