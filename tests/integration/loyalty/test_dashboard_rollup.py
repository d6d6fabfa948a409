"""The dashboard's daily roll-up gives the very figures the rows give.

Each test seeds shops with orders, ledger entries and members spread over two months, around
local midnights, across a daylight-saving change, with guests, held-out and released members,
test and cancelled orders and reward codes; then computes every rolled-up figure both ways
(app/loyalty/analytics.py reading the roll-up, and its `*_live` twin reading the rows).
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from app.db import Database
from app.loyalty import analytics, holdout, rollup
from app.loyalty.members import enrol
from app.models import (
    DashboardDay,
    DashboardDayCustomers,
    LedgerEntry,
    Member,
    Order,
    Redemption,
    Shop,
)
from tests.conftest import app_config
from tests.support.factories import make_shop

NOW = datetime(2026, 11, 20, 15, 0)
HISTORY_DAYS = 60
KINDS = ("earn_order", "bonus_signup", "refund_reversal", "cancel_reversal", "redeem",
         "redeem_refund", "expire", "adjust", "adjust", "import", "referral_referee")


def run(db: Database, *args: str):  # noqa: ANN201 - click Result
    """A flask command as cron runs it, on the test database."""
    return create_app(app_config(db)).test_cli_runner().invoke(args=list(args))


def _moment(rng: random.Random) -> datetime:
    """A time within the history, often a few minutes either side of a midnight somewhere."""
    day = NOW - timedelta(days=rng.randint(0, HISTORY_DAYS))
    midnight = day.replace(hour=rng.choice((0, 4, 5, 18, 19)), minute=0, second=0)
    if rng.random() < 0.5:
        return midnight + timedelta(minutes=rng.choice((-31, -29, -1, 0, 1, 29, 31)))
    return day.replace(hour=rng.randint(0, 23), minute=rng.randint(0, 59))


def seed(session: Session, timezone: str, seed_value: int, domain: str) -> Shop:
    """A shop with two months of mixed activity (NOW is after its last row)."""
    rng = random.Random(seed_value)
    shop = make_shop(session, domain=domain, timezone=timezone)
    members = []
    for n in range(24):
        group = rng.choice((None, None, "program", "control", "control"))
        member = Member(
            shop_id=shop.id, customer_id=None if n % 5 == 0 else 9000 + n,
            email=f"m{n}@example.com", referral_code=f"R{seed_value}-{n}",
            created_at=_moment(rng), holdout_group=group,
            holdout_assigned_at=NOW - timedelta(days=70) if group else None,
            holdout_released_at=NOW - timedelta(days=5) if group == "control" and n % 3 == 0
            else None)
        session.add(member)
        members.append(member)
    session.flush()
    for n in range(220):
        member = rng.choice(members) if rng.random() < 0.6 else None
        paid = _moment(rng) if rng.random() < 0.95 else None
        email = (member.email if member else rng.choice(
            ("Guest1@example.com", "guest1@EXAMPLE.com", "g2@example.com", "g3@example.com",
             None)))
        order = Order(
            shop_id=shop.id, shopify_order_id=seed_value * 10_000 + n,
            member_id=member.id if member else None, email=email,
            total_price=Decimal(rng.randint(500, 20_000)) / 100,
            status=rng.choice(("paid",) * 8 + ("cancelled",)), test=rng.random() < 0.05,
            paid_at=paid, created_at=paid or NOW)
        session.add(order)
        if member and rng.random() < 0.2:
            session.add(Redemption(shop_id=shop.id, member_id=member.id, points=100,
                                   code=f"LOYAL-{seed_value}-{n}", status="used",
                                   used_order_id=order.shopify_order_id, created_at=NOW,
                                   updated_at=NOW))
    for n in range(400):
        member = rng.choice(members)
        kind = rng.choice(KINDS)
        points = rng.randint(1, 500) * (1 if kind in ("earn_order", "bonus_signup",
                                                      "referral_referee", "import") else -1)
        if kind == "adjust" and rng.random() < 0.5:
            points = -points
        at = _moment(rng)
        session.add(LedgerEntry(shop_id=shop.id, member_id=member.id, points=points, kind=kind,
                                source_key=f"s:{n}", available_at=at, created_at=at))
    session.flush()
    return shop


def periods(timezone: str) -> list[analytics.Period]:
    """Periods ending today (with a live part), closed ones, one day, empty ones."""
    today = NOW.date()
    return [analytics.period_ending(NOW, days, timezone) for days in (1, 7, 30, 90, 365)] + [
        analytics.period_between(today - timedelta(days=first), today - timedelta(days=last),
                                 timezone)
        for first, last in ((40, 10), (20, 20), (1, 1), (59, 2), (61, 30), (200, 150))]


def both_ways(session: Session, shop: Shop, period: analytics.Period) -> tuple[tuple, tuple]:
    """(rolled-up, live) figures of a period: points (totals and days), cohorts, revenue."""
    flow, days = analytics.daily_points(session, shop.id, period)
    live_flow, live_days = analytics.daily_points_live(session, shop.id, period)
    return ((flow, analytics.purchase_cohorts(session, shop.id, period),
             analytics.reward_revenue(session, shop.id, period)),
            (live_flow, analytics.purchase_cohorts_live(session, shop.id, period),
             analytics.reward_revenue_live(session, shop.id, period)))


def assert_same_figures(session: Session, shop: Shop) -> None:
    """Every period's rolled-up figures are the live ones."""
    for period in periods(shop.timezone):
        rolled, live = both_ways(session, shop, period)
        assert rolled == live, (shop.timezone, period)
        if shop.timezone in ("UTC", "Asia/Kolkata"):
            # Without a daylight-saving change the live chart's days are the real days too.
            assert (analytics.chart_buckets(period,
                                            analytics.daily_points(session, shop.id, period)[1])
                    == analytics.chart_buckets(
                        period, analytics.daily_points_live(session, shop.id, period)[1]))


