"""The effect and cohort pages read daily roll-ups, and their figures equal the row-by-row
computation on the same data (tests/integration/insights/row_by_row.py): after a rebuild,
after daily rounds that saw late orders, refunds, cancellations and redactions, for every
follow-up period and window edge, on both shops of the database."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update

from app import create_app
from app.insights.cohorts import SEGMENTS, cohort_tables
from app.insights.effect import measure_effect
from app.insights.rollups import refresh_rollups
from app.insights.stats import Summary
from app.loyalty.holdout import CONTROL, PROGRAM
from app.loyalty.program import current_settings, save_settings
from app.models import (
    CohortCell,
    HoldoutDay,
    HoldoutDayOffset,
    InsightRollup,
    Member,
    Order,
    OrderRefund,
    Shop,
)
from tests.conftest import app_config
from tests.integration.insights.history import (
    PERIODS,
    add_customer,
    add_entry,
    add_order,
    seed_history,
)
from tests.integration.insights.row_by_row import cohorts_by_rows, effect_by_rows
from tests.support.factories import make_shop

NOW = datetime(2026, 11, 1, 13, 0)


def _shops(db, now=NOW, customers=240):
    """Two shops with their own histories (one in New York time, one in Paris)."""
    with db.transaction() as s:
        a = make_shop(s, "rollup-a.myshopify.com", timezone="America/New_York")
        b = make_shop(s, "rollup-b.myshopify.com", timezone="Europe/Paris")
        seed_history(s, a, now=now, customers=customers, seed=1)
        seed_history(s, b, now=now, customers=customers // 2, seed=2)
        return a.id, b.id


def _set_period(s, shop, days):
    save_settings(s, shop.id, {"effect": {"repeat_days": days}}, changed_by=None, now=NOW)


def _windows(now):
    """The page's default window, chosen whole days, and an odd one starting mid-day."""
    year_ago = datetime.combine((now - timedelta(days=365)).date(), time())
    return [(year_ago, now),
            (datetime(2025, 1, 10), datetime(2026, 9, 1)),
            (datetime(2024, 9, 1, 7, 30), now + timedelta(days=3))]


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def assert_equal_to_rows(s, shop, first, end, now, *, rolled_up=True):
    """Every figure of the effect page equals the row-by-row computation."""
    settings = current_settings(s, shop.id)
    days = int(settings.data["effect"]["repeat_days"])
    effect = measure_effect(s, shop, settings, first, end, now, rolled_up=rolled_up)
    ref = effect_by_rows(s, shop, days, first, end, now)
    assert effect.waiting == ref.waiting
    for figures, group in ((effect.control, ref.groups[CONTROL]),
                           (effect.program, ref.groups[PROGRAM])):
        assert (figures.customers, figures.repeaters, figures.orders) == (
            group.customers, group.repeaters, int(sum(group.orders_per_customer)))
        assert _close(figures.revenue, math.fsum(group.revenue_per_customer))
        for mine, values in ((figures.orders_summary, group.orders_per_customer),
                             (figures.revenue_summary, group.revenue_per_customer),
                             (figures.order_value_summary, group.order_values)):
            theirs = Summary.of(values)
            assert mine.n == theirs.n
            assert _close(mine.mean, theirs.mean) and _close(mine.variance, theirs.variance)
    cost = effect.cost
    assert (cost.points_issued, cost.bonus_points, cost.points_redeemed, cost.points_held) == (
        ref.issued, ref.bonus, ref.redeemed, ref.held)
    for mine, theirs in ((effect.revenue_difference, _welch(ref, "revenue_per_customer")),
                         (effect.aov_difference, _welch(ref, "order_values"))):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert _close(mine.interval.low, theirs.interval.low)
            assert _close(mine.interval.high, theirs.interval.high)
    return effect


def _welch(ref, name):
    from app.insights.stats import welch

    program, control = (getattr(ref.groups[g], name) for g in (PROGRAM, CONTROL))
    if len(program) < 2 or len(control) < 2:
        return None
    return welch(Summary.of(program), Summary.of(control))


