"""Shopify Flow: the triggers the program sends and the action runs it applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class FlowTrigger(Base):
    """One Flow trigger to send with flowTriggerReceive (the outbox): written in the
    transaction of the change it reports, sent by a job after that commit, once per
    `event_key`."""

    __tablename__ = "flow_triggers"
    __table_args__ = (
        UniqueConstraint("shop_id", "event_key"),
        Index("ix_flow_triggers_shop_status", "shop_id", "status"),
        # The sweep's look for unsent rows of every shop.
        Index("ix_flow_triggers_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True)
    handle: Mapped[str] = mapped_column(String(30))
    event_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending → sending (claimed by one job) → sent, or failed after its attempts.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # When a job last took the row: `sending` long after it means the send was cut short.
    claimed_at: Mapped[datetime | None]


class FlowActionRun(Base):
    """A Flow action request applied: Flow resends a run with the same `action_run_id` when
    it did not get our 200, and a run is applied once."""

    __tablename__ = "flow_action_runs"
    __table_args__ = (UniqueConstraint("shop_id", "action_run_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True)
    action_run_id: Mapped[str] = mapped_column(String(100))
    handle: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
