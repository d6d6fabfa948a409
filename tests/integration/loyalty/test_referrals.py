"""Referral attribution and its fraud rules, and paying advocates after the return window."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.loyalty.ledger import ledger_balances
from app.loyalty.members import enrol
from app.loyalty.program import current_settings, save_settings
from app.loyalty.referrals import (
    ReferralDecisionError,
    approve_referral,
    attribute_order,
    pay_due_referrals,
    reject_referral,
)
from app.models import LedgerEntry, Order, Referral
from tests.support.factories import T0, make_member, make_shop

ADA_IP, GRACE_IP = "203.0.113.5", "198.51.100.7"


def an_order(s, shop, member, shopify_order_id, *, ip=None, digest=None, paid_at=T0,
             email=None, eligible="80.00", status="paid"):
    """An Order row as earning records it for a paid order."""
    order = Order(shop_id=shop.id, shopify_order_id=shopify_order_id, member_id=member.id,
                  email=email or member.email, eligible_amount=Decimal(eligible),
                  total_price=Decimal(eligible), status=status, browser_ip=ip,
                  address_digest=digest, paid_at=paid_at, created_at=paid_at or T0)
    s.add(order)
    s.flush()
    return order


def given_ada(s, **settings):
    """Ada, a customer with one order from her home IP and address, in a fresh shop."""
    shop = make_shop(s)
    if settings:
        save_settings(s, shop.id, {"referrals": settings}, changed_by="test", now=T0)
    ada = make_member(s, shop, customer_id=100, email="ada.lovelace@gmail.com")
    an_order(s, shop, ada, 1, ip=ADA_IP, digest="digest-ada-home", paid_at=T0 - timedelta(10))
    return shop, ada


def friend_orders(s, shop, code, *, order_id=5001, customer_id=200,
                  email="grace@example.com", ip=GRACE_IP, digest="digest-grace-home",
                  now=T0, **extra):
    """The friend's first order is paid (earning enrolled them) and attributed."""
    friend = enrol(s, shop, now=now, customer_id=customer_id, email=email, first_name="Grace")
    an_order(s, shop, friend, order_id, ip=ip, digest=digest, paid_at=now, email=email)
    extra.setdefault("discount_codes", [code])
    return attribute_order(s, shop, current_settings(s, shop.id), shopify_order_id=order_id,
                           customer_id=customer_id, email=email, browser_ip=ip,
                           address_digest=digest, now=now, **extra)


def outcome(referral):
    return referral.status, referral.reason


def test_a_friends_first_order_with_the_code_is_a_pending_referral(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code.lower())
        assert outcome(referral) == ("pending", None)
        assert (referral.referrer_id, referral.code, referral.order_id) == (
            ada.id, ada.referral_code, 5001)
        assert referral.reward_due_at == T0 + timedelta(days=30)
        assert (referral.referee_customer_id, referral.referee_email) == (200, "grace@example.com")
        grace = s.get(type(ada), referral.referee_id)
        assert grace.referred_by_id == ada.id
        order = s.execute(select(Order).where(Order.shopify_order_id == 5001)).scalar_one()
        assert order.referral_code == ada.referral_code


