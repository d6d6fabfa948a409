"""The dashboard's daily roll-up: each closed day of a shop summed once by the daily round
(app/loyalty/rollup.py), so a long period reads a few hundred rows instead of every order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class DashboardDay(Base):
    """One local day of a shop: points that moved and the day's paid orders."""

    __tablename__ = "dashboard_days"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"),
                                         primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    points_issued: Mapped[int] = mapped_column(BigInteger, default=0)
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    points_redeemed: Mapped[int] = mapped_column(BigInteger, default=0)
    points_expired: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    reward_orders: Mapped[int] = mapped_column(Integer, default=0)
    reward_revenue: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))


class DashboardDayCustomers(Base):
    """Paid orders of one local day by one kind of customer, counted by when the same customer
    had paid before: `after_one` orders whose customer's previous order fell on
    `earlier_day`, `after_two` orders whose customer's order before the previous one did
    (date 0001-01-01: no such order). Distinct customers of any period follow from these sums
    (app/loyalty/rollup.py explains how)."""

    __tablename__ = "dashboard_day_customers"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"),
                                         primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # The holdout group: 'control' (held out now), 'program', 'none' (never assigned, guests).
    holdout_group: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Whether the customer is a member (has a customer account) rather than a guest.
    member: Mapped[bool] = mapped_column(primary_key=True)
    earlier_day: Mapped[date] = mapped_column(Date, primary_key=True)
    after_one: Mapped[int] = mapped_column(Integer, default=0)
    after_two: Mapped[int] = mapped_column(Integer, default=0)


class DashboardRollup(Base):
    """How far a shop's roll-up is built, and in which timezone its days are."""

    __tablename__ = "dashboard_rollups"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"),
                                         primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # Days up to this one are rolled up (None: nothing yet).
    built_through: Mapped[date | None] = mapped_column(Date)
    # A change reached back to this day: from it on, days are read live until rebuilt.
    stale_from: Mapped[date | None] = mapped_column(Date)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
