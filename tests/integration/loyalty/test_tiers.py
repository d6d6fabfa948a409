"""VIP tiers: immediate upgrades, downgrades only after retention, editable after launch."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.loyalty.earning import record_paid_order
from app.loyalty.orders import parse_order, parse_refund
from app.loyalty.program import current_settings, save_settings
from app.loyalty.reversals import reverse_refund
from app.loyalty.tiers import (
    evaluate_tier,
    reevaluate_shop_tiers,
    rolling_spend,
    tier_progress,
)
from app.models import TierChange
from tests.support.factories import T0, make_member, make_shop
from tests.support.order_payloads import line, paid_order, refund

CUSTOMER_ID = 77


def pay(s, shop, order_id, amount, now):
    """orders/paid of one line of `amount` for CUSTOMER_ID."""
    settings = current_settings(s, shop.id)
    payload = paid_order(order_id, customer_id=CUSTOMER_ID, updated_at=now,
                         lines=[line(amount)])
    return record_paid_order(s, shop, parse_order(payload, settings), settings, now)


def history(s, member):
    """The member's tier changes, oldest first."""
    return [(c.from_tier, c.to_tier, c.reason) for c in s.execute(
        select(TierChange).where(TierChange.member_id == member.id).order_by(TierChange.id)
    ).scalars()]


def test_crossing_a_threshold_upgrades_at_once(db):
    with db.transaction() as s:
        shop = make_shop(s)
        first = pay(s, shop, 1, "100.00", T0)
        member = first.member
        assert member.tier == "Bronze"
        pay(s, shop, 2, "200.00", T0 + timedelta(days=3))
        assert (member.tier, member.tier_since) == ("Silver", T0 + timedelta(days=3))
        pay(s, shop, 3, "500.00", T0 + timedelta(days=4))
        assert member.tier == "Gold"
        assert history(s, member) == [(None, "Bronze", "order_paid"),
                                      ("Bronze", "Silver", "order_paid"),
                                      ("Silver", "Gold", "order_paid")]


def test_spend_counts_the_last_365_days_net_of_refunds_and_never_cancelled_orders(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = pay(s, shop, 1, "100.00", T0).member
        pay(s, shop, 2, "250.00", T0 + timedelta(days=100))
        settings = current_settings(s, shop.id)
        reverse_refund(s, shop, parse_refund(refund(9, 2, subtotals=["50.00"]), settings),
                       settings, T0 + timedelta(days=101))
        assert rolling_spend(s, member, settings, T0 + timedelta(days=200)) == Decimal("300.00")
        assert rolling_spend(s, member, settings, T0 + timedelta(days=365)) == Decimal("200.00")


def test_a_downgrade_waits_until_the_tier_has_been_held_for_the_retention_period(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = pay(s, shop, 1, "400.00", T0).member
        assert member.tier == "Silver"
        settings = current_settings(s, shop.id)
        refunded = reverse_refund(s, shop, parse_refund(refund(9, 1, subtotals=["200.00"]),
                                                        settings), settings,
                                  T0 + timedelta(days=10))
        # Spend is now 200, below Silver's 300, but Silver was held for only 10 days.
        assert refunded.tier_change is None
        just_before = T0 + timedelta(days=364, hours=23)
        assert rolling_spend(s, member, settings, just_before) == Decimal("200.00")
        assert evaluate_tier(s, member, settings, just_before, "daily") is None
        assert member.tier == "Silver"
        change = evaluate_tier(s, member, settings, T0 + timedelta(days=365), "daily")
        assert (change.from_tier, change.to_tier, change.reason) == ("Silver", "Bronze", "daily")
        assert (member.tier, member.tier_since) == ("Bronze", T0 + timedelta(days=365))


def test_a_member_still_qualifying_is_never_downgraded(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = pay(s, shop, 1, "400.00", T0).member
        pay(s, shop, 2, "350.00", T0 + timedelta(days=300))
        settings = current_settings(s, shop.id)
        assert evaluate_tier(s, member, settings, T0 + timedelta(days=400), "daily") is None
        assert member.tier == "Silver"


def test_tiers_can_be_measured_on_lifetime_points(db):
    with db.transaction() as s:
        shop = make_shop(s)
        save_settings(s, shop.id, {"tiers": {"basis": "lifetime_points", "levels": [
            {"name": "Member", "threshold": "0", "multiplier": "1"},
            {"name": "Insider", "threshold": "1000", "multiplier": "2"}]}},
            changed_by="staff", now=T0)
        first = pay(s, shop, 1, "150.00", T0)
        assert (first.points, first.member.tier) == (750, "Member")
        second = pay(s, shop, 2, "50.00", T0 + timedelta(days=1))
        assert second.member.tier == "Insider"
        progress = tier_progress(second.member, current_settings(s, shop.id),
                                 Decimal(second.member.points_lifetime))
        assert progress.as_contract() == {"name": "Insider", "next": None, "progress": 1.0,
                                          "spend_to_next": None}


def test_the_widget_sees_the_tier_progress_of_design_section_4(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        member.tier = "Silver"
        settings = current_settings(s, shop.id)
        progress = tier_progress(member, settings, Decimal("510.00"))
        assert progress.as_contract() == {"name": "Silver", "next": "Gold", "progress": 0.42,
                                          "spend_to_next": "290.00"}
        member.tier = "Bronze"
        assert tier_progress(member, settings, Decimal("299.99")).as_contract() == {
            "name": "Bronze", "next": "Silver", "progress": 0.99, "spend_to_next": "0.01"}


def test_a_member_kept_in_a_tier_by_retention_shows_no_progress_below_its_threshold(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        member.tier = "Gold"
        settings = current_settings(s, shop.id)
        progress = tier_progress(member, settings, Decimal("100.00"))
        assert (progress.name, progress.next, progress.progress) == ("Gold", None, 1.0)
        member.tier = "Silver"
        progress = tier_progress(member, settings, Decimal("100.00"))
        assert (progress.progress, progress.spend_to_next) == (0.0, "700.00")


def test_new_tier_thresholds_apply_to_every_member_going_forward(db):
    with db.transaction() as s:
        shop = make_shop(s)
        low = pay(s, shop, 1, "150.00", T0).member
        assert low.tier == "Bronze"
        settings = save_settings(s, shop.id, {"tiers": {"levels": [
            {"name": "Bronze", "threshold": "0", "multiplier": "1"},
            {"name": "Silver", "threshold": "100", "multiplier": "1.25"},
            {"name": "Gold", "threshold": "800", "multiplier": "1.5"}]}},
            changed_by="staff", now=T0 + timedelta(days=5))
        changes = reevaluate_shop_tiers(s, shop, settings, T0 + timedelta(days=5))
        assert [(c.member_id, c.from_tier, c.to_tier, c.reason) for c in changes] == [
            (low.id, "Bronze", "Silver", "settings_changed")]
        # The past order keeps its earn; the next one earns at the new tier.
        assert pay(s, shop, 2, "100.00", T0 + timedelta(days=6)).points == 625


def test_a_tier_the_merchant_removed_is_replaced_at_once(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = pay(s, shop, 1, "400.00", T0).member
        assert member.tier == "Silver"
        settings = save_settings(s, shop.id, {"tiers": {"levels": [
            {"name": "Bronze", "threshold": "0", "multiplier": "1"},
            {"name": "Platinum", "threshold": "1000", "multiplier": "2"}]}},
            changed_by="staff", now=T0 + timedelta(days=1))
        [change] = reevaluate_shop_tiers(s, shop, settings, T0 + timedelta(days=1))
        assert (change.from_tier, change.to_tier) == ("Silver", "Bronze")
