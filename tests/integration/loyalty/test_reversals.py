"""Refunds and cancellations take back exactly what the order earned, visibly, never more."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.loyalty.bonuses import award_signup
from app.loyalty.earning import record_paid_order
from app.loyalty.ledger import debit_available, ledger_balances, release_unlocked
from app.loyalty.orders import parse_order, parse_refund
from app.loyalty.program import current_settings, save_settings
from app.loyalty.reversals import reverse_refund, void_cancelled_order
from app.loyalty.widget import member_view
from app.models import LedgerEntry, Order
from tests.support.factories import T0, make_member, make_shop
from tests.support.order_payloads import cancelled_order, line, paid_order, refund

ORDER_ID = 1042000000000000001
CUSTOMER_ID = 115310627314723950
UNLOCKED = T0 + timedelta(days=31)


def pay(s, shop, amount="100.00", quantity=2, now=T0, order_id=ORDER_ID):
    """orders/paid for `quantity` × `amount` of goods (200.00 → 1000 points by default)."""
    settings = current_settings(s, shop.id)
    payload = paid_order(order_id, updated_at=now, name="#1042",
                         lines=[line(amount, quantity)])
    return record_paid_order(s, shop, parse_order(payload, settings), settings, now)


def refund_of(s, shop, refund_id, now, **kwargs):
    """refunds/create for ORDER_ID."""
    settings = current_settings(s, shop.id)
    facts = parse_refund(refund(refund_id, ORDER_ID, **kwargs), settings)
    return reverse_refund(s, shop, facts, settings, now)


def balances(member):
    """(available, pending, lifetime) from the cache."""
    return (member.points_available, member.points_pending, member.points_lifetime)


def assert_cache_matches_ledger(s, member, now):
    """After releasing unlocked points, the cache equals the ledger's sums."""
    release_unlocked(s, member, now)
    sums = ledger_balances(s, member.id, now)
    assert balances(member) == (sums.available, sums.pending, sums.lifetime)