def _rows(s, shop_id):
    """The shop's roll-up rows, comparable."""
    days = sorted(s.execute(select(HoldoutDay.day, HoldoutDay.holdout_group,
                                   HoldoutDay.customers).where(HoldoutDay.shop_id == shop_id)))
    offsets = sorted(
        (r.day, r.holdout_group, r.offset_days, r.reached_day, r.repeaters, r.orders,
         r.orders_squares, Decimal(r.revenue).quantize(Decimal("0.0001")),
         Decimal(r.revenue_squares).quantize(Decimal("0.0001")),
         Decimal(r.order_value_squares).quantize(Decimal("0.0001")), r.points_issued,
         r.bonus_points, r.points_redeemed, r.points_taken_back, r.points_expired)
        for r in s.execute(select(HoldoutDayOffset).where(
            HoldoutDayOffset.shop_id == shop_id)).scalars())
    return days, offsets


def test_after_a_rebuild_every_period_and_window_equals_the_row_by_row_figures(db):
    a_id, b_id = _shops(db)
    with db.transaction() as s:
        for shop_id in (a_id, b_id):
            done = refresh_rollups(s, s.get(Shop, shop_id), NOW, rebuild=True)
            assert done.holdout_rows > 0 and done.cohort_cells > 0
    for days in PERIODS:
        with db.transaction() as s:
            for shop_id in (a_id, b_id):
                shop = s.get(Shop, shop_id)
                _set_period(s, shop, days)
                compared = [assert_equal_to_rows(s, shop, first, end, NOW).customers
                            for first, end in _windows(NOW)]
                assert sum(compared) > 0
    with db.sessions() as s:
        shop = s.get(Shop, a_id)
        # And a day later, before the next round: the days since are read live.
        assert_equal_to_rows(s, shop, *_windows(NOW)[0][:1], NOW + timedelta(days=1),
                             NOW + timedelta(days=1))


def test_what_happened_since_the_round_is_added_to_its_rows_for_every_period(db):
    """Orders, late orders and entries recorded after the round, for customers whose periods
    reach past it, are in the page's figures before the next round (the rows as of the round,
    corrected customer by customer), equal to the row-by-row figures."""
    a_id, _ = _shops(db, customers=120)
    later = NOW + timedelta(hours=20)
    customers, waiting = {}, {}
    with db.transaction() as s:
        shop = s.get(Shop, a_id)
        for days in (7, 30, 90):
            ends = NOW - timedelta(days=days)
            # x's period ends 2 hours after the round, y's 8 hours and z's 3 hours before it,
            # w's 5 hours after it.
            for name, group, hours, total in (("x", PROGRAM, 2, "30.00"),
                                              ("y", CONTROL, -8, "22.00"),
                                              ("z", PROGRAM, -3, "41.00"),
                                              ("w", PROGRAM, 5, "18.00")):
                member = add_customer(s, shop, group=group, at=ends + timedelta(hours=hours))
                add_order(s, shop, member, member.holdout_assigned_at, total)
                customers[name, days] = member
            add_entry(s, shop, customers["x", days], "earn_order", 30,
                      customers["x", days].holdout_assigned_at)
            # Recorded before the round, waiting for its payment then.
            waiting[days] = add_order(s, shop, customers["w", days], None, "6.00",
                                      status="awaiting_payment",
                                      created_at=NOW - timedelta(hours=1))
        refresh_rollups(s, shop, NOW, rebuild=True)
    with db.transaction() as s:
        shop = s.get(Shop, a_id)
        for days in (7, 30, 90):
            x, y, z = (customers[name, days] for name in "xyz")
            # After the round: x orders inside its period, earns and redeems.
            add_order(s, shop, x, NOW + timedelta(hours=1), "12.50")
            add_entry(s, shop, x, "earn_order", 12, NOW + timedelta(hours=1))
            add_entry(s, shop, x, "redeem", -20, NOW + timedelta(hours=2))
            # An order paid inside y's period whose webhook arrives after the round.
            add_order(s, shop, y, NOW - timedelta(hours=10), "8.00",
                      created_at=NOW + timedelta(hours=3))
            # z's order after the round is outside its period.
            add_order(s, shop, z, NOW + timedelta(minutes=30), "9.00")
            # w's order is paid after the round, inside its period.
            order = s.merge(waiting[days])
            order.status, order.paid_at = "paid", NOW + timedelta(hours=4)
    for days in (7, 30, 90):
        with db.transaction() as s:
            shop = s.get(Shop, a_id)
            _set_period(s, shop, days)
            for first, end in (_windows(later)[0], (_windows(later)[0][0], NOW)):
                assert_equal_to_rows(s, shop, first, end, later)