def test_every_rolled_up_figure_is_the_live_one(db: Database) -> None:
    with db.transaction() as s:
        shops = [seed(s, tz, n, f"r{n}.myshopify.com") for n, tz in
                 enumerate(("UTC", "Asia/Kolkata", "America/New_York"), start=1)]
        for shop in shops:
            assert rollup.refresh(s, shop, NOW) > 0
            # Built through yesterday, so each period ending today has a live part.
            through, _ = rollup.closed_through(s, shop.id)
            assert through == rollup.local_day_at(NOW, rollup.zone_of(shop.timezone)) - \
                timedelta(days=1)
        for shop in shops:
            assert_same_figures(s, shop)


def test_rebuilding_is_idempotent_and_shops_do_not_mix(db: Database) -> None:
    with db.transaction() as s:
        one = seed(s, "Asia/Kolkata", 7, "one.myshopify.com")
        rollup.refresh(s, one, NOW)
        before = _stored(s, one.id)
        other = seed(s, "Asia/Kolkata", 8, "other.myshopify.com")
        rollup.refresh(s, other, NOW)
        rollup.refresh(s, one, NOW)
        rollup.refresh(s, one, NOW, full=True)
        assert _stored(s, one.id) == before
        assert _stored(s, other.id) != before
        assert_same_figures(s, one)
        assert_same_figures(s, other)


def _stored(session: Session, shop_id: int) -> tuple[list, list]:
    """The shop's stored roll-up rows, without the shop id."""
    days = session.execute(select(DashboardDay).where(DashboardDay.shop_id == shop_id)
                           .order_by(DashboardDay.day)).scalars()
    customers = session.execute(
        select(DashboardDayCustomers).where(DashboardDayCustomers.shop_id == shop_id)
        .order_by(DashboardDayCustomers.day, DashboardDayCustomers.holdout_group,
                  DashboardDayCustomers.member, DashboardDayCustomers.earlier_day)).scalars()
    return ([(d.day, d.points_issued, d.points_reversed, d.points_redeemed, d.points_expired,
              d.orders, Decimal(d.revenue), d.reward_orders, Decimal(d.reward_revenue))
             for d in days],
            [(c.day, c.holdout_group, c.member, c.earlier_day, c.after_one, c.after_two)
             for c in customers])


def test_late_rows_land_on_their_day_at_the_next_round(db: Database) -> None:
    with db.transaction() as s:
        shop = seed(s, "America/New_York", 3, "late.myshopify.com")
        rollup.refresh(s, shop, NOW)
        member = s.execute(select(Member).where(Member.shop_id == shop.id,
                                                Member.customer_id.is_not(None),
                                                Member.holdout_group.is_(None))).scalars().first()
        two_days_ago = NOW - timedelta(days=2)
        # A late webhook: an order paid two days ago, and a refund of it recorded today.
        s.add(Order(shop_id=shop.id, shopify_order_id=1, member_id=member.id,
                    email=member.email, total_price=Decimal("80.00"), status="paid",
                    paid_at=two_days_ago, created_at=NOW))
        s.add(LedgerEntry(shop_id=shop.id, member_id=member.id, points=-40,
                          kind="refund_reversal", source_key="late-refund", available_at=NOW,
                          created_at=NOW - timedelta(minutes=5)))
        s.flush()
        rollup.refresh(s, shop, NOW + timedelta(days=1))
        assert_same_figures(s, shop)


