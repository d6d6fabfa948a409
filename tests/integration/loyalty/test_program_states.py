"""A draft program records what happens and credits nobody; the launch starts earning from
then on, never for what happened before (app/loyalty/launch.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.loyalty import events
from app.loyalty.bonuses import set_birthday
from app.loyalty.daily import run_daily_round
from app.loyalty.launch import launch
from app.models import LedgerEntry, Member, Message, Order, Referral
from tests.support.factories import T0, make_member, make_shop
from tests.support.order_payloads import paid_order, refund

CUSTOMER = 115310627314723950


def _ledger(s) -> list[tuple[str, int]]:
    return [(e.kind, e.points) for e in s.execute(
        select(LedgerEntry).order_by(LedgerEntry.id)).scalars()]


def test_an_order_paid_in_draft_earns_nothing_even_when_shopify_redelivers_it_after_launch(db):
    with db.transaction() as s:
        shop = make_shop(s, live=False)
        outcome = events.order_paid(s, shop, paid_order(1, updated_at=T0), T0)
        launch(shop, T0 + timedelta(hours=1), holdout_share=0)
        again = events.order_paid(s, shop, paid_order(1, updated_at=T0), T0 + timedelta(hours=2))
        order = s.execute(select(Order).where(Order.shopify_order_id == 1)).scalar_one()
        assert outcome.note.startswith("program_not_live")
        assert again.note.startswith("already_earned")
        assert (order.status, order.points_awarded, order.member_id) == ("paid", 0, None)
        assert _ledger(s) == []
        # Nothing was scheduled for the shopper either: no welcome, unlock notice or survey.
        assert s.execute(select(func.count()).select_from(Message)).scalar_one() == 0


def test_from_the_launch_on_a_paid_order_earns(db):
    with db.transaction() as s:
        shop = make_shop(s, live=False)
        events.order_paid(s, shop, paid_order(1, updated_at=T0), T0)
        launch(shop, T0 + timedelta(hours=1), holdout_share=0)
        later = T0 + timedelta(hours=2)
        events.order_paid(s, shop, paid_order(2, updated_at=later), later)
        member = s.execute(select(Member).where(Member.customer_id == CUSTOMER)).scalar_one()
        # 414.95 of goods in the sample × 5 points, for the second order only.
        assert _ledger(s) == [("earn_order", 2074)]
        assert (member.points_pending, member.points_lifetime) == (2074, 2074)


def test_a_customer_who_signs_up_in_draft_gets_no_welcome_bonus(db):
    payload = {"id": 4242, "email": "grace@example.com", "first_name": "Grace"}
    with db.transaction() as s:
        draft = make_shop(s, live=False)
        live = make_shop(s)
        events.customer_joined(s, draft, payload, T0, welcome=True)
        events.customer_joined(s, live, payload, T0, welcome=True)
        balances = dict(s.execute(select(Member.shop_id, Member.points_available)).all())
        assert balances == {draft.id: 0, live.id: 250}


def test_a_referral_in_draft_is_not_attributed(db):
    with db.transaction() as s:
        shop = make_shop(s, live=False)
        advocate = make_member(s, shop, customer_id=77)
        order = paid_order(3, updated_at=T0, customer_id=78, email="friend@other.example",
                           note_attributes=[{"name": "loyalty_ref",
                                             "value": advocate.referral_code}])
        events.order_paid(s, shop, order, T0)
        assert s.execute(select(func.count()).select_from(Referral)).scalar_one() == 0


def test_the_daily_round_of_a_draft_program_pays_no_birthday(db):
    birthday = datetime(2026, 11, 3, 9, 0)
    with db.transaction() as s:
        shop = make_shop(s, live=False)
        member = make_member(s, shop)
        set_birthday(s, member, "11-03", T0)
        done = run_daily_round(s, shop, birthday)
        assert (done.birthdays, done.messages) == (0, 0)
        assert _ledger(s) == []
        launch(shop, birthday, holdout_share=0)
        assert run_daily_round(s, shop, birthday + timedelta(hours=1)).birthdays == 1


def test_a_refund_after_the_launch_of_an_order_paid_in_draft_takes_nothing_back(db):
    with db.transaction() as s:
        shop = make_shop(s, live=False)
        events.order_paid(s, shop, paid_order(1, updated_at=T0), T0)
        launch(shop, T0 + timedelta(hours=1), holdout_share=0)
        later = T0 + timedelta(hours=2)
        events.order_paid(s, shop, paid_order(2, updated_at=later), later)
        outcome = events.refund_created(s, shop, refund(5, 1, subtotals=["100.00"]), later)
        member = s.execute(select(Member).where(Member.customer_id == CUSTOMER)).scalar_one()
        assert outcome.note.startswith("refund:")
        # Only the order paid after the launch is in the ledger; the draft order's refund
        # finds nothing of its own to take back and leaves the other order's points alone.
        assert _ledger(s) == [("earn_order", 2074)]
        assert member.points_pending == 2074
