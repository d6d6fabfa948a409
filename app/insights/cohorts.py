"""Monthly acquisition cohorts: of the customers whose first order fell in a month, the share
who ordered again in each month after it.

A customer belongs to the month of their first paid order (in the shop's timezone). The cell of
month k of a cohort is the share of its customers with a paid order in the k-th calendar month
after that one; month 0 counts only orders after the first. A cell whose month has not begun
is empty; the current month is still filling.

Segments: members (a customer account, in the program), guests (an email only) and the
holdout's control group (held out, or released since: their first months were without it).

The daily round keeps every segment's counts (app/models/rollup.py, cohort_cells), read with
the customers who ordered since it: a customer's contribution to the counts is a function of
their orders, so each one who ordered since is taken out as the round counted them and put
back with their new orders.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.loyalty.analytics import shop_zone
from app.loyalty.holdout import CONTROL
from app.models import CohortCell, InsightRollup, Member, Order, Shop

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


def segments_of(is_guest: bool, group: str | None) -> tuple[str, ...]:
    """The segments a customer is counted in: held out (control, released or not), guests
    (no customer account) and members (an account, not in control)."""
    return tuple(segment for segment, within in (
        ("members", not is_guest and group != CONTROL), ("guests", is_guest),
        ("holdout", group == CONTROL)) if within)


@dataclass
class _Counts:
    """Per cohort month (index): its customers and, per month since, those who ordered."""

    months: int
    customers: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    active: dict[int, list[int]] = field(default_factory=dict)

    def add(self, contribution: tuple[int, set[int]] | None, sign: int = 1) -> None:
        if contribution is None:
            return
        cohort, seen = contribution
        self.customers[cohort] += sign
        row = self.active.setdefault(cohort, [0] * self.months)
        for k in seen:
            row[k] += sign


def _contribution(times: list[datetime], zone: ZoneInfo, first_cohort: int, months: int
                  ) -> tuple[int, set[int]] | None:
    """A customer's cohort and the months since it in which they ordered again (None: their
    first order is before the first cohort kept)."""
    if not times:
        return None
    times = sorted(times)
    cohort = _month_index(_local_day(times[0], zone))
    if cohort < first_cohort:
        return None
    seen = {_month_index(_local_day(t, zone)) - cohort for t in times[1:]}
    return cohort, {k for k in seen if 0 <= k < months}


def _paid_orders(shop_id: int):  # noqa: ANN202 - a SELECT
    """Each paid order's customer, time and segment facts."""
    return (select(Order.member_id, Order.paid_at, Member.customer_id.is_(None),
                   Member.holdout_group)
            .join(Member, Member.id == Order.member_id)
            .where(Order.shop_id == shop_id, Member.shop_id == shop_id,
                   Order.status == "paid", Order.test.is_(False), Order.paid_at.is_not(None)))


def _count_all(session: Session, shop: Shop, now: datetime, first_cohort: int, months: int
               ) -> dict[str, _Counts]:
    """Every segment's counts from every paid order up to `now`, one customer at a time."""
    zone = shop_zone(shop.timezone)
    counts = {segment: _Counts(months) for segment in SEGMENTS}
    current: tuple[int | None, list[datetime], tuple[str, ...]] = (None, [], ())

    def close() -> None:
        member_id, times, segments = current
        if member_id is not None:
            contribution = _contribution(times, zone, first_cohort, months)
            for segment in segments:
                counts[segment].add(contribution)

    rows = session.execute(_paid_orders(shop.id).where(Order.paid_at <= now)
                           .order_by(Order.member_id),
                           execution_options={"yield_per": 10_000})
    for member_id, paid_at, is_guest, group in rows:
        if member_id != current[0]:
            close()
            current = (member_id, [], segments_of(is_guest, group))
        current[1].append(paid_at)
    close()
    return counts


