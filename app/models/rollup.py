"""Daily roll-ups the effect and cohort pages read instead of every member, order and entry.

Kept by the daily round (app/insights/rollup.py); each row is a sum that can be rebuilt from
the rows it summarises at any time, so none holds anything the source tables do not.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

# Sums of amounts (4 places) and of their squares (8 places), exact on PostgreSQL.
AMOUNT = Numeric(24, 4)
SQUARES = Numeric(38, 8)


class HoldoutDay(Base):
    """The customers assigned to one holdout group on one UTC day."""

    __tablename__ = "holdout_days"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"),
                                         primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    holdout_group: Mapped[str] = mapped_column(String(16), primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)


class HoldoutDayOffset(Base):
    """What one day's customers of one group did `offset_days` after being assigned.

    An order or ledger entry at time t of a customer assigned at a falls in offset
    floor((t - a) / 1 day), -1 for the day before (the assigning order). The sums of squares
    are increments: for each customer, (their total up to this offset)² less (their total
    before it), so adding the offsets below N gives Σ total² over N days for any N.
    """

    __tablename__ = "holdout_day_offsets"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"),
                                         primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    holdout_group: Mapped[str] = mapped_column(String(16), primary_key=True)
    offset_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    # day + offset_days: the first calendar day whose activity can fall in this offset, so a
    # round recomputes the offsets its recent days can have changed.
    reached_day: Mapped[date] = mapped_column(Date, index=True)
    # Customers whose second order falls in this offset.
    repeaters: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    orders_squares: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))
    revenue_squares: Mapped[Decimal] = mapped_column(SQUARES, default=Decimal(0))
    # Σ (order total less refunds)² over single orders: the average order value's spread.
    order_value_squares: Mapped[Decimal] = mapped_column(SQUARES, default=Decimal(0))
    points_issued: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_points: Mapped[int] = mapped_column(BigInteger, default=0)
    points_redeemed: Mapped[int] = mapped_column(BigInteger, default=0)
    points_taken_back: Mapped[int] = mapped_column(BigInteger, default=0)
    points_expired: Mapped[int] = mapped_column(BigInteger, default=0)


class CohortCell(Base):
    """Of one segment's customers whose first order fell in a month (the shop's calendar),
    how many ordered again `months_since` months later."""

    __tablename__ = "cohort_cells"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"),
                                         primary_key=True)
    segment: Mapped[str] = mapped_column(String(16), primary_key=True)
    cohort_month: Mapped[date] = mapped_column(Date, primary_key=True)
    months_since: Mapped[int] = mapped_column(Integer, primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)
    repeaters: Mapped[int] = mapped_column(Integer)


class InsightRollup(Base):
    """How far a shop's roll-ups reach: what the pages may read from them and what live."""

    __tablename__ = "insight_rollups"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"),
                                         primary_key=True)
    # Holdout rows hold every order and entry before this moment.
    holdout_through: Mapped[datetime | None]
    # Cohort cells hold every paid order before this moment, in this timezone, for the
    # cohorts from this month on.
    cohorts_through: Mapped[datetime | None]
    cohorts_timezone: Mapped[str | None] = mapped_column(String(64))
    cohorts_from: Mapped[date | None] = mapped_column(Date)
