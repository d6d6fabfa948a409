"""The holdout in the rules: a held-out customer's orders are recorded and earn nothing, they
get no bonus, and ending the holdout lets them in while the history keeps their group."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.loyalty import events, holdout
from app.loyalty.members import enrol
from app.models import LedgerEntry, Member, Message, Order, Shop
from app.pipeline import enqueue, topics
from app.pipeline.member_sync import member_metafields
from app.pipeline.queueing import InlineQueue
from tests.support.factories import T0, make_shop
from tests.support.order_payloads import paid_order

STARTED = T0 - timedelta(days=1)


def customers_in(shop: Shop, group: str, count: int = 1, first: int = 5_000) -> list[int]:
    """Customer ids the shop's running holdout puts in `group`, found by its own key."""
    found: list[int] = []
    customer_id = first
    while len(found) < count:
        if holdout.group_for(shop.holdout_key, shop.domain, customer_id,
                             shop.holdout_share) == group:
            found.append(customer_id)
        customer_id += 1
    return found


def start_holdout(shop: Shop, share: int = 10, at: datetime = STARTED) -> None:
    """The merchant starts a holdout of `share` percent."""
    holdout.start(shop, share, at)


def _member(s, customer_id: int) -> Member:
    return s.execute(select(Member).where(Member.customer_id == customer_id)).scalar_one()


def _ledger_count(s, member_id: int) -> int:
    return s.execute(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.member_id == member_id)).scalar_one()


def test_a_held_out_customer_is_recorded_but_earns_nothing_and_is_sent_nothing(db):
    with db.transaction() as s:
        shop = make_shop(s)
        start_holdout(shop)
        [control] = customers_in(shop, holdout.CONTROL)
        [treated] = customers_in(shop, holdout.PROGRAM)
        # Through the pipeline, which also schedules the follow-up messages.
        jobs = enqueue.after_commit(s, InlineQueue())
        held = topics.order_paid(s, shop, paid_order(1, updated_at=T0, customer_id=control,
                                                     email="c@example.com"), T0, jobs)
        earned = topics.order_paid(s, shop, paid_order(2, updated_at=T0, customer_id=treated,
                                                       email="t@example.com"), T0, jobs)
        c, t = _member(s, control), _member(s, treated)
        order = s.execute(select(Order).where(Order.shopify_order_id == 1)).scalar_one()
        assert held.note == "held_out" and earned.note == "earned"
        # Recorded for the comparison, with its member and its money, and no points.
        assert (order.status, order.member_id, order.points_awarded) == ("paid", c.id, 0)
        assert order.total_price > 0
        assert _ledger_count(s, c.id) == 0 and _ledger_count(s, t.id) == 1
        assert (c.holdout_group, c.holdout_assigned_at) == (holdout.CONTROL, T0)
        assert (t.holdout_group, t.holdout_assigned_at) == (holdout.PROGRAM, T0)
        # Nothing waits for the held-out customer: no welcome, unlock notice or survey.
        kinds = s.execute(select(Message.member_id, Message.kind)).all()
        assert {m for m, _ in kinds} == {t.id}
        assert c.tier is None
        # The storefront is told to hide the blocks for them.
        assert [(f.key, f.value, f.type) for f in member_metafields(c)] == [
            ("held_out", "true", "boolean")]
        assert "held_out" not in [f.key for f in member_metafields(t)]


def test_a_held_out_customer_who_signs_up_gets_no_welcome_bonus(db):
    with db.transaction() as s:
        shop = make_shop(s)
        start_holdout(shop)
        [control] = customers_in(shop, holdout.CONTROL)
        [treated] = customers_in(shop, holdout.PROGRAM)
        for customer_id in (control, treated):
            events.customer_joined(s, shop, {"id": customer_id, "email": f"{customer_id}@x.io"},
                                   T0, welcome=True)
        assert _member(s, control).points_available == 0
        assert _member(s, treated).points_available == 250


def test_assignment_is_sticky_for_every_later_event(db):
    with db.transaction() as s:
        shop = make_shop(s)
        start_holdout(shop)
        [control] = customers_in(shop, holdout.CONTROL)
        events.customer_joined(s, shop, {"id": control, "email": "c@example.com"}, T0,
                               welcome=True)
        later = T0 + timedelta(days=20)
        for order_id in (11, 12):
            events.order_paid(s, shop, paid_order(order_id, updated_at=later,
                                                  customer_id=control, email="c@example.com"),
                              later)
        member = _member(s, control)
        assert (member.holdout_group, member.holdout_assigned_at) == (holdout.CONTROL, T0)
        assert _ledger_count(s, member.id) == 0
        assert s.execute(select(func.count()).select_from(Order).where(
            Order.member_id == member.id)).scalar_one() == 2


