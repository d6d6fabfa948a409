"""The program-effect page: the holdout's controls, "not enough data" until the groups can
tell, then the comparison with its intervals and the net incremental profit."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.insights.effect import measure_effect
from app.loyalty import holdout
from app.loyalty.program import current_settings
from app.models import LedgerEntry, Member, Shop
from tests.integration.admin.conftest import NOW, OTHER_SHOP, SHOP
from tests.integration.admin.effect_seed import seed_holdout_history


def _figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html)
    assert found, f"no figure {name}"
    return found.group(1).strip()


def test_starting_and_ending_a_holdout_from_the_page(admin):
    page = admin.page("/admin/effect").get_data(as_text=True)
    assert 'data-holdout="off"' in page
    assert admin.fetch("/admin/effect/holdout", {"share": "80"}).status_code == 422
    assert admin.fetch("/admin/effect/holdout", ["share"]).status_code == 400
    assert admin.fetch("/admin/effect/holdout/end", {}).status_code == 409
    started = admin.fetch("/admin/effect/holdout", {"share": "10"})
    assert started.status_code == 200
    assert admin.fetch("/admin/effect/holdout", {"share": "10"}).status_code == 422
    shop = admin.shop()
    assert (shop.holdout_share, shop.holdout_started_at) == (10, NOW)
    page = admin.page("/admin/effect").get_data(as_text=True)
    assert 'data-holdout="running"' in page and _figure(page, "holdout-share") == "10%"
    with admin.db.transaction() as s:
        [control] = [c for c in range(100, 400) if holdout.group_for(
            shop.holdout_key, SHOP, c, 10) == holdout.CONTROL][:1]
        from app.loyalty.members import enrol

        enrol(s, s.get(Shop, admin.shop_id), now=NOW, customer_id=control)
    assert _figure(admin.page("/admin/effect").get_data(as_text=True), "held-out") == "1"
    ended = admin.fetch("/admin/effect/holdout/end", {})
    assert ended.status_code == 200 and ended.get_json()["released"] == 1
    with admin.db.sessions() as s:
        member = s.execute(select(Member).where(Member.customer_id == control)).scalar_one()
        assert (member.holdout_group, member.holdout_released_at) == (holdout.CONTROL, NOW)
    assert 'data-holdout="off"' in admin.page("/admin/effect").get_data(as_text=True)


def test_with_few_customers_the_page_says_how_many_more_it_needs(admin):
    with admin.db.transaction() as s:
        seed_holdout_history(s, s.get(Shop, admin.shop_id), customers=60,
                             assigned_from=NOW - timedelta(days=200), days=30)
    page = admin.page("/admin/effect").get_data(as_text=True)
    more = _figure(page, "not-enough")
    assert more.startswith("Not enough data yet, about ")
    count = int(re.search(r"about ([\d,]+) more", more).group(1).replace(",", ""))
    with admin.db.sessions() as s:
        shop = s.get(Shop, admin.shop_id)
        effect = measure_effect(s, shop, current_settings(s, shop.id),
                                NOW - timedelta(days=365), NOW, NOW)
    assert effect.customers == 60 and count == effect.more_customers_needed > 0
    assert 'data-effect' not in page


def test_with_enough_customers_the_page_shows_the_effect_and_its_interval(admin):
    with admin.db.transaction() as s:
        counts = seed_holdout_history(s, s.get(Shop, admin.shop_id), customers=3000,
                                      assigned_from=NOW - timedelta(days=300), days=150)
        # Another shop's customers are never counted.
        other = s.execute(select(Shop).where(Shop.domain == OTHER_SHOP)).scalar_one()
        seed_holdout_history(s, other, customers=50, assigned_from=NOW - timedelta(days=300),
                             days=10, control_rate=1.0, program_rate=0.0, seed=3)
    # A smallest effect of 8 points from a 20 % rate: about 2,430 customers at a 10 % holdout.
    assert admin.fetch("/admin/settings/effect",
                       {"effect": {"smallest_effect_points": "8",
                                   "gross_margin_percent": "40"}}).status_code == 200
    page = admin.page("/admin/effect", **{"from": (NOW - timedelta(days=300)).date()
                                          .isoformat(), "to": NOW.date().isoformat()})
    html = page.get_data(as_text=True)
    assert "Not enough data" not in html
    assert _figure(html, "program-customers") == f"{counts['program']:,}"
    assert _figure(html, "control-customers") == f"{counts['control']:,}"
    with admin.db.sessions() as s:
        shop = s.get(Shop, admin.shop_id)
        effect = measure_effect(s, shop, current_settings(s, shop.id),
                                NOW - timedelta(days=300), NOW + timedelta(days=1), NOW)
    # True effect +10 points: the interval holds it, and excludes zero.
    d = effect.repeat_difference
    assert d.low < 0.10 < d.high and d.excludes_zero
    assert _figure(html, "repeat-difference") == f"{d.estimate * 100:+.1f} pts"
    # Revenue per customer differs by (repeat difference) x 50.00 exactly.
    assert effect.revenue_difference.interval.estimate == pytest.approx(d.estimate * 50)
    # Each program customer earned 250 per order; some redeemed 500 (5.00 at 0.01).
    program = effect.program
    with admin.db.sessions() as s:
        redemptions = s.execute(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.shop_id == admin.shop_id, LedgerEntry.kind == "redeem")).scalar_one()
    assert effect.cost.points_issued == 250 * program.orders
    assert effect.cost.points_redeemed == 500 * redemptions > 0
    assert effect.cost.redeemed_value == Decimal(5 * redemptions)
    held = effect.cost.points_issued - effect.cost.points_redeemed
    assert effect.cost.held_liability == (Decimal(held) * Decimal("0.01") * Decimal("0.6")
                                          ).quantize(Decimal("0.01"))
    expected_profit = (d.estimate * 50 * program.customers * 0.4 - float(effect.cost.total))
    assert effect.net_profit.estimate == pytest.approx(expected_profit)
    sign = "+" if expected_profit > 0 else "-"
    assert _figure(html, "net-profit").replace(",", "") == f"{sign}${abs(expected_profit):.2f}"


def test_the_analysis_settings_are_validated(admin):
    bad = admin.fetch("/admin/settings/effect", {"effect": {"repeat_days": "3",
                                                            "gross_margin_percent": "120"}})
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"effect.repeat_days", "effect.gross_margin_percent"}
