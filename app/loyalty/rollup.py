"""The dashboard's daily roll-up: each closed day of a shop's calendar summed once, so a
year-long dashboard reads a few hundred rows instead of every order and ledger entry.

What is rolled up, per shop and local day (the shop's timezone, daylight saving included):
- points issued, reversed, redeemed and expired (the ledger, as app/loyalty/analytics.py
  classifies its kinds);
- paid orders and their revenue, and those that used a reward code;
- the day's paid orders per holdout group ('control' held out now, 'program', 'none') and
  member or guest, counted by the day of the same customer's previous paid order and of the
  one before it (`DashboardDayCustomers`).

Distinct customers over any period [a, b] come from those counts without reading orders:
a customer paid in the period when one of their orders in it has no earlier order in it, so
customers = orders in [a, b] whose previous order is before a. They paid twice or more when an
order in it has its previous order in it and the one before that outside, so
repeat customers = (orders in [a, b] whose second previous order is before a) - customers.

When: the daily round (app/pipeline/jobs.py) refreshes the days since the last build and
always the last RECOMPUTE_DAYS closed days again, so late webhooks, refunds and cancellations
of recent orders land on their day; a change reaching further back (a guest's past orders
becoming a member's, a cancelled old order, an ended holdout) marks the roll-up stale from
that day, and those days are read live until the next round rebuilds them. A shop without a
roll-up (or whose timezone changed) gets every figure live, the same numbers, slower; the
daily round or `flask rebuild-rollups` builds it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, delete, func, literal, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.loyalty.holdout import CONTROL, PROGRAM
from app.models import (
    DashboardDay,
    DashboardDayCustomers,
    DashboardRollup,
    LedgerEntry,
    Member,
    Order,
    Redemption,
    Shop,
)

# Closed days recomputed on every round: late webhooks, refunds and timezone edges.
RECOMPUTE_DAYS = 3
# A rebuild of fewer days reads only their customers' history, a longer one everybody's.
RANGE_OF_FEW_DAYS = 31
# The earlier_day of an order whose customer had no such earlier order.
NO_EARLIER = date(1, 1, 1)
NONE_GROUP = "none"
# Credits that count as points issued; `adjust` counts when positive, as a reversal otherwise.
ISSUE_KINDS = frozenset({"earn_order", "bonus_signup", "bonus_birthday", "bonus_review",
                         "bonus_nps", "referral_referrer", "referral_referee"})
REVERSAL_KINDS = frozenset({"refund_reversal", "cancel_reversal"})
_SQLITE_LOCAL_DAY = "loyalty_local_day"


def zone_of(timezone: str | None) -> ZoneInfo:
    """The shop's timezone, UTC when Shopify gave us nothing usable."""
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of `day` as naive UTC."""
    local = datetime.combine(day, time(0), tzinfo=zone)
    return (local - (local.utcoffset() or timedelta(0))).replace(tzinfo=None)


def local_day_at(moment: datetime, zone: ZoneInfo) -> date:
    """The shop's calendar day of a naive UTC moment."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()


def points_side(kind: str, credit: bool) -> str | None:
    """Which flow a ledger entry belongs to: issued, reversed, redeemed, expired or none."""
    if kind in ISSUE_KINDS or (kind == "adjust" and credit):
        return "issued"
    if kind in REVERSAL_KINDS or kind == "adjust":
        return "reversed"
    if kind in ("redeem", "redeem_refund"):
        return "redeemed"
    if kind == "expire":
        return "expired"
    return None


def _sqlite_local_day(value: str | None, zone_name: str) -> str | None:
    """The local day of a stored UTC timestamp text (SQLite has no timezones of its own)."""
    if value is None:
        return None
    return local_day_at(datetime.fromisoformat(value), zone_of(zone_name)).isoformat()


