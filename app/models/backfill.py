"""A shop's order history read back through one bulk operation, applied in resumable steps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow

# What the backfill does with the orders it reads.
BACKFILL_MODES = ("none", "tiers", "points")
# requested → running (Shopify builds the file) → applying (we stream it) → completed | failed.
BACKFILL_STATES = ("requested", "running", "applying", "completed", "failed")


class Backfill(Base):
    """One backfill of a shop's order history; the newest row is the one the admin shows.

    `lines_applied` is the cursor: the JSONL lines whose orders are committed, so a crashed
    run skips exactly those and re-reads the rest (each order is also applied at most once
    by its unique row and its ledger source key, whatever the cursor says).
    """

    __tablename__ = "backfills"
    __table_args__ = (Index("ix_backfills_shop", "shop_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    # none: orders recorded only; tiers: members and tiers from their spend; points: tiers and
    # points for the orders of the last `points_days` days.
    mode: Mapped[str] = mapped_column(String(16))
    window_days: Mapped[int] = mapped_column(Integer)
    points_days: Mapped[int] = mapped_column(Integer, default=0)
    # Orders placed since then are read (the window, capped when the scopes allow less).
    since: Mapped[datetime]
    # Why the window is shorter than the merchant asked, in words for the admin.
    capped_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    bulk_operation_id: Mapped[str | None] = mapped_column(String(255))
    # Shopify's count of objects written to the file so far, while it runs.
    objects_found: Mapped[int] = mapped_column(Integer, default=0)
    lines_applied: Mapped[int] = mapped_column(Integer, default=0)
    orders_recorded: Mapped[int] = mapped_column(Integer, default=0)
    orders_skipped: Mapped[int] = mapped_column(Integer, default=0)
    points_awarded: Mapped[int] = mapped_column(Integer, default=0)
    tier_changes: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def finished(self) -> bool:
        """Completed or failed: nothing more will happen to this run."""
        return self.status in ("completed", "failed")
