"""The dashboard's figures, each computed by SQL over a month whose answers are counted by hand."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from app.loyalty.analytics import (
    chart_buckets,
    period_between,
    period_ending,
    shop_dashboard,
)
from app.loyalty.program import current_settings
from app.models import Shop
from tests.integration.admin.conftest import NOW, AdminSession
from tests.integration.admin.dashboard_seed import Known, seed_known_month


@pytest.fixture
def known(admin: AdminSession) -> Known:
    """The seeded month and its expected figures."""
    with admin.db.transaction() as session:
        return seed_known_month(session, session.get(Shop, admin.shop_id))


def _dashboard(admin: AdminSession, first: date = date(2026, 10, 3),
               last: date = date(2026, 11, 1)):  # noqa: ANN202 - Dashboard
    """The dashboard of the seeded shop for the given days."""
    with admin.db.sessions() as session:
        shop = session.get(Shop, admin.shop_id)
        return shop_dashboard(session, shop, current_settings(session, shop.id),
                              period_between(first, last, shop.timezone))


def test_members_and_points_of_the_period(admin: AdminSession, known: Known) -> None:
    d = _dashboard(admin)
    assert (d.members_total, d.members_new) == (known.members_total, known.members_new)
    assert (d.points.issued, d.points.reversed, d.points.redeemed, d.points.expired) == (
        known.issued, known.reversed, known.redeemed, known.expired)
    assert d.points.redemption_rate == Decimal(500) / Decimal(2650)


def test_outstanding_liability_in_shop_currency(admin: AdminSession, known: Known) -> None:
    liability = _dashboard(admin).liability
    assert (liability.outstanding, liability.value, liability.expected_value) == (
        known.outstanding, known.liability, known.expected_liability)


def test_repeat_purchases_and_orders_per_customer_of_members_and_guests(
        admin: AdminSession, known: Known) -> None:
    d = _dashboard(admin)
    assert (d.members.customers, d.members.orders, d.members.repeat_customers) == (
        known.member_customers, known.member_orders, known.member_repeaters)
    assert (d.guests.customers, d.guests.orders, d.guests.repeat_customers) == (
        known.guest_customers, known.guest_orders, known.guest_repeaters)
    assert (d.members.repeat_rate, d.members.orders_per_customer) == (
        Decimal("0.5"), Decimal("1.5"))
    assert d.guests.repeat_rate == Decimal(2) / Decimal(3)


def test_referral_funnel(admin: AdminSession, known: Known) -> None:
    funnel = _dashboard(admin).referrals
    assert (funnel.shares, funnel.referred_orders, funnel.rewarded, funnel.waiting,
            funnel.rejected) == (known.shares, known.referred, known.rewarded, known.waiting,
                                 known.rejected)
    assert funnel.conversion == Decimal("0.5")


def test_revenue_from_orders_that_used_a_reward(admin: AdminSession, known: Known) -> None:
    revenue = _dashboard(admin).reward_revenue
    assert (revenue.orders, revenue.revenue, revenue.total_orders, revenue.total_revenue) == (
        known.reward_orders, known.reward_revenue, known.total_orders, known.total_revenue)


def test_net_promoter_score_and_the_latest_detractor_comments(
        admin: AdminSession, known: Known) -> None:
    nps = _dashboard(admin).nps
    assert (nps.promoters, nps.passives, nps.detractors, nps.score) == (
        known.promoters, known.passives, known.detractors, known.nps)
    assert tuple(c.comment for c in nps.comments) == known.comments
    assert nps.comments[0].who == "Cat"


def test_the_chart_has_every_day_and_each_days_points(admin: AdminSession,
                                                      known: Known) -> None:
    chart = _dashboard(admin).chart
    by_day = {bar.first_day: (bar.issued, bar.redeemed, bar.expired) for bar in chart}
    assert len(chart) == 30
    assert by_day[date(2026, 10, 5)] == (500, 0, 0)
    assert by_day[date(2026, 10, 15)] == (250, 500, 0)
    assert by_day[date(2026, 10, 30)] == (0, 0, 150)
    assert by_day[date(2026, 10, 31)] == (0, 0, 0)
    assert sum(bar.issued for bar in chart) == known.issued


def test_a_period_outside_the_activity_is_all_zeros(admin: AdminSession, known: Known) -> None:
    d = _dashboard(admin, date(2026, 6, 1), date(2026, 6, 30))
    assert (d.members_total, d.points.issued, d.members.customers, d.nps.score,
            d.points.redemption_rate, d.referrals.conversion) == (0, 0, 0, None, None, None)
    assert d.liability.outstanding == known.outstanding


def test_the_dashboard_page_shows_each_figure(admin: AdminSession, known: Known) -> None:
    page = admin.page("/admin/dashboard", days="30").get_data(as_text=True)

    def figure(name: str) -> str:
        """The text of the element marked data-figure=name."""
        return re.search(rf'data-figure="{name}">([^<]*)<', page).group(1).strip()

    assert [figure(n) for n in ("members", "members-new", "issued", "reversed", "redeemed",
                                "redemption-rate", "expired", "liability", "outstanding",
                                "expected-liability")] == [
        "4", "+3", "2,650", "150", "500", "18.9%", "150", "$21.00", "2,100", "$3.96"]
    assert [figure(n) for n in ("members-repeat-rate", "members-orders-per-customer",
                                "guests-repeat-rate", "guests-orders-per-customer")] == [
        "50.0%", "1.50", "66.7%", "1.67"]
    assert [figure(n) for n in ("referral-conversion", "reward-revenue", "reward-orders",
                                "nps", "promoters", "passives", "detractors")] == [
        "50.0%", "$50.00", "1", "11", "4", "2", "3"]
    assert "“Wrong size, twice”" in page and page.count("<svg class=\"chart\"") == 4


def test_the_period_comes_from_the_query_and_falls_back_to_30_days(
        admin: AdminSession, known: Known) -> None:
    custom = admin.page("/admin/dashboard", **{"from": "2026-10-05", "to": "2026-10-05"})
    nonsense = admin.page("/admin/dashboard", days="10000")
    assert 'data-figure="issued">500<' in custom.get_data(as_text=True)
    assert 'data-figure="issued">2,650<' in nonsense.get_data(as_text=True)


def test_days_are_the_shops_days() -> None:
    period = period_between(date(2026, 10, 3), date(2026, 11, 1), "America/New_York")
    # Local midnight in EDT is 04:00 UTC; the period ends at midnight EST after Nov 1.
    assert (period.start, period.end) == (datetime(2026, 10, 3, 4), datetime(2026, 11, 2, 5))
    assert (period.days, period.utc_offset_minutes) == (30, -300)


def test_the_last_n_days_end_today_in_the_shops_timezone() -> None:
    late_evening_in_tokyo = datetime(2026, 11, 1, 16, 0)
    period = period_ending(late_evening_in_tokyo, 7, "Asia/Tokyo")
    assert (period.first_day, period.last_day) == (date(2026, 10, 27), date(2026, 11, 2))
    assert period_ending(NOW, 7, "Not/AZone").last_day == date(2026, 11, 1)


def test_long_periods_are_charted_by_week_then_by_month() -> None:
    quarter = period_between(date(2026, 8, 3), date(2026, 11, 1), "UTC")
    year = period_between(date(2025, 11, 2), date(2026, 11, 1), "UTC")
    weeks, months = chart_buckets(quarter, {}), chart_buckets(year, {})
    assert (len(weeks), weeks[0].first_day, weeks[0].last_day) == (
        13, date(2026, 8, 3), date(2026, 8, 9))
    assert (len(months), months[0].first_day, months[-1].first_day) == (
        13, date(2025, 11, 2), date(2026, 11, 1))
    assert sum((bar.last_day - bar.first_day).days + 1 for bar in months) == 365
    assert timedelta(days=0) == months[-1].last_day - months[-1].first_day
