"""The effect and cohort figures computed customer by customer from members, orders and
ledger entries, as the pages did before the roll-ups: the reference the roll-ups must equal."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.analytics import shop_zone
from app.loyalty.holdout import CONTROL, PROGRAM
from app.models import LedgerEntry, Member, Order, Shop

SLACK = timedelta(days=1)
BONUS_KINDS = ("bonus_signup", "bonus_birthday", "bonus_review", "bonus_nps",
               "referral_referrer", "referral_referee")
REVERSAL_KINDS = ("refund_reversal", "cancel_reversal")


@dataclass
class Group:
    customers: int = 0
    repeaters: int = 0
    orders_per_customer: list[float] = field(default_factory=list)
    revenue_per_customer: list[float] = field(default_factory=list)
    order_values: list[float] = field(default_factory=list)


@dataclass
class Reference:
    groups: dict[str, Group]
    waiting: int
    issued: int
    bonus: int
    redeemed: int
    held: int


def effect_by_rows(session: Session, shop: Shop, repeat_days: int, first_day: datetime,
                   end: datetime, now: datetime) -> Reference:
    period = timedelta(days=repeat_days)
    members = [Member.shop_id == shop.id, Member.holdout_group.is_not(None),
               Member.holdout_assigned_at >= first_day, Member.holdout_assigned_at < end]
    assigned = session.execute(select(Member.id, Member.holdout_group,
                                      Member.holdout_assigned_at).where(*members)).all()
    complete = {row.id: (row.holdout_group, row.holdout_assigned_at) for row in assigned
                if row.holdout_assigned_at + period <= now}
    orders: dict[int, list[float]] = defaultdict(list)
    for member_id, paid_at, total, refunded in session.execute(
            select(Order.member_id, Order.paid_at, Order.total_price, Order.refunded_amount)
            .join(Member, Member.id == Order.member_id)
            .where(*members, Order.shop_id == shop.id, Order.status == "paid",
                   Order.test.is_(False))):
        if member_id not in complete or paid_at is None:
            continue
        at = complete[member_id][1]
        if at - SLACK <= paid_at < at + period:
            orders[member_id].append(float((total or 0) - (refunded or 0)))
    groups = {CONTROL: Group(), PROGRAM: Group()}
    for member_id, (group, _) in complete.items():
        figures, values = groups[group], orders.get(member_id, [])
        figures.customers += 1
        figures.repeaters += len(values) >= 2
        figures.orders_per_customer.append(float(len(values)))
        figures.revenue_per_customer.append(math.fsum(values))
        figures.order_values.extend(values)
    issued = bonus = redeemed = taken_back = expired = 0
    program_ids = {m for m, (group, _) in complete.items() if group == PROGRAM}
    for member_id, kind, points, created_at in session.execute(
            select(LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.points,
                   LedgerEntry.created_at)
            .join(Member, Member.id == LedgerEntry.member_id)
            .where(*members, Member.holdout_group == PROGRAM)):
        if member_id not in program_ids:
            continue
        at = complete[member_id][1]
        if not at - SLACK <= created_at < at + period:
            continue
        if kind in ("redeem", "redeem_refund"):
            redeemed -= points
        elif kind == "expire":
            expired -= points
        elif kind in REVERSAL_KINDS or points < 0:
            taken_back -= points
        else:
            issued += points
            bonus += points if kind in BONUS_KINDS else 0
    return Reference(groups, len(assigned) - len(complete), issued, bonus, redeemed,
                     max(issued - taken_back - redeemed - expired, 0))


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()


def _segment_condition(segment: str):  # noqa: ANN202 - a SQL condition
    if segment == "holdout":
        return Member.holdout_group == CONTROL
    if segment == "guests":
        return Member.customer_id.is_(None)
    return Member.customer_id.is_not(None) & (
        Member.holdout_group.is_(None) | (Member.holdout_group != CONTROL))


def cohorts_by_rows(session: Session, shop: Shop, segment: str, now: datetime,
                    months: int = 12) -> list[tuple[date, int, tuple[float | None, ...]]]:
    """(cohort month, customers, rates) for the last `months` cohorts, oldest first."""
    zone = shop_zone(shop.timezone)
    current = _month_index(_local_day(now, zone))
    first_cohort = current - months + 1
    orders: dict[int, list[datetime]] = defaultdict(list)
    for member_id, paid_at in session.execute(
            select(Order.member_id, Order.paid_at)
            .join(Member, Member.id == Order.member_id)
            .where(Order.shop_id == shop.id, Member.shop_id == shop.id,
                   _segment_condition(segment), Order.status == "paid",
                   Order.test.is_(False))):
        if paid_at is not None and paid_at <= now:
            orders[member_id].append(paid_at)
    counts: dict[int, int] = defaultdict(int)
    active: dict[int, list[int]] = defaultdict(lambda: [0] * months)
    for times in orders.values():
        times.sort()
        cohort = _month_index(_local_day(times[0], zone))
        if cohort < first_cohort:
            continue
        counts[cohort] += 1
        for k in {_month_index(_local_day(t, zone)) - cohort for t in times[1:]}:
            if 0 <= k < months:
                active[cohort][k] += 1
    table = []
    for cohort in range(first_cohort, current + 1):
        n = counts.get(cohort, 0)
        begun = current - cohort + 1
        table.append((date(cohort // 12, cohort % 12 + 1, 1), n,
                      tuple((active[cohort][k] / n if n else None) if k < begun else None
                            for k in range(months))))
    return table