def test_a_change_reaching_back_is_read_live_until_rebuilt(db: Database) -> None:
    with db.transaction() as s:
        shop = seed(s, "UTC", 4, "stale.myshopify.com")
        rollup.refresh(s, shop, NOW)
        # A month-old order is cancelled; the guest whose orders these are signs up.
        old = s.execute(select(Order).where(
            Order.shop_id == shop.id, Order.status == "paid", Order.test.is_(False),
            Order.paid_at < NOW - timedelta(days=30))).scalars().first()
        old.status = "cancelled"
        rollup.mark_stale(s, shop.id, old.paid_at)
        guest = s.execute(select(Member).where(Member.shop_id == shop.id,
                                               Member.customer_id.is_(None))).scalars().first()
        enrol(s, shop, now=NOW, customer_id=777, email=guest.email)
        s.flush()
        assert_same_figures(s, shop)
        rollup.refresh(s, shop, NOW)
        assert rollup.closed_through(s, shop.id)[0] == NOW.date() - timedelta(days=1)
        assert_same_figures(s, shop)


def test_ending_the_holdout_counts_the_released_as_members(db: Database) -> None:
    with db.transaction() as s:
        shop = seed(s, "UTC", 5, "holdout.myshopify.com")
        holdout.start(shop, 10, NOW - timedelta(days=70))
        rollup.refresh(s, shop, NOW)
        s.flush()
        period = analytics.period_ending(NOW, 90, shop.timezone)
        held_before = analytics.purchase_cohorts(s, shop.id, period)[0]
        assert holdout.end(s, shop, NOW + timedelta(minutes=1))
        s.flush()
        members_after = analytics.purchase_cohorts(s, shop.id, period)[0]
        assert members_after.customers > held_before.customers
        assert_same_figures(s, shop)
        rollup.refresh(s, shop, NOW + timedelta(hours=1))
        assert_same_figures(s, shop)


def test_held_out_customers_are_neither_members_nor_guests(db: Database) -> None:
    day = datetime(2026, 11, 10, 12)
    with db.transaction() as s:
        shop = make_shop(s, domain="held.myshopify.com", timezone="UTC")
        people = {}
        for name, customer, group, released in (
                ("in", 1, None, None), ("held", 2, "control", None),
                ("released", 3, "control", day), ("program", 4, "program", None)):
            people[name] = Member(shop_id=shop.id, customer_id=customer,
                                  email=f"{name}@example.com", referral_code=name,
                                  created_at=day, holdout_group=group,
                                  holdout_assigned_at=day if group else None,
                                  holdout_released_at=released)
            s.add(people[name])
        s.flush()
        for n, (name, hours) in enumerate((("in", 0), ("held", 0), ("held", 1),
                                           ("released", 0), ("program", 0))):
            s.add(Order(shop_id=shop.id, shopify_order_id=n + 1, member_id=people[name].id,
                        email=f"{name}@example.com", total_price=Decimal(10), status="paid",
                        paid_at=day + timedelta(hours=hours)))
        s.add(Order(shop_id=shop.id, shopify_order_id=99, email="guest@example.com",
                    total_price=Decimal(10), status="paid", paid_at=day))
        s.flush()
        period = analytics.period_between(date(2026, 11, 1), date(2026, 11, 20), "UTC")
        expected = (analytics.Cohort(3, 3, 0), analytics.Cohort(1, 1, 0))
        assert analytics.purchase_cohorts_live(s, shop.id, period) == expected
        assert analytics.member_figures(s, shop.id, period)[:2] == (3, 3)
        rollup.refresh(s, shop, NOW)
        assert rollup.closed_through(s, shop.id) is not None
        assert analytics.purchase_cohorts(s, shop.id, period) == expected
        # Revenue still counts every paid order: held-out customers' sales are sales.
        assert analytics.reward_revenue(s, shop.id, period).total_orders == 6


def test_a_shop_without_a_roll_up_gets_live_figures(db: Database) -> None:
    with db.transaction() as s:
        shop = seed(s, "Asia/Kolkata", 6, "fresh.myshopify.com")
        assert rollup.closed_through(s, shop.id) is None
        assert_same_figures(s, shop)
        rollup.refresh(s, shop, NOW)
        shop.timezone = "Europe/Paris"
        s.flush()
        # Days of another timezone are not this shop's days any more: live until rebuilt.
        assert rollup.closed_through(s, shop.id) is None
        assert_same_figures(s, shop)
        rollup.refresh(s, shop, NOW)
        assert rollup.closed_through(s, shop.id) is not None
        assert_same_figures(s, shop)


