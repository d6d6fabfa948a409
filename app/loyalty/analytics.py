"""The merchant's dashboard figures: SQL aggregates over one shop and one period.

Points, orders, reward revenue and purchase cohorts read the shop's closed days from the daily
roll-up (app/loyalty/rollup.py) and only the days after it (today) from the rows; each
`*_live` function is the same figure from the rows alone, used for a shop without a roll-up.
The live queries are scoped by shop and bounded by the period (the indexes they rely on are
migration 0005's). Nothing here reads the clock: the caller passes the period, built from
`now` and the shop's timezone.

Definitions a merchant reads next to each figure:
- points issued: credits written in the period (orders, bonuses, referrals, positive
  adjustments), pending or not; reversed: refunds, cancellations and negative adjustments;
  redeemed: points spent on rewards minus points returned from voided rewards; expired.
- redemption rate: points redeemed / points issued in the period.
- liability: outstanding points (available + pending, all members, now) x point value; the
  expected cost also applies the period's redemption rate (features.md "Liability").
- members vs guests: a member has a customer account in the program; a guest is known only by
  the email of guest checkouts (guests earn too, but have not claimed their points). Repeat
  purchase rate: customers with two or more paid orders in the period / customers with one or
  more. Test and cancelled orders never count. Held-out customers (app/loyalty/holdout.py) get
  no program: they are neither members nor guests here, and not in the member counts.
- referral funnel: shares recorded by the widget (messages of kind `referral_share`) → friends'
  orders attributed to a code → referrals rewarded; conversion = referred orders / shares.
- NPS: promoters answer 9-10, passives 7-8, detractors 0-6; score = %promoters - %detractors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.loyalty import rollup
from app.loyalty.holdout import CONTROL
from app.loyalty.program import ProgramSettings
from app.models import (
    LedgerEntry,
    Member,
    Message,
    Order,
    Redemption,
    Referral,
    Shop,
    SurveyResponse,
)

CENT = Decimal("0.01")
SHARE_MESSAGE_KIND = "referral_share"
DETRACTOR_COMMENTS = 5
# Daily points are grouped by week, then by month, once a chart would have too many bars.
WEEKLY_AFTER_DAYS, MONTHLY_AFTER_DAYS = 62, 190

@dataclass(frozen=True)
class Period:
    """A span of the shop's calendar as UTC bounds: [start, end)."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    # The shop's UTC offset at the end of the period, used to put rows on the shop's days.
    utc_offset_minutes: int

    @property
    def days(self) -> int:
        """Calendar days in the period."""
        return (self.last_day - self.first_day).days + 1


def shop_zone(timezone: str | None) -> ZoneInfo:
    """The shop's timezone, UTC when Shopify gave us nothing usable."""
    return rollup.zone_of(timezone)