def test_the_page_reads_the_roll_up_not_every_order(db):
    a_id, _ = _shops(db)
    with db.transaction() as s:
        refresh_rollups(s, s.get(Shop, a_id), NOW, rebuild=True)
    first, end = _windows(NOW)[0]
    with db.transaction() as s:
        shop = s.get(Shop, a_id)
        before = measure_effect(s, shop, current_settings(s, a_id), first, end, NOW)
        # Behind the roll-up's back (no round sees it): every old order doubles.
        s.execute(update(Order).where(Order.shop_id == a_id, Order.paid_at < NOW - timedelta(
            days=120)).values(total_price=Order.total_price * 2))
    with db.sessions() as s:
        shop = s.get(Shop, a_id)
        settings = current_settings(s, a_id)
        rolled = measure_effect(s, shop, settings, first, end, NOW)
        by_rows = measure_effect(s, shop, settings, first, end, NOW, rolled_up=False)
    assert rolled.program.revenue == pytest.approx(before.program.revenue)
    assert by_rows.program.revenue > rolled.program.revenue * 1.5
    with db.transaction() as s:
        refresh_rollups(s, s.get(Shop, a_id), NOW, rebuild=True)
        assert_equal_to_rows(s, s.get(Shop, a_id), first, end, NOW)


def test_daily_rounds_keep_the_roll_up_equal_to_a_rebuild(db):
    """Rounds from 60 days back to NOW while history keeps happening: new customers, orders,
    a late-recorded old order, refunds and cancellations of old orders, a redacted customer,
    ledger entries; after each round the rows equal a rebuild's and the figures the rows'."""
    a_id, b_id = _shops(db, customers=120)
    start = NOW - timedelta(days=60)

    def round_at(at):
        # What the daily round does for the roll-ups (the round itself: the command's test).
        with db.transaction() as s:
            for shop_id in (a_id, b_id):
                refresh_rollups(s, s.get(Shop, shop_id), at)

    round_at(start)
    with db.sessions() as s:
        assert s.get(InsightRollup, a_id).holdout_through == start
    for step in range(3):
        at = start + timedelta(days=20 * (step + 1), hours=step)
        with db.transaction() as s:
            shop = s.get(Shop, a_id)
            old = s.execute(select(Member).where(Member.shop_id == a_id,
                                                 Member.holdout_group.is_not(None))
                            .order_by(Member.id).offset(step * 7).limit(7)).scalars().all()
            new = add_customer(s, shop, group=PROGRAM if step % 2 else CONTROL,
                               at=at - timedelta(days=9))
            add_order(s, shop, new, at - timedelta(days=9), "40.00")
            add_order(s, shop, new, at - timedelta(days=2), "15.25")
            add_entry(s, shop, old[0], "earn_order", 120, at - timedelta(days=1))
            add_order(s, shop, old[1], at - timedelta(days=3), "77.70")
            # Recorded now, paid long ago (a late webhook or an import).
            add_order(s, shop, old[2], old[2].holdout_assigned_at + timedelta(days=2), "19.00",
                      created_at=at - timedelta(hours=1))
            paid = s.execute(select(Order).where(
                Order.member_id.in_([m.id for m in old[3:6]]), Order.status == "paid",
                Order.paid_at < at - timedelta(days=40))).scalars().all()
            if paid:
                paid[0].refunded_amount += Decimal("3.00")
                s.add(OrderRefund(shop_id=a_id, shopify_refund_id=10**9 + step,
                                  shopify_order_id=paid[0].shopify_order_id,
                                  created_at=at - timedelta(hours=2)))
                paid[-1].status, paid[-1].cancelled_at = "cancelled", at - timedelta(hours=3)
            if step == 1:
                s.execute(delete(Member).where(Member.id == old[6].id))
        round_at(at)
        with db.transaction() as s:
            shop = s.get(Shop, a_id)
            kept = _rows(s, a_id)
            for first, end in _windows(at)[::2]:
                assert_equal_to_rows(s, shop, first, end, at)
            refresh_rollups(s, shop, at, rebuild=True)
            assert _rows(s, a_id) == kept
    with db.sessions() as s:
        # The other shop's rows moved with its own rounds only.
        assert_equal_to_rows(s, s.get(Shop, b_id), *_windows(NOW)[0], NOW)