def test_days_are_the_shops_real_days_across_daylight_saving(db: Database) -> None:
    with db.transaction() as s:
        shop = make_shop(s, domain="dst.myshopify.com", timezone="America/New_York")
        member = Member(shop_id=shop.id, customer_id=1, email="a@example.com",
                        referral_code="A", created_at=datetime(2026, 10, 1))
        s.add(member)
        s.flush()
        # 00:30 EDT on Sunday Nov 1 (clocks go back at 02:00 EDT, 06:00 UTC).
        for n, at in enumerate((datetime(2026, 11, 1, 4, 30), datetime(2026, 11, 2, 4, 30))):
            s.add(LedgerEntry(shop_id=shop.id, member_id=member.id, points=100 + n,
                              kind="earn_order", source_key=f"e{n}", available_at=at,
                              created_at=at))
        s.flush()
        rollup.refresh(s, shop, NOW)
        period = analytics.period_between(date(2026, 10, 25), date(2026, 11, 7),
                                          shop.timezone)
        flow, days = analytics.daily_points(s, shop.id, period)
        assert flow.issued == 201
        # Both are on the shop's Nov 1 (23:30 EST is still Nov 1); the rows alone put the
        # first on Oct 31, read with the period's closing offset (EST) to keep one query.
        assert {d: b.issued for d, b in days.items()} == {date(2026, 11, 1): 201}
        live = analytics.daily_points_live(s, shop.id, period)[1]
        assert {d: b.issued for d, b in live.items()} == {date(2026, 10, 31): 100,
                                                          date(2026, 11, 1): 101}


def test_the_daily_round_and_the_rebuild_command_build_the_roll_up(db: Database) -> None:
    with db.transaction() as s:
        shop = seed(s, "Asia/Kolkata", 9, "cli.myshopify.com")
        other = make_shop(s, domain="quiet.myshopify.com", timezone="UTC")
        shop_id, other_id = shop.id, other.id
    result = run(db, "daily-round", "--now", NOW.isoformat())
    assert result.exit_code == 0, result.output
    assert "cli.myshopify.com: unlocked" in result.output
    days = int(re.search(r"cli.myshopify.com: .*dashboard days (\d+)", result.output)[1])
    # Every local day from the first row's to yesterday's.
    assert days == (date(2026, 11, 19) - date(2026, 9, 21)).days + 1
    with db.sessions() as s:
        assert rollup.closed_through(s, shop_id)[0] == date(2026, 11, 19)
        built = _stored(s, shop_id)
        assert_same_figures(s, s.get(Shop, shop_id))
    result = run(db, "rebuild-rollups", "--shop", "cli.myshopify.com", "--now",
                 NOW.isoformat())
    assert result.exit_code == 0, result.output
    assert f"cli.myshopify.com: {days} day(s) rolled up" in result.output
    assert "quiet" not in result.output
    with db.sessions() as s:
        assert _stored(s, shop_id) == built
        # The quiet shop's roll-up is its one closed day with nothing in it.
        assert _stored(s, other_id) == ([], [])
    unknown = run(db, "rebuild-rollups", "--shop", "nobody.myshopify.com")
    assert unknown.exit_code == 1 and "no installed shop" in unknown.output


def test_todays_customers_who_bought_earlier_in_the_period_are_counted_once(
        db: Database) -> None:
    first = datetime(2026, 11, 14, 9)
    with db.transaction() as s:
        shop = make_shop(s, domain="today.myshopify.com", timezone="UTC")
        ada = Member(shop_id=shop.id, customer_id=1, email="ada@example.com",
                     referral_code="ADA", created_at=first)
        s.add(ada)
        s.flush()
        orders = [(ada.id, "ada@example.com", first), (ada.id, "ada@example.com", NOW),
                  (None, "Bo@Example.com", first), (None, "bo@example.com", NOW),
                  (None, "bo@example.com", NOW), (None, "cy@example.com", first - timedelta(1)),
                  (None, "cy@example.com", NOW)]
        for n, (member_id, email, at) in enumerate(orders):
            s.add(Order(shop_id=shop.id, shopify_order_id=n + 1, member_id=member_id,
                        email=email, total_price=Decimal(5), status="paid", paid_at=at))
        s.flush()
        rollup.refresh(s, shop, NOW)
        week = analytics.period_ending(NOW, 7, "UTC")
        assert week.first_day == first.date()
        # Ada and Bo bought on the week's first day and again today; Cy's first order was
        # the day before the week.
        expected = (analytics.Cohort(1, 2, 1), analytics.Cohort(2, 4, 1))
        assert analytics.purchase_cohorts_live(s, shop.id, week) == expected
        assert analytics.purchase_cohorts(s, shop.id, week) == expected