def local_day(session: Session, column: ColumnElement, zone: ZoneInfo) -> ColumnElement:
    """The shop-calendar day of a naive UTC timestamp column, daylight saving included."""
    if session.get_bind().dialect.name == "sqlite":
        raw = session.connection().connection.driver_connection
        raw.create_function(_SQLITE_LOCAL_DAY, 2, _sqlite_local_day, deterministic=True)
        return getattr(func, _SQLITE_LOCAL_DAY)(column, zone.key)
    return func.date(func.timezone(zone.key, func.timezone("UTC", column)))


def as_date(value: object) -> date | None:
    """A day from the database: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite."""
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _money(value: object) -> Decimal:
    """A summed amount as Decimal (SQLite sums NUMERIC as float)."""
    return Decimal(str(value or 0))


def _counted_orders(shop_id: int) -> list[ColumnElement]:
    """Orders that count as sales: paid, not cancelled, not tests."""
    return [Order.shop_id == shop_id, Order.paid_at.is_not(None), Order.status == "paid",
            Order.test.is_(False)]


# --- computing days from the rows -------------------------------------------------------------

@dataclass
class DayFigures:
    """One day's sums (a DashboardDay before it is stored)."""

    points_issued: int = 0
    points_reversed: int = 0
    points_redeemed: int = 0
    points_expired: int = 0
    orders: int = 0
    revenue: Decimal = Decimal(0)
    reward_orders: int = 0
    reward_revenue: Decimal = Decimal(0)


# (day, holdout group, member, earlier day) -> [after_one, after_two]
CustomerCounts = dict[tuple[date, str, bool, date], list[int]]


def ledger_and_order_days(session: Session, shop_id: int, zone: ZoneInfo, start: datetime,
                          end: datetime) -> dict[date, DayFigures]:
    """Each local day's points and orders between two UTC moments (local midnights)."""
    days: dict[date, DayFigures] = defaultdict(DayFigures)
    day = local_day(session, LedgerEntry.created_at, zone).label("day")
    credit = case((LedgerEntry.points > 0, 1), else_=0).label("credit")
    for raw, kind, is_credit, points in session.execute(
            select(day, LedgerEntry.kind, credit, func.sum(LedgerEntry.points))
            .where(LedgerEntry.shop_id == shop_id, LedgerEntry.created_at >= start,
                   LedgerEntry.created_at < end)
            .group_by(day, LedgerEntry.kind, credit)):
        side = points_side(kind, bool(is_credit))
        if side is not None:
            figures = days[as_date(raw)]  # type: ignore[index]
            name = f"points_{side}"
            amount = int(points or 0)
            setattr(figures, name, getattr(figures, name) + (amount if side == "issued"
                                                             else -amount))
    paid = local_day(session, Order.paid_at, zone).label("day")
    in_range = [*_counted_orders(shop_id), Order.paid_at >= start, Order.paid_at < end]
    for raw, orders, revenue in session.execute(
            select(paid, func.count(), func.sum(Order.total_price)).where(*in_range)
            .group_by(paid)):
        figures = days[as_date(raw)]  # type: ignore[index]
        figures.orders, figures.revenue = int(orders), _money(revenue)
    used = select(Redemption.used_order_id).where(Redemption.shop_id == shop_id,
                                                  Redemption.used_order_id.is_not(None))
    for raw, orders, revenue in session.execute(
            select(paid, func.count(), func.sum(Order.total_price))
            .where(*in_range, Order.shopify_order_id.in_(used)).group_by(paid)):
        figures = days[as_date(raw)]  # type: ignore[index]
        figures.reward_orders, figures.reward_revenue = int(orders), _money(revenue)
    return dict(days)


def holdout_group_of() -> ColumnElement:
    """The dashboard's group of an order's member: control while held out, program when
    assigned to it or released from control, none otherwise (and for guests' orders)."""
    return case((and_(Member.holdout_group == CONTROL, Member.holdout_released_at.is_(None)),
                 CONTROL),
                (Member.holdout_group.in_((CONTROL, PROGRAM)), PROGRAM), else_=NONE_GROUP)