def test_refund_of_half_the_order_reverses_half_its_points(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        assert earned.points == 1000
        result = refund_of(s, shop, 1, T0 + timedelta(days=3), subtotals=["100.00"])
        assert (result.outcome, result.points, result.shortfall) == ("reversed", 500, 0)
        entry = result.entry
        assert (entry.kind, entry.points, entry.source_key) == ("refund_reversal", -500, "refund:1")
        assert entry.note == "Refund on order #1042"
        # Still pending: taken from pending, unlocking together with the earn.
        assert entry.available_at == earned.entry.available_at
        assert balances(earned.member) == (0, 500, 500)
        assert result.order.refunded_amount == Decimal("100.00")
        assert_cache_matches_ledger(s, earned.member, UNLOCKED)
        assert balances(earned.member) == (500, 0, 500)


def test_a_refund_reverses_at_the_orders_rate_even_after_the_shop_changed_it(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop, customer_id=CUSTOMER_ID)
        member.tier, member.tier_since = "Gold", T0
        earned = pay(s, shop)
        assert earned.points == 1500
        save_settings(s, shop.id, {"earning": {"points_per_unit": "10"},
                                   "tiers": {"levels": [
                                       {"name": "Bronze", "threshold": "0", "multiplier": "1"},
                                       {"name": "Gold", "threshold": "100", "multiplier": "3"}]}},
                      changed_by="staff", now=T0)
        result = refund_of(s, shop, 1, T0 + timedelta(days=3), subtotals=["100.00"])
        # 100.00 × 5 × 1.5 (the order's), not 100.00 × 10 × 3 (today's).
        assert result.points == 750
        assert (result.entry.rate, result.entry.multiplier) == (Decimal("5"), Decimal("1.5"))


def test_a_refund_paid_as_store_credit_still_reverses_points_and_says_so(db):
    with db.transaction() as s:
        shop = make_shop(s)
        pay(s, shop)
        result = refund_of(s, shop, 1, T0 + timedelta(days=3), subtotals=["50.00"],
                           store_credit=True)
        assert result.points == 250
        assert result.entry.note == "Refund (store credit) on order #1042"


def test_a_refund_typed_as_an_amount_reverses_its_share(db):
    with db.transaction() as s:
        shop = make_shop(s)
        pay(s, shop)
        result = refund_of(s, shop, 1, T0, adjustments=["-20.00"])
        assert result.points == 100


def test_a_duplicate_refund_delivery_is_applied_once(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        refund_of(s, shop, 1, T0, subtotals=["100.00"])
        again = refund_of(s, shop, 1, T0 + timedelta(minutes=1), subtotals=["100.00"])
        assert again.outcome == "duplicate"
        assert earned.member.points_pending == 500
        assert again.order.refunded_amount == Decimal("100.00")


def test_refunds_of_the_whole_order_in_parts_reverse_every_point(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop, customer_id=CUSTOMER_ID)
        member.tier = "Silver"
        earned = pay(s, shop, amount="10.10", quantity=1)
        # 10.10 × 5 × 1.25 = 63.125 → 63
        assert earned.points == 63
        first = refund_of(s, shop, 1, T0, subtotals=["5.05"])
        second = refund_of(s, shop, 2, T0, subtotals=["5.05"])
        # Each half alone floors to 31; the refund that completes the order takes the rest.
        assert (first.points, second.points) == (31, 32)
        assert earned.member.points_pending == 0


def test_reversals_never_exceed_what_the_order_earned(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        big = refund_of(s, shop, 1, T0, subtotals=["200.00"], adjustments=["-50.00"])
        more = refund_of(s, shop, 2, T0, adjustments=["-30.00"])
        assert (big.points, more.points) == (1000, 0)
        assert earned.member.points_lifetime == 0


def test_a_refund_after_the_points_unlocked_takes_them_from_available(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        result = refund_of(s, shop, 1, UNLOCKED, subtotals=["100.00"])
        assert result.entry.available_at == UNLOCKED
        assert balances(earned.member) == (500, 0, 500)


def test_a_refund_beyond_the_available_balance_stops_at_zero_and_records_the_shortfall(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        member = earned.member
        release_unlocked(s, member, UNLOCKED)
        debit_available(s, member, points=800, kind="redeem", source_key="redeem:1",
                        now=UNLOCKED)
        result = refund_of(s, shop, 1, UNLOCKED, subtotals=["200.00"])
        assert (result.points, result.shortfall) == (200, 800)
        assert (result.entry.points, result.entry.shortfall) == (-200, 800)
        # The forgiven 800 leave lifetime too: the order earned nothing in the end.
        assert balances(member) == (0, 0, 0)
        # The shortfall counts as reversed: a later refund finds nothing left to take.
        later = refund_of(s, shop, 2, UNLOCKED, adjustments=["-10.00"])
        assert later.points == 0 and member.points_available == 0
        assert_cache_matches_ledger(s, member, UNLOCKED)


def test_a_fully_refunded_order_leaves_the_same_lifetime_whether_its_points_were_spent(db):
    lifetime = {}
    for spent in (False, True):
        with db.transaction() as s:
            shop = make_shop(s)
            earned = pay(s, shop)
            member = earned.member
            award_signup(s, member, current_settings(s, shop.id), T0)
            assert member.points_lifetime == 1250
            at = T0 + timedelta(days=3)
            if spent:
                at = UNLOCKED
                release_unlocked(s, member, at)
                debit_available(s, member, points=1000, kind="redeem", source_key="redeem:1",
                                now=at)
            result = refund_of(s, shop, 1, at, subtotals=["200.00"])
            lifetime[spent] = member.points_lifetime
            assert_cache_matches_ledger(s, member, at)
            if spent:
                assert (result.points, result.shortfall) == (250, 750)
                assert balances(member) == (0, 0, 250)
                activity = member_view(s, shop, member, current_settings(s, shop.id),
                                       at)["activity"]
                assert activity[0]["points"] == -250
                assert activity[0]["label"] == "Refund on order #1042 (750 points forgiven)"
    assert lifetime == {False: 250, True: 250}


def test_a_reversal_that_finds_nothing_to_take_still_shows_what_it_forgave(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        member = earned.member
        release_unlocked(s, member, UNLOCKED)
        debit_available(s, member, points=1000, kind="redeem", source_key="redeem:1",
                        now=UNLOCKED)
        refund_of(s, shop, 1, UNLOCKED, subtotals=["100.00"])
        activity = member_view(s, shop, member, current_settings(s, shop.id),
                               UNLOCKED)["activity"]
        assert (activity[0]["points"], activity[0]["label"]) == (
            0, "Refund on order #1042 (500 points forgiven)")
        assert balances(member) == (0, 0, 500)


def test_a_shop_that_allows_negative_balances_takes_the_whole_reversal(db):
    with db.transaction() as s:
        shop = make_shop(s)
        save_settings(s, shop.id, {"allow_negative_balance": True}, changed_by="staff", now=T0)
        earned = pay(s, shop)
        release_unlocked(s, earned.member, UNLOCKED)
        debit_available(s, earned.member, points=800, kind="redeem", source_key="redeem:1",
                        now=UNLOCKED)
        result = refund_of(s, shop, 1, UNLOCKED, subtotals=["200.00"])
        assert (result.points, result.shortfall) == (1000, 0)
        assert earned.member.points_available == -800


def test_a_refund_before_its_paid_event_is_kept_and_netted_out_by_the_earn(db):
    with db.transaction() as s:
        shop = make_shop(s)
        early = refund_of(s, shop, 1, T0, subtotals=["100.00"])
        assert early.outcome == "recorded_before_paid"
        order = s.execute(select(Order)).scalar_one()
        assert (order.status, order.refunded_amount) == ("awaiting_payment", Decimal("100.00"))
        earned = pay(s, shop, now=T0 + timedelta(minutes=5))
        assert earned.points == 1000
        # Reversed under the key it would have had after the payment, pending with the earn.
        netting = s.execute(select(LedgerEntry).where(
            LedgerEntry.kind == "refund_reversal")).scalar_one()
        assert (netting.source_key, netting.points, netting.note) == (
            "refund:1", -500, "Refund on order #1042")
        assert netting.available_at == earned.entry.available_at
        assert balances(earned.member) == (0, 500, 500)


def test_a_refund_before_payment_of_the_whole_order_nets_to_nothing(db):
    with db.transaction() as s:
        shop = make_shop(s)
        refund_of(s, shop, 1, T0, subtotals=["100.00"])
        refund_of(s, shop, 2, T0, subtotals=["100.00"])
        earned = pay(s, shop, now=T0 + timedelta(minutes=5))
        assert balances(earned.member) == (0, 0, 0)


def test_cancelling_a_paid_order_reverses_its_pending_points(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        settings = current_settings(s, shop.id)
        facts = parse_order(cancelled_order(ORDER_ID, updated_at=T0 + timedelta(days=2),
                                            name="#1042"), settings)
        result = void_cancelled_order(s, shop, facts, settings, T0 + timedelta(days=2))
        assert (result.outcome, result.points) == ("reversed", 1000)
        assert (result.entry.kind, result.entry.source_key, result.entry.note) == (
            "cancel_reversal", f"order:{ORDER_ID}:cancel", "Order #1042 cancelled")
        assert result.order.status == "cancelled"
        assert balances(earned.member) == (0, 0, 0)
        again = void_cancelled_order(s, shop, facts, settings, T0 + timedelta(days=3))
        assert again.outcome == "duplicate"


def test_a_cancellation_after_a_partial_refund_takes_only_what_is_left(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        refund_of(s, shop, 1, T0, subtotals=["50.00"])
        settings = current_settings(s, shop.id)
        facts = parse_order(cancelled_order(ORDER_ID, updated_at=T0), settings)
        result = void_cancelled_order(s, shop, facts, settings, T0 + timedelta(days=1))
        assert result.points == 750
        # The refund Shopify sends with the cancellation finds nothing more to take.
        after = refund_of(s, shop, 2, T0 + timedelta(days=1), subtotals=["150.00"])
        assert after.points == 0
        assert balances(earned.member) == (0, 0, 0)


def test_a_partial_refund_after_the_cancellation_takes_nothing_more(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        settings = current_settings(s, shop.id)
        facts = parse_order(cancelled_order(ORDER_ID, updated_at=T0), settings)
        void_cancelled_order(s, shop, facts, settings, T0 + timedelta(days=1))
        after = refund_of(s, shop, 1, T0 + timedelta(days=1), subtotals=["20.00"])
        assert (after.outcome, after.points) == ("reversed", 0)
        assert balances(earned.member) == (0, 0, 0)


def test_a_refund_that_lowers_spend_below_a_tier_does_not_downgrade_before_retention(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop, amount="160.00")
        assert earned.member.tier == "Silver"
        result = refund_of(s, shop, 1, T0 + timedelta(days=10), subtotals=["160.00"])
        assert result.tier_change is None
        assert earned.member.tier == "Silver"
