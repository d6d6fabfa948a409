"""Redeeming points: debit and Shopify code succeed together, or the points come back."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.loyalty.ledger import ledger_balances, post
from app.loyalty.program import current_settings
from app.loyalty.redemption import (
    CannotVoid,
    CombinesWith,
    InsufficientPoints,
    NotAMember,
    RewardUnavailable,
    cancel_redemption,
    mark_redemptions_used,
    recover_stuck_redemptions,
    redeem,
    void_redemption,
)
from app.loyalty.rewards import create_reward, seed_default_rewards
from app.models import LedgerEntry, Member, Redemption, Reward
from tests.support.discount_issuer import InMemoryDiscountIssuer, ShopifyUnavailable, SimulatedCrash
from tests.support.factories import T0, make_member, make_shop

CODE = r"^LOYAL-[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$"


def given_a_member_with(db, points, *, tier=None, customer_id=None):
    """A shop with the default catalog and a member holding `points` available points."""
    with db.transaction() as s:
        shop = make_shop(s)
        rewards = {r.title: r.id for r in seed_default_rewards(s, shop, T0)}
        member = make_member(s, shop, customer_id=customer_id)
        member.tier = tier
        post(s, member, points=points, kind="adjust", source_key=f"start:{member.id}", now=T0)
        return shop.id, member.id, rewards


def add_reward(db, shop_id, **attrs):
    """A reward the merchant added, by id."""
    from app.models import Shop

    with db.transaction() as s:
        shop = s.get(Shop, shop_id)
        return create_reward(s, shop, current_settings(s, shop_id), now=T0, **attrs).id


def member_state(db, member_id, now=T0):
    """(available points, ledger (kind, points, source key) rows) and a cache check."""
    with db.sessions() as s:
        member = s.get(Member, member_id)
        sums = ledger_balances(s, member_id, now)
        assert (member.points_available, member.points_pending, member.points_lifetime) == (
            sums.available, sums.pending, sums.lifetime)
        entries = [(e.kind, e.points, e.source_key) for e in s.execute(
            select(LedgerEntry).where(LedgerEntry.member_id == member_id)
            .order_by(LedgerEntry.id)).scalars()]
        return member.points_available, entries


def redemptions(db, member_id):
    with db.sessions() as s:
        return list(s.execute(select(Redemption).where(Redemption.member_id == member_id)
                              .order_by(Redemption.id)).scalars())


def customer_of(db, member_id):
    with db.sessions() as s:
        return s.get(Member, member_id).customer_id


def test_redeeming_500_points_issues_a_single_use_code_for_that_customer(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    shopify = InMemoryDiscountIssuer()
    redemption = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0)
    assert redemption.status == "issued"
    assert redemption.points == 500
    assert redemption.shopify_discount_id == "gid://shopify/DiscountCodeNode/1"
    assert re.match(CODE, redemption.code)
    [call] = shopify.calls
    assert call.method == "create_basic_discount"
    assert call.args == {
        "title": "Loyalty reward: $5 off (500 points)", "code": redemption.code,
        "customer_gid": f"gid://shopify/Customer/{customer_of(db, member_id)}",
        "starts_at": T0, "ends_at": None, "amount": Decimal(5), "percentage": None,
        "min_subtotal": Decimal(10),
        "combines_with": CombinesWith(order_discounts=False, product_discounts=False,
                                      shipping_discounts=True),
        "usage_limit": 1, "applies_once_per_customer": True,
    }
    assert member_state(db, member_id) == (700, [
        ("adjust", 1200, f"start:{member_id}"),
        ("redeem", -500, f"redeem:{redemption.id}"),
    ])


def test_the_debit_is_labelled_with_the_reward_and_its_code(db):
    shop_id, member_id, rewards = given_a_member_with(db, 500)
    redemption = redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(), T0)
    with db.sessions() as s:
        note = s.execute(select(LedgerEntry.note).where(
            LedgerEntry.kind == "redeem", LedgerEntry.member_id == member_id)).scalar_one()
    assert note == f"$5 off · {redemption.code}"


def test_a_percent_reward_asks_shopify_for_a_fraction(db):
    shop_id, member_id, _ = given_a_member_with(db, 800)
    reward_id = add_reward(db, shop_id, kind="percent_off", cost=800, value="15")
    shopify = InMemoryDiscountIssuer()
    assert redeem(db, shop_id, member_id, reward_id, shopify, T0).status == "issued"
    [call] = shopify.calls
    assert (call.args["percentage"], call.args["amount"]) == (Decimal("0.15"), None)
    assert call.args["title"] == "Loyalty reward: 15% off (800 points)"


def test_free_shipping_is_a_shipping_discount_that_stacks_with_order_rewards(db):
    shop_id, member_id, rewards = given_a_member_with(db, 400)
    shopify = InMemoryDiscountIssuer()
    redemption = redeem(db, shop_id, member_id, rewards["Free shipping"], shopify, T0)
    [call] = shopify.calls
    assert call.method == "create_free_shipping_discount"
    assert call.args["combines_with"] == CombinesWith(
        order_discounts=True, product_discounts=True, shipping_discounts=False)
    assert (call.args["min_subtotal"], call.args["usage_limit"]) == (None, 1)
    assert redemption.status == "issued"
    assert member_state(db, member_id)[0] == 0


def test_a_store_credit_reward_credits_the_customers_account(db):
    shop_id, member_id, _ = given_a_member_with(db, 2000)
    reward_id = add_reward(db, shop_id, kind="store_credit", cost=2000, value="20")
    shopify = InMemoryDiscountIssuer(clock=T0)
    redemption = redeem(db, shop_id, member_id, reward_id, shopify, T0)
    [call] = shopify.calls
    assert call.method == "credit_store_credit"
    assert call.args == {"customer_gid": f"gid://shopify/Customer/{customer_of(db, member_id)}",
                         "amount": Decimal(20), "currency": "USD"}
    assert (redemption.status, redemption.shopify_discount_id) == (
        "issued", "gid://shopify/StoreCreditAccountCreditTransaction/1")


def test_when_shopify_fails_the_points_come_back_and_the_redemption_says_why(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    redemption = redeem(db, shop_id, member_id, rewards["$5 off"],
                        InMemoryDiscountIssuer(mode="fail"), T0)
    assert redemption.status == "failed"
    assert redemption.error == "ShopifyUnavailable: 503 Service Unavailable"
    assert redemption.shopify_discount_id is None
    assert member_state(db, member_id) == (1200, [
        ("adjust", 1200, f"start:{member_id}"),
        ("redeem", -500, f"redeem:{redemption.id}"),
        ("redeem_refund", 500, f"redeem:{redemption.id}:refund"),
    ])


def test_a_lost_answer_after_shopify_made_the_code_is_not_refunded(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    shopify = InMemoryDiscountIssuer(mode="fail_after_create")
    redemption = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0)
    assert (redemption.status, redemption.shopify_discount_id) == (
        "issued", "gid://shopify/DiscountCodeNode/1")
    assert [c.method for c in shopify.calls] == ["create_basic_discount", "find_discount"]
    assert member_state(db, member_id)[0] == 700


def test_too_few_points_spends_nothing_and_never_calls_shopify(db):
    shop_id, member_id, rewards = given_a_member_with(db, 499)
    shopify = InMemoryDiscountIssuer()
    with pytest.raises(InsufficientPoints) as excinfo:
        redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0)
    assert (excinfo.value.available, excinfo.value.needed) == (499, 500)
    assert shopify.calls == []
    assert redemptions(db, member_id) == []
    assert member_state(db, member_id) == (499, [("adjust", 499, f"start:{member_id}")])


def test_a_bronze_member_cannot_redeem_a_gold_reward(db):
    shop_id, member_id, _ = given_a_member_with(db, 5000, tier="Bronze")
    reward_id = add_reward(db, shop_id, kind="amount_off", cost=1000, value="15",
                           tier_required="Gold")
    with pytest.raises(RewardUnavailable) as excinfo:
        redeem(db, shop_id, member_id, reward_id, InMemoryDiscountIssuer(), T0)
    assert excinfo.value.reason == "tier_required"
    assert member_state(db, member_id)[0] == 5000


def test_a_gold_member_can_redeem_a_gold_reward(db):
    shop_id, member_id, _ = given_a_member_with(db, 5000, tier="Gold")
    reward_id = add_reward(db, shop_id, kind="amount_off", cost=1000, value="15",
                           tier_required="Gold")
    redemption = redeem(db, shop_id, member_id, reward_id, InMemoryDiscountIssuer(), T0)
    assert (redemption.status, member_state(db, member_id)[0]) == ("issued", 4000)


def test_a_switched_off_reward_is_unavailable(db):
    shop_id, member_id, rewards = given_a_member_with(db, 5000)
    with db.transaction() as s:
        s.get(Reward, rewards["$5 off"]).active = False
    with pytest.raises(RewardUnavailable) as excinfo:
        redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(), T0)
    assert excinfo.value.reason == "inactive"


def test_another_shops_reward_cannot_be_redeemed(db):
    shop_id, member_id, _ = given_a_member_with(db, 5000)
    _, _, other_rewards = given_a_member_with(db, 0)
    with pytest.raises(RewardUnavailable) as excinfo:
        redeem(db, shop_id, member_id, other_rewards["$5 off"], InMemoryDiscountIssuer(), T0)
    assert excinfo.value.reason == "not_found"
    assert member_state(db, member_id)[0] == 5000


def test_a_member_of_another_shop_or_a_guest_is_not_a_member_here(db):
    shop_id, _, rewards = given_a_member_with(db, 5000)
    _, stranger_id, _ = given_a_member_with(db, 5000)
    with db.transaction() as s:
        from app.loyalty.members import enrol
        from app.models import Shop

        guest = enrol(s, s.get(Shop, shop_id), now=T0, customer_id=None, email="g@example.com")
        post(s, guest, points=900, kind="adjust", source_key="start:guest", now=T0)
        guest_id = guest.id
    for member_id in (stranger_id, guest_id):
        with pytest.raises(NotAMember):
            redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(), T0)
    assert member_state(db, guest_id)[0] == 900


def test_a_double_click_with_the_same_request_key_redeems_once(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    shopify = InMemoryDiscountIssuer()
    first = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0, request_key="k-1")
    second = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0, request_key="k-1")
    assert (second.id, second.code, second.status) == (first.id, first.code, "issued")
    assert len(shopify.creates()) == 1
    assert [r.request_key for r in redemptions(db, member_id)] == ["k-1"]
    assert member_state(db, member_id) == (700, [
        ("adjust", 1200, f"start:{member_id}"),
        ("redeem", -500, f"redeem:{first.id}"),
    ])


def test_a_repeated_request_key_finds_its_redemption_even_when_the_note_is_gone(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    shopify = InMemoryDiscountIssuer()
    first = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0, request_key="k-1")
    with db.transaction() as s:
        # GDPR redaction may blank ledger notes; the key lives on the redemption itself.
        s.execute(LedgerEntry.__table__.update().values(note=None))
    again = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0, request_key="k-1")
    assert again.id == first.id
    assert member_state(db, member_id)[0] == 700


def test_a_repeated_request_after_a_failure_returns_the_failed_redemption(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    first = redeem(db, shop_id, member_id, rewards["$5 off"],
                   InMemoryDiscountIssuer(mode="fail"), T0, request_key="k-1")
    shopify = InMemoryDiscountIssuer()
    again = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0, request_key="k-1")
    assert (again.id, again.status) == (first.id, "failed")
    assert shopify.calls == []
    assert member_state(db, member_id)[0] == 1200


def test_the_database_refuses_a_second_redemption_with_the_same_request_key(db):
    from sqlalchemy.exc import IntegrityError

    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    first = redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(), T0,
                   request_key="k-1")
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(Redemption(shop_id=shop_id, member_id=member_id, reward_id=first.reward_id,
                         points=500, code="LOYAL-OTHER-CODE1", request_key="k-1",
                         status="pending", created_at=T0, updated_at=T0))


def test_a_new_request_key_is_a_new_redemption(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    shopify = InMemoryDiscountIssuer()
    first = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0, request_key="k-1")
    second = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0, request_key="k-2")
    assert second.id != first.id and second.code != first.code
    assert member_state(db, member_id)[0] == 200


def test_another_member_reusing_a_request_key_gets_their_own_redemption(db):
    shop_id, ada_id, rewards = given_a_member_with(db, 600)
    with db.transaction() as s:
        from app.models import Shop

        bob = make_member(s, s.get(Shop, shop_id), first_name="Bob")
        post(s, bob, points=600, kind="adjust", source_key="start:bob", now=T0)
        bob_id = bob.id
    shopify = InMemoryDiscountIssuer()
    ada = redeem(db, shop_id, ada_id, rewards["$5 off"], shopify, T0, request_key="same")
    bob = redeem(db, shop_id, bob_id, rewards["$5 off"], shopify, T0, request_key="same")
    assert (ada.member_id, bob.member_id) == (ada_id, bob_id)
    assert ada.code != bob.code
    assert member_state(db, bob_id)[0] == 100


def test_a_malformed_request_key_is_refused(db):
    shop_id, member_id, rewards = given_a_member_with(db, 600)
    with pytest.raises(ValueError):
        redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(), T0,
               request_key="x" * 101)


def test_a_crash_before_shopify_answered_is_recovered_by_issuing_later(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    with pytest.raises(SimulatedCrash):
        redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(mode="crash"),
               T0)
    [stuck] = redemptions(db, member_id)
    assert stuck.status == "pending"
    assert member_state(db, member_id)[0] == 700
    shopify = InMemoryDiscountIssuer()
    early = recover_stuck_redemptions(db, shop_id, shopify, T0 + timedelta(minutes=5),
                                      older_than=timedelta(minutes=10))
    assert early == [] and shopify.calls == []
    [recovered] = recover_stuck_redemptions(db, shop_id, shopify, T0 + timedelta(minutes=15),
                                            older_than=timedelta(minutes=10))
    assert (recovered.id, recovered.status, recovered.code) == (stuck.id, "issued", stuck.code)
    assert [c.method for c in shopify.calls] == ["find_discount", "create_basic_discount"]
    assert shopify.calls[1].args["code"] == stuck.code
    assert member_state(db, member_id)[0] == 700


def test_a_crash_after_shopify_made_the_code_is_recovered_without_a_second_code(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    shopify = InMemoryDiscountIssuer(mode="crash_after_create")
    with pytest.raises(SimulatedCrash):
        redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0)
    shopify.mode = "ok"
    [recovered] = recover_stuck_redemptions(db, shop_id, shopify, T0 + timedelta(hours=1),
                                            older_than=timedelta(minutes=10))
    assert (recovered.status, recovered.shopify_discount_id) == (
        "issued", "gid://shopify/DiscountCodeNode/1")
    assert len(shopify.creates()) == 1
    assert member_state(db, member_id)[0] == 700


def test_a_crashed_store_credit_is_found_not_credited_twice(db):
    shop_id, member_id, _ = given_a_member_with(db, 2000)
    reward_id = add_reward(db, shop_id, kind="store_credit", cost=2000, value="20")
    shopify = InMemoryDiscountIssuer(mode="crash_after_create", clock=T0)
    with pytest.raises(SimulatedCrash):
        redeem(db, shop_id, member_id, reward_id, shopify, T0)
    shopify.mode = "ok"
    [recovered] = recover_stuck_redemptions(db, shop_id, shopify, T0 + timedelta(hours=1),
                                            older_than=timedelta(minutes=10))
    assert recovered.status == "issued"
    assert len(shopify.credits) == 1


def test_a_stuck_redemption_shopify_still_refuses_is_refunded(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    with pytest.raises(SimulatedCrash):
        redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(mode="crash"),
               T0)
    later = T0 + timedelta(hours=1)
    [recovered] = recover_stuck_redemptions(db, shop_id, InMemoryDiscountIssuer(mode="fail"),
                                            later, older_than=timedelta(minutes=10))
    assert (recovered.status, recovered.error) == (
        "failed", "ShopifyUnavailable: 503 Service Unavailable")
    assert member_state(db, member_id, later) == (1200, [
        ("adjust", 1200, f"start:{member_id}"),
        ("redeem", -500, f"redeem:{recovered.id}"),
        ("redeem_refund", 500, f"redeem:{recovered.id}:refund"),
    ])


def test_a_stuck_redemption_whose_reward_was_deleted_is_refunded(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    with pytest.raises(SimulatedCrash):
        redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(mode="crash"),
               T0)
    with db.transaction() as s:
        s.delete(s.get(Reward, rewards["$5 off"]))
    shopify = InMemoryDiscountIssuer()
    later = T0 + timedelta(hours=1)
    [recovered] = recover_stuck_redemptions(db, shop_id, shopify, later, timedelta(minutes=10))
    assert (recovered.status, recovered.reward_id, recovered.error) == (
        "failed", None, "the reward was deleted before it was issued")
    assert shopify.creates() == []
    assert member_state(db, member_id, later)[0] == 1200


def test_while_shopify_is_unreachable_a_stuck_redemption_waits(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    with pytest.raises(SimulatedCrash):
        redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(mode="crash"),
               T0)
    settled = recover_stuck_redemptions(db, shop_id, InMemoryDiscountIssuer(mode="unreachable"),
                                        T0 + timedelta(hours=1), older_than=timedelta(minutes=10))
    assert settled == []
    assert [r.status for r in redemptions(db, member_id)] == ["pending"]
    assert member_state(db, member_id)[0] == 700


def test_recovery_only_touches_its_own_shop(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    other_shop_id, _, _ = given_a_member_with(db, 0)
    with pytest.raises(SimulatedCrash):
        redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(mode="crash"),
               T0)
    assert recover_stuck_redemptions(db, other_shop_id, InMemoryDiscountIssuer(),
                                     T0 + timedelta(hours=1), timedelta(minutes=10)) == []


def test_voiding_an_unused_reward_returns_its_points_exactly_once(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    redemption = redeem(db, shop_id, member_id, rewards["$10 off"], InMemoryDiscountIssuer(), T0)
    with db.transaction() as s:
        entry = void_redemption(s, redemption, T0, actor="staff:42")
        assert (entry.points, entry.kind, entry.actor) == (1000, "redeem_refund", "staff:42")
    with db.transaction() as s:
        assert void_redemption(s, redemption, T0) is None
    assert [r.status for r in redemptions(db, member_id)] == ["refunded"]
    assert member_state(db, member_id)[0] == 1200


def test_cancelling_a_reward_deletes_its_code_then_returns_the_points_once(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    shopify = InMemoryDiscountIssuer()
    redemption = redeem(db, shop_id, member_id, rewards["$10 off"], shopify, T0)
    later = T0 + timedelta(days=3)
    entry = cancel_redemption(db, shop_id, redemption.id, shopify, later, actor="staff:7")
    assert (entry.points, entry.kind, entry.actor, entry.source_key) == (
        1000, "redeem_refund", "staff:7", f"redeem:{redemption.id}:refund")
    assert shopify.discounts == {}
    assert [c.method for c in shopify.calls] == ["create_basic_discount", "void_discount"]
    assert shopify.calls[1].args == {"discount_id": "gid://shopify/DiscountCodeNode/1"}
    assert cancel_redemption(db, shop_id, redemption.id, shopify, later) is None
    assert len(shopify.calls) == 2
    assert [r.status for r in redemptions(db, member_id)] == ["refunded"]
    assert member_state(db, member_id, later)[0] == 1200


def test_when_shopify_cannot_delete_the_code_the_points_stay_spent(db):
    shop_id, member_id, rewards = given_a_member_with(db, 1200)
    shopify = InMemoryDiscountIssuer()
    redemption = redeem(db, shop_id, member_id, rewards["$5 off"], shopify, T0)
    shopify.mode = "unreachable"
    with pytest.raises(ShopifyUnavailable):
        cancel_redemption(db, shop_id, redemption.id, shopify, T0)
    assert [r.status for r in redemptions(db, member_id)] == ["issued"]
    assert member_state(db, member_id)[0] == 700


def test_store_credit_cannot_be_voided_back_into_points(db):
    shop_id, member_id, _ = given_a_member_with(db, 2000)
    reward_id = add_reward(db, shop_id, kind="store_credit", cost=2000, value="20")
    shopify = InMemoryDiscountIssuer(clock=T0)
    redemption = redeem(db, shop_id, member_id, reward_id, shopify, T0)
    with pytest.raises(CannotVoid) as excinfo:
        cancel_redemption(db, shop_id, redemption.id, shopify, T0)
    assert excinfo.value.status == "store_credit"
    with pytest.raises(CannotVoid), db.transaction() as s:
        void_redemption(s, redemption, T0)
    assert [c.method for c in shopify.calls] == ["credit_store_credit"]
    assert member_state(db, member_id)[0] == 0


def test_an_expired_unused_reward_is_marked_expired_and_refunded(db):
    shop_id, member_id, rewards = given_a_member_with(db, 500)
    redemption = redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(), T0)
    a_year_later = T0 + timedelta(days=365)
    with db.transaction() as s:
        void_redemption(s, redemption, a_year_later, expired=True)
    assert [r.status for r in redemptions(db, member_id)] == ["expired"]
    assert member_state(db, member_id, a_year_later)[0] == 500


def test_a_failed_redemption_cannot_be_refunded_a_second_time(db):
    shop_id, member_id, rewards = given_a_member_with(db, 500)
    redemption = redeem(db, shop_id, member_id, rewards["$5 off"],
                        InMemoryDiscountIssuer(mode="fail"), T0)
    with db.transaction() as s:
        assert void_redemption(s, redemption, T0) is None
    assert member_state(db, member_id)[0] == 500


def test_a_used_reward_cannot_be_voided(db):
    shop_id, member_id, rewards = given_a_member_with(db, 500)
    redemption = redeem(db, shop_id, member_id, rewards["$5 off"], InMemoryDiscountIssuer(), T0)
    with db.transaction() as s:
        [used] = mark_redemptions_used(s, shop_id, [redemption.code.lower(), "OTHER"], 9001, T0)
        assert (used.status, used.used_order_id) == ("used", 9001)
    with pytest.raises(CannotVoid), db.transaction() as s:
        void_redemption(s, redemption, T0)
    assert member_state(db, member_id)[0] == 0


def test_twenty_concurrent_redemptions_of_1000_points_let_exactly_two_through(pg):
    shop_id, member_id, rewards = given_a_member_with(pg, 1000)
    shopify = InMemoryDiscountIssuer()
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def click(n: int) -> None:
        barrier.wait()
        try:
            result = redeem(pg, shop_id, member_id, rewards["$5 off"], shopify, T0,
                            request_key=f"tab-{n}").status
        except InsufficientPoints:
            result = "insufficient_points"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["insufficient_points"] * 18 + ["issued"] * 2
    assert len(shopify.creates()) == 2
    assert [r.status for r in redemptions(pg, member_id)] == ["issued", "issued"]
    available, entries = member_state(pg, member_id)
    assert available == 0
    assert sorted(points for kind, points, _ in entries) == [-500, -500, 1000]


def test_concurrent_clicks_with_one_request_key_make_one_redemption(pg):
    shop_id, member_id, rewards = given_a_member_with(pg, 5000)
    shopify = InMemoryDiscountIssuer()
    barrier = threading.Barrier(8)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def click() -> None:
        barrier.wait()
        redemption = redeem(pg, shop_id, member_id, rewards["$5 off"], shopify, T0,
                            request_key="one-click")
        with lock:
            results.append((redemption.id, redemption.code))

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert len(shopify.creates()) == 1
    assert len(redemptions(pg, member_id)) == 1
    assert member_state(pg, member_id)[0] == 4500
