"""Monthly acquisition cohorts: of the customers whose first order fell in a month, the share
who ordered again in each month after it.

A customer belongs to the month of their first paid order (in the shop's timezone). The cell of
month k of a cohort is the share of its customers with a paid order in the k-th calendar month
after that one; month 0 counts only orders after the first. A cell whose month has not begun
is empty; the current month is still filling.

Segments: members (a customer account, in the program), guests (an email only) and the
holdout's control group (held out, or released since: their first months were without it).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.analytics import shop_zone
from app.loyalty.holdout import CONTROL
from app.models import Member, Order, Shop

SEGMENTS = {"members": "Members", "guests": "Guests", "holdout": "Held out"}
# Cohorts shown, and months followed after each.
COHORT_MONTHS = 12


@dataclass(frozen=True)
class Cohort:
    """One month's new customers and, for each month after it, the share who ordered."""

    month: date
    customers: int
    # rates[k]: share with an order in month k after the first (None: not begun yet).
    rates: tuple[float | None, ...]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The shop's calendar day of a naive UTC moment."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()


def _segment_condition(segment: str):  # noqa: ANN202 - a SQL condition
    if segment == "holdout":
        return Member.holdout_group == CONTROL
    if segment == "guests":
        return Member.customer_id.is_(None)
    if segment == "members":
        return Member.customer_id.is_not(None) & (
            Member.holdout_group.is_(None) | (Member.holdout_group != CONTROL))
    raise ValueError(f"no segment {segment!r}")


def cohort_table(session: Session, shop: Shop, segment: str, now: datetime,
                 months: int = COHORT_MONTHS) -> list[Cohort]:
    """The last `months` cohorts of a segment, oldest first, each followed up to now."""
    zone = shop_zone(shop.timezone)
    current = _month_index(_local_day(now, zone))
    first_cohort = current - months + 1
    rows = session.execute(
        select(Order.member_id, Order.paid_at)
        .join(Member, Member.id == Order.member_id)
        .where(Order.shop_id == shop.id, Member.shop_id == shop.id,
               _segment_condition(segment), Order.status == "paid", Order.test.is_(False)))
    orders: dict[int, list[datetime]] = defaultdict(list)
    for member_id, paid_at in rows:
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
        seen = {_month_index(_local_day(t, zone)) - cohort for t in times[1:]}
        for k in seen:
            if 0 <= k < months:
                active[cohort][k] += 1
    table = []
    for cohort in range(first_cohort, current + 1):
        n = counts.get(cohort, 0)
        begun = current - cohort + 1
        rates = tuple((active[cohort][k] / n if n else None) if k < begun else None
                      for k in range(months))
        table.append(Cohort(_month(cohort), n, rates))
    return table


def cohorts_csv(segment: str, table: list[Cohort]) -> str:
    """The table as CSV: one row per cohort, the repeat rate of each month after it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    months = len(table[0].rates) if table else 0
    writer.writerow(["segment", "cohort", "customers", *[f"month_{k}" for k in range(months)]])
    for cohort in table:
        writer.writerow([segment, cohort.month.strftime("%Y-%m"), cohort.customers,
                         *["" if r is None else f"{r:.4f}" for r in cohort.rates]])
    return out.getvalue()
