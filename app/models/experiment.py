"""A/B tests of the program: one setting varied between two arms, members assigned for good."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class Experiment(Base):
    """One test: the setting varied, its arms, the metric and guardrail declared up front and
    the sample each arm needs before anything is concluded."""

    __tablename__ = "experiments"
    __table_args__ = (Index("ix_experiments_shop", "shop_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    # The settings path varied (app/insights/experiments.py VARIABLES).
    variable: Mapped[str] = mapped_column(String(64))
    # [{"name": "A", "value": ...}, {"name": "B", "value": ...}]; A is today's setting.
    arms: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    metric: Mapped[str] = mapped_column(String(64))
    # The most a member of an arm may cost, in shop currency, before the arm is refused.
    guardrail_cost: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    # The metric's rate before the test and the smallest change that matters (fractions): the
    # sample per arm was computed from them.
    baseline: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    smallest_effect: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    sample_per_arm: Mapped[int] = mapped_column(Integer)
    assignment_key: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    started_by: Mapped[str | None] = mapped_column(String(255))
    ended_at: Mapped[datetime | None]
    adopted_arm: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExperimentAssignment(Base):
    """A member's arm in a test, decided once when they entered it."""

    __tablename__ = "experiment_assignments"
    __table_args__ = (UniqueConstraint("experiment_id", "member_id"),
                      Index("ix_experiment_assignments_member", "member_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    arm: Mapped[str] = mapped_column(String(8))
    assigned_at: Mapped[datetime]