def test_the_code_can_arrive_as_a_cart_attribute_or_in_the_landing_page(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        by_attribute = friend_orders(s, shop, ada.referral_code, discount_codes=[],
                                     note_attributes={"loyalty_ref": ada.referral_code})
        by_landing = friend_orders(s, shop, ada.referral_code, order_id=5002, customer_id=201,
                                   email="alan@example.com", ip="192.0.2.9", digest="d-alan",
                                   discount_codes=["SUMMER"],
                                   landing_site=f"/?ref={ada.referral_code}&utm_source=ig")
        assert (by_attribute.code, by_landing.code) == (ada.referral_code, ada.referral_code)
        assert outcome(by_attribute) == outcome(by_landing) == ("pending", None)


def test_an_order_without_a_members_code_is_not_a_referral(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        assert friend_orders(s, shop, "SUMMER10") is None
        assert friend_orders(s, shop, "NOBODY-1234", order_id=5002) is None
        assert s.execute(select(func.count(Referral.id))).scalar_one() == 0


def test_another_shops_member_code_does_not_attribute(db):
    with db.transaction() as s:
        _, ada = given_ada(s)
        other_shop = make_shop(s)
        assert friend_orders(s, other_shop, ada.referral_code) is None


def test_with_referrals_switched_off_nothing_is_attributed(db):
    with db.transaction() as s:
        shop, ada = given_ada(s, enabled=False)
        assert friend_orders(s, shop, ada.referral_code) is None


def test_the_same_order_is_attributed_once(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        first = friend_orders(s, shop, ada.referral_code)
        again = attribute_order(s, shop, current_settings(s, shop.id), shopify_order_id=5001,
                                customer_id=200, email="grace@example.com", browser_ip=GRACE_IP,
                                address_digest="digest-grace-home",
                                discount_codes=[ada.referral_code], now=T0 + timedelta(1))
        assert again.id == first.id
        assert s.execute(select(func.count(Referral.id))).scalar_one() == 1


def test_the_referrers_own_order_is_a_self_referral(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code, customer_id=100,
                                 email="ada.lovelace@gmail.com")
        assert outcome(referral) == ("rejected", "self_referral")
        assert referral.reward_due_at is None and referral.decided_at == T0


def test_a_gmail_alias_of_the_referrer_is_a_self_referral(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code,
                                 email="Ada.Love.Lace+deals@googlemail.com")
        assert outcome(referral) == ("rejected", "self_referral")
        assert referral.detail == "same email as the referrer once aliases are folded"


def test_shipping_to_the_referrers_address_is_a_self_referral(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code, digest="digest-ada-home")
        assert outcome(referral) == ("rejected", "self_referral")
        assert referral.detail == "ships to the same address as the referrer's orders"


def test_a_friend_who_had_already_ordered_is_not_a_new_customer(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        grace = enrol(s, shop, now=T0, customer_id=200, email="grace@example.com")
        an_order(s, shop, grace, 4000, paid_at=T0 - timedelta(days=200))
        referral = friend_orders(s, shop, ada.referral_code)
        assert outcome(referral) == ("rejected", "not_new_customer")


def test_a_guest_order_under_the_friends_email_counts_as_an_earlier_order(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        someone = make_member(s, shop)
        an_order(s, shop, someone, 4000, email="GRACE@example.com",
                 paid_at=T0 - timedelta(days=3))
        assert outcome(friend_orders(s, shop, ada.referral_code)) == (
            "rejected", "not_new_customer")


def test_shopify_saying_it_is_not_the_first_order_rejects_it(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code, first_order=False)
        assert outcome(referral) == ("rejected", "not_new_customer")


def test_the_first_friend_on_the_referrers_ip_is_flagged_not_rejected(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code, ip=ADA_IP)
        assert outcome(referral) == ("flagged", "same_ip")
        assert referral.detail == "same IP as the referrer's orders (1 of 1 household referrals)"
        assert referral.reward_due_at == T0 + timedelta(days=30)


def test_a_second_friend_on_the_referrers_ip_goes_beyond_the_household_allowance(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        friend_orders(s, shop, ada.referral_code, ip=ADA_IP)
        second = friend_orders(s, shop, ada.referral_code, order_id=5002, customer_id=201,
                               email="alan@example.com", digest="d-alan", ip=ADA_IP)
        assert outcome(second) == ("rejected", "same_ip")


def test_a_larger_household_allowance_flags_more_before_rejecting(db):
    with db.transaction() as s:
        shop, ada = given_ada(s, household_ip_allowance=2)
        statuses = [outcome(friend_orders(
            s, shop, ada.referral_code, order_id=5000 + n, customer_id=200 + n,
            email=f"friend{n}@example.com", digest=f"d-{n}", ip=ADA_IP)) for n in range(3)]
        assert statuses == [("flagged", "same_ip"), ("flagged", "same_ip"),
                            ("rejected", "same_ip")]


def test_an_ip_the_referrer_used_long_ago_says_nothing(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        an_order(s, shop, ada, 2, ip="192.0.2.200", paid_at=T0 - timedelta(days=91))
        referral = friend_orders(s, shop, ada.referral_code, ip="192.0.2.200")
        assert outcome(referral) == ("pending", None)


def test_the_monthly_cap_rejects_referrals_beyond_it_until_next_month(db):
    with db.transaction() as s:
        shop, ada = given_ada(s, monthly_cap=2)

        def nth_friend(n, now):
            return friend_orders(s, shop, ada.referral_code, order_id=5000 + n,
                                 customer_id=200 + n, email=f"friend{n}@example.com",
                                 digest=f"d-{n}", ip=f"192.0.2.{n}", now=now)

        results = [outcome(nth_friend(n, T0 + timedelta(days=n))) for n in range(3)]
        assert results == [("pending", None), ("pending", None), ("rejected", "cap_reached")]
        assert outcome(nth_friend(3, T0.replace(month=12, day=1))) == ("pending", None)


def test_a_clean_referral_pays_the_referrer_once_after_the_return_window(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code)
        settings = current_settings(s, shop.id)
        assert pay_due_referrals(s, shop, settings, T0 + timedelta(days=29)) == []
        due = T0 + timedelta(days=30)
        assert pay_due_referrals(s, shop, settings, due) == [referral]
        assert pay_due_referrals(s, shop, settings, due + timedelta(days=1)) == []
        assert outcome(referral) == ("rewarded", None)
        entries = [(e.kind, e.points, e.source_key) for e in s.execute(
            select(LedgerEntry).where(LedgerEntry.member_id == ada.id)).scalars()]
        assert entries == [("referral_referrer", 500, f"referral:{referral.id}:referrer")]
        assert (ada.points_available, ada.points_lifetime) == (500, 500)
        sums = ledger_balances(s, ada.id, due)
        assert (sums.available, sums.lifetime) == (500, 500)


def test_a_fully_refunded_friend_order_pays_nothing(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code)
        order = s.execute(select(Order).where(Order.shopify_order_id == 5001)).scalar_one()
        order.refunded_amount = Decimal("80.00")
        pay_due_referrals(s, shop, current_settings(s, shop.id), T0 + timedelta(days=30))
        assert outcome(referral) == ("rejected", "order_refunded")
        assert ada.points_available == 0


def test_a_partly_refunded_friend_order_still_pays(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code)
        order = s.execute(select(Order).where(Order.shopify_order_id == 5001)).scalar_one()
        order.refunded_amount = Decimal("79.99")
        pay_due_referrals(s, shop, current_settings(s, shop.id), T0 + timedelta(days=30))
        assert outcome(referral) == ("rewarded", None)
        assert ada.points_available == 500


def test_a_cancelled_friend_order_pays_nothing(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code)
        order = s.execute(select(Order).where(Order.shopify_order_id == 5001)).scalar_one()
        order.status, order.cancelled_at = "cancelled", T0 + timedelta(days=2)
        pay_due_referrals(s, shop, current_settings(s, shop.id), T0 + timedelta(days=30))
        assert outcome(referral) == ("rejected", "order_cancelled")
        assert ada.points_available == 0


def test_a_flagged_referral_is_never_paid_on_a_timeout(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code, ip=ADA_IP)
        settings = current_settings(s, shop.id)
        assert pay_due_referrals(s, shop, settings, T0 + timedelta(days=3650)) == []
        assert outcome(referral) == ("flagged", "same_ip")
        assert ada.points_available == 0


def test_an_approved_flagged_referral_is_paid_when_due(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code, ip=ADA_IP)
        approve_referral(s, referral, actor="staff:7", now=T0 + timedelta(days=40))
        assert (referral.status, referral.decided_by) == ("pending", "staff:7")
        paid = pay_due_referrals(s, shop, current_settings(s, shop.id), T0 + timedelta(days=40))
        assert paid == [referral] and referral.status == "rewarded"
        assert ada.points_available == 500


def test_a_merchant_rejection_keeps_why_it_was_flagged(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code, ip=ADA_IP)
        reject_referral(s, referral, actor="staff:7", now=T0 + timedelta(days=1),
                        detail="same household")
        assert outcome(referral) == ("rejected", "merchant_rejected")
        assert referral.detail == ("same household; flagged (same_ip: same IP as the referrer's "
                                   "orders (1 of 1 household referrals))")
        with pytest.raises(ReferralDecisionError):
            approve_referral(s, referral, actor="staff:7", now=T0 + timedelta(days=2))
        assert pay_due_referrals(s, shop, current_settings(s, shop.id),
                                 T0 + timedelta(days=60)) == []


def test_a_rewarded_referral_cannot_be_rejected_afterwards(db):
    with db.transaction() as s:
        shop, ada = given_ada(s)
        referral = friend_orders(s, shop, ada.referral_code)
        pay_due_referrals(s, shop, current_settings(s, shop.id), T0 + timedelta(days=30))
        with pytest.raises(ReferralDecisionError):
            reject_referral(s, referral, actor="staff:7", now=T0 + timedelta(days=31))


def test_a_configured_friend_welcome_is_paid_with_the_referrers_points(db):
    with db.transaction() as s:
        shop, ada = given_ada(s, referee_points=200)
        referral = friend_orders(s, shop, ada.referral_code)
        pay_due_referrals(s, shop, current_settings(s, shop.id), T0 + timedelta(days=30))
        grace = s.get(type(ada), referral.referee_id)
        entry = s.execute(select(LedgerEntry).where(
            LedgerEntry.member_id == grace.id)).scalar_one()
        assert (entry.kind, entry.points, entry.source_key) == (
            "referral_referee", 200, f"referral:{referral.id}:referee")
        assert (ada.points_available, grace.points_available) == (500, 200)