def test_customers_seen_before_the_holdout_and_guests_are_never_held_out(db):
    with db.transaction() as s:
        shop = make_shop(s)
        known = enrol(s, shop, now=T0 - timedelta(days=5), customer_id=5_000)
        start_holdout(shop, share=50)
        guest = enrol(s, shop, now=T0, customer_id=None, email="guest@example.com")
        events.order_paid(s, shop, paid_order(3, updated_at=T0, customer_id=5_000,
                                              email="k@example.com"), T0)
        assert known.holdout_group is None and guest.holdout_group is None
        assert _ledger_count(s, known.id) == 1


def test_ending_the_holdout_lets_everyone_in_and_keeps_who_was_held_out_and_when(db):
    ended_at = T0 + timedelta(days=30)
    with db.transaction() as s:
        shop = make_shop(s)
        start_holdout(shop)
        [control] = customers_in(shop, holdout.CONTROL)
        events.order_paid(s, shop, paid_order(1, updated_at=T0, customer_id=control,
                                              email="c@example.com"), T0)
        member_id = _member(s, control).id
        assert holdout.held_out_count(s, shop.id) == 1
        released = holdout.end(s, shop, ended_at)
        assert released == [member_id]
        assert holdout.held_out_count(s, shop.id) == 0
        assert (shop.holdout_share, shop.holdout_ended_at) == (0, ended_at)
    later = ended_at + timedelta(days=1)
    with db.transaction() as s:
        shop = s.get(Shop, shop.id)
        outcome = events.order_paid(s, shop, paid_order(2, updated_at=later,
                                                        customer_id=control,
                                                        email="c@example.com"), later)
        member = _member(s, control)
        assert outcome.note == "earned"
        assert (member.holdout_group, member.holdout_assigned_at,
                member.holdout_released_at) == (holdout.CONTROL, T0, ended_at)
        # The first order, paid while held out, never earns; the storefront shows again.
        assert [e.order_id for e in s.execute(select(LedgerEntry).where(
            LedgerEntry.member_id == member.id)).scalars()] == [2]
        assert ("held_out", "false") in [(f.key, f.value) for f in member_metafields(member)]
        # A customer first seen now is nobody's control.
        newcomer = enrol(s, shop, now=later, customer_id=customers_in(
            Shop(domain=shop.domain, holdout_share=10, holdout_key=shop.holdout_key),
            holdout.CONTROL, first=control + 1)[0])
        assert newcomer.holdout_group is None


def test_ending_needs_a_running_holdout_and_one_shop_never_touches_another(db):
    with db.transaction() as s:
        mine, theirs = make_shop(s), make_shop(s)
        start_holdout(mine)
        start_holdout(theirs)
        [control] = customers_in(theirs, holdout.CONTROL)
        events.order_paid(s, theirs, paid_order(1, updated_at=T0, customer_id=control,
                                                email="c@example.com"), T0)
        assert holdout.end(s, mine, T0) == []
        try:
            holdout.end(s, mine, T0)
        except holdout.HoldoutError as exc:
            assert "no holdout" in str(exc)
        else:
            raise AssertionError("ending twice must be refused")
        assert holdout.held_out_count(s, theirs.id) == 1


def test_a_held_out_friend_pays_their_advocate_and_gets_nothing_themselves(db):
    from app.loyalty.program import current_settings, save_settings
    from app.loyalty.referrals import pay_due_referrals

    with db.transaction() as s:
        shop = make_shop(s)
        advocate = enrol(s, shop, now=T0 - timedelta(days=5), customer_id=77,
                         email="ada@example.com", first_name="Ada")
        save_settings(s, shop.id, {"referrals": {"referee_points": 300}}, changed_by="test",
                      now=T0 - timedelta(days=5))
        start_holdout(shop)
        [friend] = customers_in(shop, holdout.CONTROL)
        outcome = events.order_paid(s, shop, paid_order(
            4, updated_at=T0, customer_id=friend, email="friend@other.example",
            note_attributes=[{"name": "loyalty_ref", "value": advocate.referral_code}]), T0)
        assert outcome.note.startswith("held_out; referral pending")
        due = T0 + timedelta(days=30)
        [referral] = pay_due_referrals(s, shop, current_settings(s, shop.id), due)
        assert referral.status == "rewarded"
        kinds = s.execute(select(LedgerEntry.member_id, LedgerEntry.kind)).all()
        assert kinds == [(advocate.id, "referral_referrer")]