def _counts_since(session: Session, shop: Shop, state: InsightRollup, now: datetime,
                  first_cohort: int, months: int) -> dict[str, _Counts] | None:
    """The roll-up's counts brought up to `now` (None when it cannot answer): the cells as of
    its round, plus, for each customer with an order paid since, what that order changed."""
    through = state.cohorts_through
    if (through is None or through > now or state.cohorts_from is None
            or state.cohorts_timezone != (shop.timezone or "")
            or _month_index(state.cohorts_from) > first_cohort or months > COHORT_MONTHS):
        return None
    zone = shop_zone(shop.timezone)
    counts = {segment: _Counts(months) for segment in SEGMENTS}
    for segment, month, k, customers, repeaters in session.execute(
            select(CohortCell.segment, CohortCell.cohort_month, CohortCell.months_since,
                   CohortCell.customers, CohortCell.repeaters)
            .where(CohortCell.shop_id == shop.id, CohortCell.months_since < months,
                   CohortCell.cohort_month >= _month(first_cohort))):
        cells = counts[segment]
        cohort = _month_index(month)
        cells.customers[cohort] = customers
        cells.active.setdefault(cohort, [0] * months)[k] = repeaters
    recent = set(session.scalars(select(Order.member_id).where(
        Order.shop_id == shop.id, Order.paid_at > through, Order.paid_at <= now,
        Order.status == "paid", Order.test.is_(False), Order.member_id.is_not(None))))
    orders: dict[int, list[datetime]] = defaultdict(list)
    facts: dict[int, tuple[str, ...]] = {}
    ids = sorted(recent)
    for start in range(0, len(ids), 5_000):
        for member_id, paid_at, is_guest, group in session.execute(
                _paid_orders(shop.id).where(Order.member_id.in_(ids[start:start + 5_000]),
                                            Order.paid_at <= now)):
            orders[member_id].append(paid_at)
            facts[member_id] = segments_of(is_guest, group)
    for member_id, times in orders.items():
        before = _contribution([t for t in times if t <= through], zone, first_cohort, months)
        after = _contribution(times, zone, first_cohort, months)
        for segment in facts[member_id]:
            counts[segment].add(before, -1)
            counts[segment].add(after)
    return counts


def refresh_cohort_cells(session: Session, shop: Shop, state: InsightRollup,
                         now: datetime) -> int:
    """Count the shop's cohorts again from its orders up to `now` and keep the cells (the
    last COHORT_MONTHS cohorts); returns how many cells were written."""
    zone = shop_zone(shop.timezone)
    current = _month_index(_local_day(now, zone))
    first_cohort = current - COHORT_MONTHS + 1
    counts = _count_all(session, shop, now, first_cohort, COHORT_MONTHS)
    session.execute(delete(CohortCell).where(CohortCell.shop_id == shop.id))
    values = [{"shop_id": shop.id, "segment": segment, "cohort_month": _month(cohort),
               "months_since": k, "customers": customers, "repeaters": repeaters}
              for segment, cells in counts.items()
              for cohort, customers in sorted(cells.customers.items()) if customers
              for k, repeaters in enumerate(cells.active.get(cohort, [0] * COHORT_MONTHS))
              if k == 0 or repeaters]
    if values:
        session.execute(insert(CohortCell), values)
    state.cohorts_through, state.cohorts_timezone = now, shop.timezone or ""
    state.cohorts_from = _month(first_cohort)
    return len(values)


def cohort_tables(session: Session, shop: Shop, now: datetime, months: int = COHORT_MONTHS,
                  *, rolled_up: bool = True) -> dict[str, list[Cohort]]:
    """Every segment's last `months` cohorts, oldest first, each followed up to now: from the
    daily roll-up and the orders since its round, or from every order (`rolled_up` False, or
    a roll-up that cannot answer)."""
    zone = shop_zone(shop.timezone)
    current = _month_index(_local_day(now, zone))
    first_cohort = current - months + 1
    state = session.get(InsightRollup, shop.id) if rolled_up else None
    counts = (_counts_since(session, shop, state, now, first_cohort, months)
              if state is not None else None)
    if counts is None:
        counts = _count_all(session, shop, now, first_cohort, months)
    tables = {}
    for segment, cells in counts.items():
        table = []
        for cohort in range(first_cohort, current + 1):
            n = cells.customers.get(cohort, 0)
            active = cells.active.get(cohort, [0] * months)
            begun = current - cohort + 1
            rates = tuple((active[k] / n if n else None) if k < begun else None
                          for k in range(months))
            table.append(Cohort(_month(cohort), n, rates))
        tables[segment] = table
    return tables


def cohort_table(session: Session, shop: Shop, segment: str, now: datetime,
                 months: int = COHORT_MONTHS, *, rolled_up: bool = True) -> list[Cohort]:
    """One segment's last `months` cohorts (cohort_tables)."""
    if segment not in SEGMENTS:
        raise ValueError(f"no segment {segment!r}")
    return cohort_tables(session, shop, now, months, rolled_up=rolled_up)[segment]


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