def period_between(first_day: date, last_day: date, timezone: str | None) -> Period:
    """The shop's days first_day..last_day (inclusive) as UTC bounds."""
    if last_day < first_day:
        first_day, last_day = last_day, first_day
    zone = shop_zone(timezone)

    def utc(day: date) -> datetime:
        """Local midnight of `day` in naive UTC."""
        local = datetime.combine(day, time(0), tzinfo=zone)
        return (local - local.utcoffset()).replace(tzinfo=None)

    end = utc(last_day + timedelta(days=1))
    offset = datetime.combine(last_day, time(12), tzinfo=zone).utcoffset() or timedelta(0)
    return Period(utc(first_day), end, first_day, last_day, int(offset.total_seconds() // 60))


def period_ending(now: datetime, days: int, timezone: str | None) -> Period:
    """The last `days` days of the shop's calendar, today included."""
    zone = shop_zone(timezone)
    today = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()
    return period_between(today - timedelta(days=days - 1), today, timezone)


@dataclass(frozen=True)
class PointsFlow:
    """Points that moved in the period, each as a positive number."""

    issued: int = 0
    reversed: int = 0
    redeemed: int = 0
    expired: int = 0

    @property
    def redemption_rate(self) -> Decimal | None:
        """Redeemed / issued, None when nothing was issued."""
        if self.issued <= 0:
            return None
        return Decimal(self.redeemed) / Decimal(self.issued)


@dataclass(frozen=True)
class PointsBucket:
    """Points issued, redeemed and expired over one bar of the chart."""

    first_day: date
    last_day: date
    issued: int = 0
    redeemed: int = 0
    expired: int = 0


@dataclass(frozen=True)
class Liability:
    """What the outstanding points are worth in the shop's currency."""

    available: int
    pending: int
    point_value: Decimal
    value: Decimal
    expected_value: Decimal | None

    @property
    def outstanding(self) -> int:
        """Points members hold, pending included."""
        return self.available + self.pending


@dataclass(frozen=True)
class Cohort:
    """Customers who paid for at least one order in the period, and how often they came back."""

    customers: int = 0
    orders: int = 0
    repeat_customers: int = 0

    @property
    def repeat_rate(self) -> Decimal | None:
        """Share of customers with two or more orders."""
        return Decimal(self.repeat_customers) / self.customers if self.customers else None

    @property
    def orders_per_customer(self) -> Decimal | None:
        """Orders per customer."""
        return Decimal(self.orders) / self.customers if self.customers else None


@dataclass(frozen=True)
class ReferralFunnel:
    """From a shared link to a rewarded referral."""

    shares: int = 0
    referred_orders: int = 0
    rewarded: int = 0
    waiting: int = 0
    rejected: int = 0

    @property
    def conversion(self) -> Decimal | None:
        """Referred orders per share, None before any share is recorded."""
        return Decimal(self.referred_orders) / self.shares if self.shares else None


@dataclass(frozen=True)
class RewardRevenue:
    """Orders that used a reward code, and their totals."""

    orders: int
    revenue: Decimal
    total_orders: int
    total_revenue: Decimal

    @property
    def share(self) -> Decimal | None:
        """Share of the period's revenue from orders that used a reward."""
        return self.revenue / self.total_revenue if self.total_revenue else None


@dataclass(frozen=True)
class DetractorComment:
    """What an unhappy customer wrote."""

    at: datetime
    score: int
    comment: str
    member_id: int | None
    who: str | None


@dataclass(frozen=True)
class Nps:
    """Net promoter score of the period's answers."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    comments: tuple[DetractorComment, ...] = ()

    @property
    def responses(self) -> int:
        """Answers in the period."""
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> int | None:
        """%promoters - %detractors, rounded half away from zero; None without answers."""
        if not self.responses:
            return None
        value = Decimal(100 * (self.promoters - self.detractors)) / self.responses
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Dashboard:
    """Every figure of the dashboard for one period."""

    period: Period
    currency: str
    members_total: int
    members_new: int
    points: PointsFlow
    liability: Liability
    members: Cohort
    guests: Cohort
    referrals: ReferralFunnel
    reward_revenue: RewardRevenue
    nps: Nps
    chart: list[PointsBucket] = field(default_factory=list)


def _in_period(column: ColumnElement, period: Period) -> ColumnElement:
    """column within [start, end)."""
    return and_(column >= period.start, column < period.end)


def _count_if(condition: ColumnElement) -> ColumnElement:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a conditional count on both backends."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _money(value: object) -> Decimal:
    """A summed amount as Decimal cents (SQLite sums NUMERIC as float)."""
    return Decimal(str(value or 0)).quantize(CENT)


def member_figures(session: Session, shop_id: int, period: Period
                   ) -> tuple[int, int, int, int]:
    """(members at the end of the period, members who joined during it, available points now,
    pending points now), held-out customers not counted as members."""
    total, new, available, pending = session.execute(
        select(_count_if(Member.created_at < period.end),
               _count_if(_in_period(Member.created_at, period)),
               func.coalesce(func.sum(Member.points_available), 0),
               func.coalesce(func.sum(Member.points_pending), 0))
        .where(Member.shop_id == shop_id)).one()
    # Apart, so the pass above stays an index-only scan: the held-out are few and were all
    # assigned (members(shop_id, holdout_assigned_at) finds them).
    held_total, held_new = session.execute(
        select(_count_if(Member.created_at < period.end),
               _count_if(_in_period(Member.created_at, period)))
        .where(Member.shop_id == shop_id, Member.holdout_assigned_at.is_not(None),
               Member.holdout_group == CONTROL, Member.holdout_released_at.is_(None))).one()
    total, new = int(total) - int(held_total), int(new) - int(held_new)
    return int(total), int(new), int(available), int(pending)


def _local_day(session: Session, column: ColumnElement, offset_minutes: int) -> ColumnElement:
    """The shop-calendar day of a UTC timestamp column (a fixed offset: DST is ignored)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, f"{offset_minutes:+d} minutes")
    return func.date(column + timedelta(minutes=offset_minutes))


def _as_date(value: object) -> date:
    """A day from the database: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


Split = tuple[tuple[date, date] | None, Period | None, ZoneInfo | None]


def _split(session: Session, shop_id: int, period: Period) -> Split:
    """(the period's days read from the roll-up, the rest of the period read live, the
    roll-up's timezone). All live when the shop has no roll-up usable for this period."""
    found = rollup.closed_through(session, shop_id)
    if found is None:
        return None, period, None
    through, zone = found
    bounds = (rollup.local_midnight(period.first_day, zone),
              rollup.local_midnight(period.last_day + timedelta(days=1), zone))
    if through < period.first_day or bounds != (period.start, period.end):
        return None, period, None
    if through >= period.last_day:
        return (period.first_day, period.last_day), None, zone
    after = through + timedelta(days=1)
    live = Period(rollup.local_midnight(after, zone), period.end, after, period.last_day,
                  period.utc_offset_minutes)
    return (period.first_day, through), live, zone


def daily_points(session: Session, shop_id: int, period: Period
                 ) -> tuple[PointsFlow, dict[date, PointsBucket]]:
    """Points issued, reversed, redeemed and expired: the period's totals and each day's."""
    return _daily_points(session, shop_id, period, _split(session, shop_id, period))


def _daily_points(session: Session, shop_id: int, period: Period, split: Split
                  ) -> tuple[PointsFlow, dict[date, PointsBucket]]:
    rolled, live, _ = split
    flow, days = daily_points_live(session, shop_id, live) if live else (PointsFlow(), {})
    if rolled is None:
        return flow, days
    totals = {"issued": flow.issued, "reversed": flow.reversed, "redeemed": flow.redeemed,
              "expired": flow.expired}
    for day, figures in rollup.rolled_days(session, shop_id, *rolled).items():
        for name in totals:
            totals[name] += getattr(figures, f"points_{name}")
        found = days.get(day) or PointsBucket(day, day)
        days[day] = PointsBucket(day, day, found.issued + figures.points_issued,
                                 found.redeemed + figures.points_redeemed,
                                 found.expired + figures.points_expired)
    return PointsFlow(**totals), days


def daily_points_live(session: Session, shop_id: int, period: Period
                      ) -> tuple[PointsFlow, dict[date, PointsBucket]]:
    """daily_points from the ledger rows alone."""
    # Grouped by the labels: PostgreSQL sees two bound copies of an expression as different.
    day = _local_day(session, LedgerEntry.created_at, period.utc_offset_minutes).label("day")
    credit = case((LedgerEntry.points > 0, 1), else_=0).label("credit")
    rows = session.execute(
        select(day, LedgerEntry.kind, credit, func.sum(LedgerEntry.points))
        .where(LedgerEntry.shop_id == shop_id, _in_period(LedgerEntry.created_at, period))
        .group_by(day, LedgerEntry.kind, credit))
    totals = {"issued": 0, "reversed": 0, "redeemed": 0, "expired": 0}
    days: dict[date, dict[str, int]] = {}
    for raw_day, kind, is_credit, points in rows:
        points = int(points or 0)
        name = rollup.points_side(kind, bool(is_credit))
        if name is None:
            continue
        amount = points if name == "issued" else -points
        totals[name] += amount
        if name != "reversed":
            bucket = days.setdefault(_as_date(raw_day), {"issued": 0, "redeemed": 0,
                                                         "expired": 0})
            bucket[name] += amount
    flow = PointsFlow(**totals)
    return flow, {d: PointsBucket(d, d, **v) for d, v in days.items()}


def chart_buckets(period: Period, days: dict[date, PointsBucket]) -> list[PointsBucket]:
    """Every day of the period (empty days included), grouped by week or month when long."""
    def key(day: date) -> date:
        """The first day of the bar this day belongs to."""
        if period.days > MONTHLY_AFTER_DAYS:
            return day.replace(day=1)
        if period.days > WEEKLY_AFTER_DAYS:
            return day - timedelta(days=day.weekday())
        return day

    bars: dict[date, PointsBucket] = {}
    day = period.first_day
    while day <= period.last_day:
        start = key(day)
        bar = bars.get(start) or PointsBucket(max(start, period.first_day), day)
        found = days.get(day)
        bars[start] = PointsBucket(
            bar.first_day, day,
            bar.issued + (found.issued if found else 0),
            bar.redeemed + (found.redeemed if found else 0),
            bar.expired + (found.expired if found else 0))
        day += timedelta(days=1)
    return list(bars.values())


def liability_of(available: int, pending: int, settings: ProgramSettings,
                 redemption_rate: Decimal | None) -> Liability:
    """What outstanding points are worth at the program's point value."""
    value = (Decimal(available + pending) * settings.point_value).quantize(CENT)
    expected = (value * redemption_rate).quantize(CENT) if redemption_rate is not None else None
    return Liability(available, pending, settings.point_value, value, expected)


def _paid_in_period(shop_id: int, period: Period) -> list[ColumnElement]:
    """Orders that count as sales of the period: paid in it, not cancelled, not tests."""
    return [Order.shop_id == shop_id, _in_period(Order.paid_at, period),
            Order.status == "paid", Order.test.is_(False)]


def purchase_cohorts(session: Session, shop_id: int, period: Period) -> tuple[Cohort, Cohort]:
    """(members, guests): customers, orders and repeat customers of the period."""
    return _purchase_cohorts(session, shop_id, period, _split(session, shop_id, period))


def _purchase_cohorts(session: Session, shop_id: int, period: Period, split: Split
                      ) -> tuple[Cohort, Cohort]:
    rolled, live, zone = split
    if rolled is None or zone is None:
        return purchase_cohorts_live(session, shop_id, period)
    parts = [rollup.rolled_cohorts(session, shop_id, period.first_day, *rolled)]
    if live is not None:
        counts = rollup.customer_counts(session, shop_id, zone, live.start, live.end,
                                        only_customers_of_range=True)
        parts.append(rollup.cohort_sums(counts, period.first_day))
    sums = rollup.add_sums(parts)

    def cohort(member: bool) -> Cohort:
        """Members' or guests' sums, held-out customers left out."""
        orders = customers = second = 0
        for (group, is_member), (o, first, s) in sums.items():
            if group != CONTROL and is_member == member:
                orders, customers, second = orders + o, customers + first, second + s
        return Cohort(customers, orders, second - customers)

    return cohort(True), cohort(False)


def purchase_cohorts_live(session: Session, shop_id: int, period: Period
                          ) -> tuple[Cohort, Cohort]:
    """purchase_cohorts from the order rows alone.

    Orders are grouped by member id (an integer, whatever emails the orders carried) and then
    joined to their members once each; orders of shoppers never enrolled group by email.
    """
    per_member = (select(Order.member_id, func.count().label("orders"))
                  .where(*_paid_in_period(shop_id, period), Order.member_id.is_not(None))
                  .group_by(Order.member_id).subquery())
    is_member = case((and_(Member.holdout_group == CONTROL,
                           Member.holdout_released_at.is_(None)), 2),
                     (Member.customer_id.is_not(None), 1), else_=0).label("is_member")
    rows = session.execute(
        select(is_member, func.count(), func.sum(per_member.c.orders),
               _count_if(per_member.c.orders >= 2))
        .join_from(per_member, Member, Member.id == per_member.c.member_id)
        .group_by(is_member))
    cohorts = {int(flag): [int(customers), int(orders or 0), int(repeat)]
               for flag, customers, orders, repeat in rows}
    email = func.lower(Order.email)
    per_email = (select(email.label("email"), func.count().label("orders"))
                 .where(*_paid_in_period(shop_id, period), Order.member_id.is_(None),
                        Order.email.is_not(None))
                 .group_by(email).subquery())
    customers, orders, repeat = session.execute(
        select(func.count(), func.coalesce(func.sum(per_email.c.orders), 0),
               _count_if(per_email.c.orders >= 2))).one()
    guests = [a + int(b) for a, b in zip(cohorts.get(0, [0, 0, 0]), (customers, orders, repeat),
                                         strict=True)]
    return Cohort(*cohorts.get(1, [0, 0, 0])), Cohort(*guests)


def referral_funnel(session: Session, shop_id: int, period: Period) -> ReferralFunnel:
    """Shares, referred orders and their outcomes for referrals made in the period."""
    shares = session.execute(
        select(func.count()).select_from(Message)
        .where(Message.shop_id == shop_id, Message.kind == SHARE_MESSAGE_KIND,
               _in_period(Message.created_at, period))).scalar_one()
    referred, rewarded, rejected = session.execute(
        select(func.count(), _count_if(Referral.status == "rewarded"),
               _count_if(Referral.status == "rejected"))
        .where(Referral.shop_id == shop_id, _in_period(Referral.created_at, period))).one()
    referred, rewarded, rejected = int(referred), int(rewarded), int(rejected)
    return ReferralFunnel(int(shares), referred, rewarded, referred - rewarded - rejected,
                          rejected)


def reward_revenue(session: Session, shop_id: int, period: Period) -> RewardRevenue:
    """Order totals of the period, and of the orders among them that used a reward code."""
    return _reward_revenue(session, shop_id, period, _split(session, shop_id, period))


def _reward_revenue(session: Session, shop_id: int, period: Period, split: Split
                    ) -> RewardRevenue:
    rolled, live, _ = split
    found = reward_revenue_live(session, shop_id, live) if live else RewardRevenue(
        0, Decimal(0), 0, Decimal(0))
    if rolled is None:
        return found
    orders, revenue, reward_orders, with_reward = rollup.rolled_order_totals(
        session, shop_id, *rolled)
    return RewardRevenue(found.orders + reward_orders, _money(found.revenue + with_reward),
                         found.total_orders + orders, _money(found.total_revenue + revenue))


def reward_revenue_live(session: Session, shop_id: int, period: Period) -> RewardRevenue:
    """reward_revenue from the order rows alone."""
    total_orders, total = session.execute(
        select(func.count(), func.sum(Order.total_price))
        .where(*_paid_in_period(shop_id, period))).one()
    used = select(Redemption.used_order_id).where(Redemption.shop_id == shop_id,
                                                  Redemption.used_order_id.is_not(None))
    reward_orders, with_reward = session.execute(
        select(func.count(), func.sum(Order.total_price))
        .where(*_paid_in_period(shop_id, period), Order.shopify_order_id.in_(used))).one()
    return RewardRevenue(int(reward_orders), _money(with_reward), int(total_orders),
                         _money(total))


def net_promoter_score(session: Session, shop_id: int, period: Period,
                       comments: int = DETRACTOR_COMMENTS) -> Nps:
    """Promoters, passives and detractors of the period, with the latest detractor comments."""
    promoters, passives, detractors = session.execute(
        select(_count_if(SurveyResponse.score >= 9),
               _count_if(SurveyResponse.score.between(7, 8)),
               _count_if(SurveyResponse.score <= 6))
        .where(SurveyResponse.shop_id == shop_id,
               _in_period(SurveyResponse.created_at, period))).one()
    rows = session.execute(
        select(SurveyResponse.created_at, SurveyResponse.score, SurveyResponse.comment,
               SurveyResponse.member_id, Member.first_name, Member.last_name, Member.email)
        .outerjoin(Member, Member.id == SurveyResponse.member_id)
        .where(SurveyResponse.shop_id == shop_id, SurveyResponse.score <= 6,
               _in_period(SurveyResponse.created_at, period),
               func.length(func.trim(func.coalesce(SurveyResponse.comment, ""))) > 0)
        .order_by(SurveyResponse.created_at.desc(), SurveyResponse.id.desc())
        .limit(comments))
    latest = tuple(
        DetractorComment(at, score, comment.strip(), member_id,
                         " ".join(p for p in (first, last) if p) or email)
        for at, score, comment, member_id, first, last, email in rows)
    return Nps(int(promoters), int(passives), int(detractors), latest)


def shop_dashboard(session: Session, shop: Shop, settings: ProgramSettings,
                   period: Period) -> Dashboard:
    """Every dashboard figure of one shop for one period."""
    members_total, members_new, available, pending = member_figures(session, shop.id, period)
    # Where the roll-up ends, read once for the three figures that use it.
    split = _split(session, shop.id, period)
    flow, days = _daily_points(session, shop.id, period, split)
    members, guests = _purchase_cohorts(session, shop.id, period, split)
    return Dashboard(
        period=period, currency=shop.currency, members_total=members_total,
        members_new=members_new, points=flow,
        liability=liability_of(available, pending, settings, flow.redemption_rate),
        members=members, guests=guests,
        referrals=referral_funnel(session, shop.id, period),
        reward_revenue=_reward_revenue(session, shop.id, period, split),
        nps=net_promoter_score(session, shop.id, period),
        chart=chart_buckets(period, days))