def customer_counts(session: Session, shop_id: int, zone: ZoneInfo, start: datetime,
                    end: datetime, only_customers_of_range: bool = False) -> CustomerCounts:
    """The paid orders of each local day between two UTC moments, by group, member or guest,
    and the day of the customer's previous and second previous paid order.

    A member's orders are one customer whatever emails they carried; orders of shoppers never
    enrolled are one customer per email (lowercased), as purchase_cohorts counts them.
    `only_customers_of_range` reads the history of the range's customers alone (the live
    part of a period, or the last few days: their customers, not the shop's million).
    """
    guest_email = case((Order.member_id.is_(None), func.lower(Order.email)))
    counted = [*_counted_orders(shop_id), Order.paid_at < end,
               or_(Order.member_id.is_not(None), Order.email.is_not(None))]
    if only_customers_of_range:
        keys = session.execute(
            select(Order.member_id, guest_email).distinct()
            .where(*counted, Order.paid_at >= start)).all()
        members = sorted({member for member, _ in keys if member is not None})
        guests = sorted({email for member, email in keys if member is None})
        if not keys:
            return {}
        counted.append(or_(Order.member_id.in_(members),
                           and_(Order.member_id.is_(None),
                                func.lower(Order.email).in_(guests))))
    window = {"partition_by": (Order.member_id, guest_email),
              "order_by": (Order.paid_at, Order.id)}
    # A CTE read twice: PostgreSQL computes the window once.
    history = select(Order.paid_at, Order.member_id,
                     func.lag(Order.paid_at, 1).over(**window).label("previous"),
                     func.lag(Order.paid_at, 2).over(**window).label("second_previous")
                     ).where(*counted).cte("history")
    day = local_day(session, history.c.paid_at, zone).label("day")
    group = holdout_group_of().label("grp")
    member = case((Member.customer_id.is_not(None), 1), else_=0).label("member")
    per_slot = []
    for slot, earlier_column in enumerate((history.c.previous, history.c.second_previous)):
        earlier = local_day(session, earlier_column, zone).label("earlier")
        per_slot.append(
            select(literal(slot).label("slot"), day, group, member, earlier,
                   func.count().label("orders"))
            .select_from(history)
            .outerjoin(Member, Member.id == history.c.member_id)
            .where(history.c.paid_at >= start)
            .group_by(day, group, member, earlier))
    counts: CustomerCounts = defaultdict(lambda: [0, 0])
    for slot, raw, grp, is_member, raw_earlier, orders in session.execute(
            union_all(*per_slot)):
        key = (as_date(raw), grp, bool(is_member), as_date(raw_earlier) or NO_EARLIER)
        counts[key][int(slot)] += int(orders)  # type: ignore[index]
    return dict(counts)


# --- building and refreshing ------------------------------------------------------------------

def _state(session: Session, shop_id: int) -> DashboardRollup | None:
    return session.get(DashboardRollup, shop_id)