def test_the_daily_round_keeps_the_roll_ups_and_a_command_rebuilds_them(db):
    a_id, _ = _shops(db, customers=30)
    runner = create_app(app_config(db)).test_cli_runner()
    result = runner.invoke(args=["daily-round", "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    with db.transaction() as s:
        assert s.get(InsightRollup, a_id).holdout_through == NOW
        kept = _rows(s, a_id)
        assert kept[0] and kept[1]
        s.execute(delete(HoldoutDayOffset).where(HoldoutDayOffset.shop_id == a_id))
    result = runner.invoke(args=["rebuild-insights", "--now", NOW.isoformat(), "--shop",
                                 "rollup-a.myshopify.com"])
    assert result.exit_code == 0, result.output
    assert "rollup-a.myshopify.com:" in result.output and "for 1 shop(s)" in result.output
    with db.sessions() as s:
        assert _rows(s, a_id) == kept


def _assert_cohorts_equal(s, shop, now, *, rolled_up=True):
    tables = cohort_tables(s, shop, now, rolled_up=rolled_up)
    for segment in SEGMENTS:
        mine = [(c.month, c.customers, c.rates) for c in tables[segment]]
        assert mine == cohorts_by_rows(s, shop, segment, now), segment
    return tables


def test_cohorts_from_the_roll_up_and_the_orders_since_equal_the_row_by_row_tables(db):
    a_id, b_id = _shops(db)
    round_at = NOW - timedelta(days=3)
    with db.transaction() as s:
        for shop_id in (a_id, b_id):
            refresh_rollups(s, s.get(Shop, shop_id), round_at)
    with db.transaction() as s:
        shop = s.get(Shop, a_id)
        # Since the round: a new customer, a guest's second order, a held-out customer's.
        first_timer = add_customer(s, shop, group=None, at=NOW - timedelta(days=1))
        add_order(s, shop, first_timer, NOW - timedelta(days=1), "30.00")
        guest = s.execute(select(Member).where(Member.shop_id == a_id,
                                               Member.customer_id.is_(None))).scalars().first()
        add_order(s, shop, guest, NOW - timedelta(hours=5), "10.00")
        held = s.execute(select(Member).where(Member.shop_id == a_id,
                                              Member.holdout_group == CONTROL)
                         .order_by(Member.holdout_assigned_at.desc())).scalars().first()
        add_order(s, shop, held, NOW - timedelta(hours=2), "11.00")
    with db.sessions() as s:
        tables = _assert_cohorts_equal(s, s.get(Shop, a_id), NOW)
        assert sum(c.customers for c in tables["members"]) > 0
        _assert_cohorts_equal(s, s.get(Shop, b_id), NOW)
        # Into the next month with no round yet, and at the round itself.
        _assert_cohorts_equal(s, s.get(Shop, a_id), NOW + timedelta(days=35))
        _assert_cohorts_equal(s, s.get(Shop, a_id), round_at)
    with db.transaction() as s:
        # A timezone change: the cells are in the old one, so everything is read again.
        s.get(Shop, a_id).timezone = "Asia/Tokyo"
    with db.sessions() as s:
        _assert_cohorts_equal(s, s.get(Shop, a_id), NOW)
        assert s.scalar(select(CohortCell.customers).where(CohortCell.shop_id == a_id))
