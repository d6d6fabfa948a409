"""Points expire after the shop's months of inactivity, once per inactive period, with warnings."""

from datetime import datetime, timedelta

from sqlalchemy import select

from app.loyalty.expiry import add_months, expire_inactive_points, members_expiring_between
from app.loyalty.ledger import ledger_balances, post
from app.loyalty.program import current_settings, save_settings
from app.models import LedgerEntry
from tests.support.factories import T0, make_member, make_shop

YEAR_LATER = datetime(2027, 11, 1, 12, 0, 0)


def test_months_are_added_by_the_calendar_and_clamped_to_the_months_end():
    assert add_months(datetime(2026, 1, 31, 9), 1) == datetime(2026, 2, 28, 9)
    assert add_months(datetime(2026, 11, 1), 12) == datetime(2027, 11, 1)
    assert add_months(datetime(2026, 3, 15), -14) == datetime(2025, 1, 15)


def test_points_expire_twelve_months_after_the_last_activity_and_only_once(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        post(s, member, points=700, kind="bonus_signup", source_key="signup", now=T0)
        settings = current_settings(s, shop.id)
        assert expire_inactive_points(s, shop, settings, YEAR_LATER - timedelta(seconds=1)) == []
        [entry] = expire_inactive_points(s, shop, settings, YEAR_LATER)
        assert (entry.kind, entry.points, entry.source_key) == (
            "expire", -700, f"expire:{member.id}:20261101T120000")
        assert entry.note == "700 points expired after 12 months without activity"
        s.refresh(member)
        assert (member.points_available, member.points_lifetime) == (0, 700)
        # Expiring is not activity: the clock that caused it is left where it was.
        assert member.last_activity_at == T0
        assert expire_inactive_points(s, shop, settings, YEAR_LATER + timedelta(days=40)) == []
        assert ledger_balances(s, member.id, YEAR_LATER).available == 0


def test_any_activity_restarts_the_clock(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        post(s, member, points=700, kind="bonus_signup", source_key="signup", now=T0)
        post(s, member, points=50, kind="bonus_review", source_key="review:1",
             now=T0 + timedelta(days=180))
        settings = current_settings(s, shop.id)
        assert expire_inactive_points(s, shop, settings, YEAR_LATER) == []
        s.refresh(member)
        assert member.points_available == 750


def test_pending_points_that_have_unlocked_expire_with_the_rest(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        post(s, member, points=300, kind="earn_order", source_key="order:1:earn", now=T0,
             available_at=T0 + timedelta(days=30))
        [entry] = expire_inactive_points(s, shop, current_settings(s, shop.id), YEAR_LATER)
        assert entry.points == -300
        s.refresh(member)
        assert (member.points_available, member.points_pending) == (0, 0)


def test_a_later_inactive_period_expires_again(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        post(s, member, points=100, kind="bonus_signup", source_key="signup", now=T0)
        settings = current_settings(s, shop.id)
        expire_inactive_points(s, shop, settings, YEAR_LATER)
        back = YEAR_LATER + timedelta(days=10)
        post(s, member, points=40, kind="bonus_review", source_key="review:1", now=back)
        [second] = expire_inactive_points(s, shop, settings, add_months(back, 12))
        assert (second.points, second.source_key) == (-40, f"expire:{member.id}:20271111T120000")
        keys = s.execute(select(LedgerEntry.source_key).where(LedgerEntry.kind == "expire")
                         ).scalars().all()
        assert len(keys) == 2


def test_expiry_set_to_zero_months_never_expires(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        post(s, member, points=100, kind="bonus_signup", source_key="signup", now=T0)
        settings = save_settings(s, shop.id, {"expiry_months": 0}, changed_by="staff", now=T0)
        assert expire_inactive_points(s, shop, settings, YEAR_LATER + timedelta(days=900)) == []
        assert members_expiring_between(s, shop, settings, T0,
                                        YEAR_LATER + timedelta(days=900)) == []


def test_the_thirty_and_seven_day_warnings_find_exactly_who_expires_in_their_window(db):
    with db.transaction() as s:
        shop = make_shop(s)
        settings = current_settings(s, shop.id)
        now = YEAR_LATER - timedelta(days=30)
        in_30 = make_member(s, shop)
        post(s, in_30, points=500, kind="bonus_signup", source_key="s1", now=T0)
        in_7 = make_member(s, shop)
        post(s, in_7, points=120, kind="bonus_signup", source_key="s2",
             now=datetime(2026, 10, 9, 12, 0, 0))
        nothing_left = make_member(s, shop)
        post(s, nothing_left, points=100, kind="bonus_signup", source_key="s3", now=T0)
        post(s, nothing_left, points=-100, kind="redeem", source_key="r3", now=T0)
        active = make_member(s, shop)
        post(s, active, points=90, kind="bonus_signup", source_key="s4", now=now)
        thirty = members_expiring_between(s, shop, settings, now + timedelta(days=30),
                                          now + timedelta(days=31))
        seven = members_expiring_between(s, shop, settings, now + timedelta(days=7),
                                         now + timedelta(days=8))
        assert [(w.member_id, w.points, w.expires_at) for w in thirty] == [
            (in_30.id, 500, YEAR_LATER)]
        assert [(w.member_id, w.points, w.expires_at) for w in seven] == [
            (in_7.id, 120, now + timedelta(days=7))]