def rebuild_days(session: Session, shop: Shop, first_day: date, last_day: date,
                 now: datetime, from_scratch: bool = False) -> int:
    """Compute the shop's days first_day..last_day again and store them in place of what was
    there (idempotent); returns the days written. `from_scratch` reads every customer's
    history at once (the whole history is being built) rather than the range's customers'."""
    zone = zone_of(shop.timezone)
    start, end = local_midnight(first_day, zone), local_midnight(last_day + timedelta(1), zone)
    days = ledger_and_order_days(session, shop.id, zone, start, end)
    customers = customer_counts(session, shop.id, zone, start, end,
                                only_customers_of_range=not from_scratch and (
                                    last_day - first_day).days < RANGE_OF_FEW_DAYS)
    for table in (DashboardDay, DashboardDayCustomers):
        session.execute(delete(table).where(table.shop_id == shop.id,
                                            table.day.between(first_day, last_day)))
    if days:
        session.execute(DashboardDay.__table__.insert(), [
            {"shop_id": shop.id, "day": day, **vars(figures)}
            for day, figures in sorted(days.items())])
    if customers:
        session.execute(DashboardDayCustomers.__table__.insert(), [
            {"shop_id": shop.id, "day": day, "holdout_group": grp, "member": is_member,
             "earlier_day": earlier, "after_one": one, "after_two": two}
            for (day, grp, is_member, earlier), (one, two) in sorted(customers.items())])
    state = _state(session, shop.id)
    if state is None:
        state = DashboardRollup(shop_id=shop.id, timezone=zone.key)
        session.add(state)
    state.timezone, state.built_at = zone.key, now
    if state.built_through is None or last_day > state.built_through:
        state.built_through = last_day
    if state.stale_from is not None and first_day <= state.stale_from:
        state.stale_from = None
    session.flush()
    return len(days)


def _first_activity(session: Session, shop_id: int) -> datetime | None:
    """The earliest ledger entry or paid order of the shop."""
    ledger = session.execute(select(func.min(LedgerEntry.created_at))
                             .where(LedgerEntry.shop_id == shop_id)).scalar_one()
    paid = session.execute(select(func.min(Order.paid_at))
                           .where(Order.shop_id == shop_id)).scalar_one()
    found = [moment for moment in (ledger, paid) if moment is not None]
    return min(found) if found else None


def refresh(session: Session, shop: Shop, now: datetime, full: bool = False) -> int:
    """Bring the shop's roll-up up to yesterday (its last closed day); returns days written.

    From scratch when there is none, the timezone changed or `full`; otherwise from the
    stale day or RECOMPUTE_DAYS before yesterday, whichever is earlier.
    """
    zone = zone_of(shop.timezone)
    yesterday = local_day_at(now, zone) - timedelta(days=1)
    state = _state(session, shop.id)
    scratch = (full or state is None or state.timezone != zone.key
               or state.built_through is None)
    if scratch:
        first = _first_activity(session, shop.id)
        if state is not None:
            for table in (DashboardDay, DashboardDayCustomers):
                session.execute(delete(table).where(table.shop_id == shop.id))
            state.built_through, state.stale_from = None, None
        first_day = local_day_at(first, zone) if first is not None else yesterday
    else:
        first_day = min(state.built_through + timedelta(days=1),
                        yesterday - timedelta(days=RECOMPUTE_DAYS - 1))
        stale = _stale_from(state, shop.holdout_started_at, shop.holdout_ended_at)
        if stale is not None:
            first_day = min(first_day, stale)
    if first_day > yesterday:
        first_day = yesterday
    return rebuild_days(session, shop, first_day, yesterday, now, from_scratch=scratch)


def mark_stale(session: Session, shop_id: int, since: datetime | None) -> None:
    """A change reached back to `since` (naive UTC): read the days from then on live until the
    next round computes them again."""
    state = _state(session, shop_id)
    if state is None or since is None or state.built_through is None:
        return
    day = local_day_at(since, zone_of(state.timezone))
    if day <= state.built_through and (state.stale_from is None or day < state.stale_from):
        state.stale_from = day


def _stale_from(state: DashboardRollup, holdout_started_at: datetime | None,
                holdout_ended_at: datetime | None) -> date | None:
    """The first stored day that may be out of date: the marked one, or the start of a
    holdout that ended after the last build (its control members' days are the program's
    now)."""
    stale = state.stale_from
    if (holdout_ended_at is not None and holdout_started_at is not None
            and holdout_ended_at >= state.built_at):
        ended = local_day_at(holdout_started_at, zone_of(state.timezone))
        stale = ended if stale is None else min(stale, ended)
    return stale


def closed_through(session: Session, shop_id: int) -> tuple[date, ZoneInfo] | None:
    """The last day the dashboard may read from the roll-up, and the roll-up's timezone; None
    when the shop has no usable roll-up (none yet, or built in another timezone)."""
    found = session.execute(
        select(DashboardRollup, Shop.timezone, Shop.holdout_started_at, Shop.holdout_ended_at)
        .join(Shop, Shop.id == DashboardRollup.shop_id)
        .where(DashboardRollup.shop_id == shop_id)).first()
    if found is None:
        return None
    state, timezone, started, ended = found
    if state.built_through is None or state.timezone != zone_of(timezone).key:
        return None
    through = state.built_through
    stale = _stale_from(state, started, ended)
    if stale is not None:
        through = min(through, stale - timedelta(days=1))
    return through, zone_of(state.timezone)


# --- reading ------------------------------------------------------------------------------------

def rolled_days(session: Session, shop_id: int, first_day: date, last_day: date
                ) -> dict[date, DayFigures]:
    """The stored days first_day..last_day."""
    rows = session.execute(select(DashboardDay).where(
        DashboardDay.shop_id == shop_id, DashboardDay.day.between(first_day, last_day)))
    return {row.day: DayFigures(
        row.points_issued, row.points_reversed, row.points_redeemed, row.points_expired,
        row.orders, _money(row.revenue), row.reward_orders, _money(row.reward_revenue))
        for row in rows.scalars()}


def rolled_order_totals(session: Session, shop_id: int, first_day: date, last_day: date
                        ) -> tuple[int, Decimal, int, Decimal]:
    """(orders, revenue, reward orders, reward revenue) of the stored days."""
    orders, revenue, reward_orders, reward_revenue = session.execute(
        select(func.coalesce(func.sum(DashboardDay.orders), 0), func.sum(DashboardDay.revenue),
               func.coalesce(func.sum(DashboardDay.reward_orders), 0),
               func.sum(DashboardDay.reward_revenue))
        .where(DashboardDay.shop_id == shop_id,
               DashboardDay.day.between(first_day, last_day))).one()
    return int(orders), _money(revenue), int(reward_orders), _money(reward_revenue)


# (holdout group, member) -> [orders, customers, second-previous-before-start]
CohortSums = dict[tuple[str, bool], list[int]]


def rolled_cohorts(session: Session, shop_id: int, period_start: date, first_day: date,
                   last_day: date) -> CohortSums:
    """Sums of the stored days first_day..last_day for a period starting period_start."""
    before = DashboardDayCustomers.earlier_day < period_start
    rows = session.execute(
        select(DashboardDayCustomers.holdout_group, DashboardDayCustomers.member,
               func.sum(DashboardDayCustomers.after_one),
               func.coalesce(func.sum(case((before, DashboardDayCustomers.after_one),
                                           else_=0)), 0),
               func.coalesce(func.sum(case((before, DashboardDayCustomers.after_two),
                                           else_=0)), 0))
        .where(DashboardDayCustomers.shop_id == shop_id,
               DashboardDayCustomers.day.between(first_day, last_day))
        .group_by(DashboardDayCustomers.holdout_group, DashboardDayCustomers.member))
    return {(grp, bool(member)): [int(orders or 0), int(first), int(second)]
            for grp, member, orders, first, second in rows}


def cohort_sums(counts: CustomerCounts, period_start: date) -> CohortSums:
    """The same sums over counts computed live."""
    sums: CohortSums = defaultdict(lambda: [0, 0, 0])
    for (_, grp, member, earlier), (one, two) in counts.items():
        total = sums[(grp, member)]
        total[0] += one
        if earlier < period_start:
            total[1] += one
            total[2] += two
    return dict(sums)


def add_sums(parts: Iterable[CohortSums]) -> CohortSums:
    """Several parts' sums added up."""
    total: CohortSums = defaultdict(lambda: [0, 0, 0])
    for part in parts:
        for key, values in part.items():
            total[key] = [a + b for a, b in zip(total[key], values, strict=True)]
    return dict(total)
