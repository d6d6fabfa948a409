"""Joining, birthday, review and NPS bonuses are each paid once per natural key."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.loyalty.bonuses import (
    BirthdayLocked,
    award_birthday,
    award_nps,
    award_review,
    award_signup,
    set_birthday,
)
from app.loyalty.ledger import ledger_balances
from app.loyalty.program import current_settings, save_settings
from app.models import LedgerEntry
from tests.support.factories import T0, make_member, make_shop


def entries(s, member):
    return [(e.kind, e.points, e.source_key) for e in s.execute(
        select(LedgerEntry).where(LedgerEntry.member_id == member.id)
        .order_by(LedgerEntry.id)).scalars()]


def given_member(s, **bonuses):
    shop = make_shop(s)
    if bonuses:
        save_settings(s, shop.id, {"bonuses": bonuses}, changed_by="test", now=T0)
    return make_member(s, shop), current_settings(s, shop.id)


def member_shop(s, member):
    from app.models import Shop

    return s.get(Shop, member.shop_id)


def test_joining_pays_250_points_once(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        first = award_signup(s, member, settings, T0)
        again = award_signup(s, member, settings, T0 + timedelta(days=1))
        assert (first.points, first.kind, again) == (250, "bonus_signup", None)
        assert entries(s, member) == [("bonus_signup", 250, f"signup:{member.id}")]
        assert (member.points_available, member.points_lifetime) == (250, 250)


def test_two_members_of_one_shop_each_get_their_welcome(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        other = make_member(s, member_shop(s, member))
        assert award_signup(s, member, settings, T0).points == 250
        assert award_signup(s, other, settings, T0).points == 250


def test_a_bonus_set_to_zero_pays_nothing(db):
    with db.transaction() as s:
        member, settings = given_member(s, signup=0)
        assert award_signup(s, member, settings, T0) is None
        assert entries(s, member) == []


def test_the_birthday_pays_200_on_the_day_once_a_year(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        set_birthday(s, member, "11-03", T0)
        assert award_birthday(s, member, settings, T0, "UTC") is None
        birthday = datetime(2026, 11, 3, 9, 0)
        assert award_birthday(s, member, settings, birthday, "UTC").points == 200
        assert award_birthday(s, member, settings, birthday + timedelta(hours=5), "UTC") is None
        next_year = datetime(2027, 11, 3, 9, 0)
        assert award_birthday(s, member, settings, next_year, "UTC").points == 200
        assert entries(s, member) == [
            ("bonus_birthday", 200, f"birthday:{member.id}:2026"),
            ("bonus_birthday", 200, f"birthday:{member.id}:2027"),
        ]
        sums = ledger_balances(s, member.id, next_year)
        assert (member.points_available, sums.available) == (400, 400)


def test_the_birthday_follows_the_shops_calendar(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        set_birthday(s, member, "1990-11-03", T0)
        # 04:00 UTC on the 3rd is still the evening of the 2nd in Los Angeles.
        evening_in_la = datetime(2026, 11, 3, 4, 0)
        assert award_birthday(s, member, settings, evening_in_la, "America/Los_Angeles") is None
        assert award_birthday(s, member, settings, evening_in_la, "Asia/Tokyo").points == 200


def test_a_missed_sweep_still_pays_within_the_grace_week(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        set_birthday(s, member, "12-30", T0)
        assert award_birthday(s, member, settings, datetime(2027, 1, 6), "UTC").points == 200
        assert entries(s, member) == [("bonus_birthday", 200, f"birthday:{member.id}:2026")]
        assert award_birthday(s, member, settings, datetime(2027, 1, 7), "UTC") is None


def test_a_leap_day_birthday_is_celebrated_on_the_28th_in_common_years(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        set_birthday(s, member, "02-29", T0)
        assert member.birthday == date(1904, 2, 29)
        assert award_birthday(s, member, settings, datetime(2027, 2, 28, 12), "UTC").points == 200


def test_a_member_without_a_birthday_gets_no_birthday_points(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        assert award_birthday(s, member, settings, T0, "UTC") is None


def test_a_birthday_is_locked_for_365_days_from_when_it_was_set(db):
    with db.transaction() as s:
        member, _ = given_member(s)
        set_birthday(s, member, "06-01", T0)
        assert member.birthday_set_at == T0
        with pytest.raises(BirthdayLocked) as excinfo:
            set_birthday(s, member, "06-02", T0 + timedelta(days=1))
        assert excinfo.value.until == T0 + timedelta(days=365)
        with pytest.raises(BirthdayLocked):
            set_birthday(s, member, "06-02", T0 + timedelta(days=365) - timedelta(seconds=1))
        assert (member.birthday, member.birthday_set_at) == (date(1904, 6, 1), T0)
        assert set_birthday(s, member, "06-02", T0 + timedelta(days=365)) == date(1904, 6, 2)
        assert member.birthday_set_at == T0 + timedelta(days=365)


def test_the_lock_runs_from_the_setting_not_from_a_bonus(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        set_birthday(s, member, "11-01", T0 - timedelta(days=400))
        # Paid today; but the date was set over a year ago, so it may change now.
        assert award_birthday(s, member, settings, T0, "UTC").points == 200
        assert set_birthday(s, member, "12-01", T0 + timedelta(days=20)) == date(1904, 12, 1)
        with pytest.raises(BirthdayLocked) as excinfo:
            set_birthday(s, member, "12-02", T0 + timedelta(days=21))
        assert excinfo.value.until == T0 + timedelta(days=385)


def test_re_entering_the_same_birthday_is_not_a_change_and_keeps_the_lock(db):
    with db.transaction() as s:
        member, _ = given_member(s)
        set_birthday(s, member, "11-01", T0)
        assert set_birthday(s, member, "11-01", T0 + timedelta(days=20)) == date(1904, 11, 1)
        assert member.birthday_set_at == T0


def test_staff_can_always_change_a_birthday_and_that_starts_a_new_lock(db):
    with db.transaction() as s:
        member, _ = given_member(s)
        set_birthday(s, member, "11-01", T0)
        staff_fix = T0 + timedelta(days=2)
        assert set_birthday(s, member, "01-05", staff_fix, by_staff=True) == date(1904, 1, 5)
        assert member.birthday_set_at == staff_fix
        with pytest.raises(BirthdayLocked) as excinfo:
            set_birthday(s, member, "01-06", T0 + timedelta(days=300))
        assert excinfo.value.until == staff_fix + timedelta(days=365)


def test_a_birthday_set_before_the_lock_was_recorded_can_change_once(db):
    with db.transaction() as s:
        member, _ = given_member(s)
        member.birthday = date(1990, 3, 14)
        s.flush()
        assert set_birthday(s, member, "1990-03-15", T0) == date(1990, 3, 15)
        with pytest.raises(BirthdayLocked):
            set_birthday(s, member, "1990-03-16", T0 + timedelta(days=1))


def test_moving_the_birthday_cannot_farm_a_second_bonus_in_a_year(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        set_birthday(s, member, "11-01", T0)
        assert award_birthday(s, member, settings, T0, "UTC").points == 200
        with pytest.raises(BirthdayLocked):
            set_birthday(s, member, "11-20", T0 + timedelta(days=1))
        assert award_birthday(s, member, settings, datetime(2026, 11, 20), "UTC") is None
        assert member.points_available == 200


def test_a_review_pays_once_per_product_with_more_for_a_photo(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        assert award_review(s, member, settings, T0, product_id=11, with_photo=False).points == 100
        assert award_review(s, member, settings, T0, product_id=11, with_photo=True) is None
        assert award_review(s, member, settings, T0, product_id=12, with_photo=True).points == 200
        assert entries(s, member) == [
            ("bonus_review", 100, f"review:{member.id}:11"),
            ("bonus_review", 200, f"review:{member.id}:12"),
        ]


def test_two_members_reviewing_one_product_are_each_paid(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        other = make_member(s, member_shop(s, member))
        assert award_review(s, member, settings, T0, product_id=11, with_photo=False).points == 100
        assert award_review(s, other, settings, T0, product_id=11, with_photo=False).points == 100


def test_an_nps_answer_pays_50_once_per_order(db):
    with db.transaction() as s:
        member, settings = given_member(s)
        first = award_nps(s, member, settings, T0, order_id=820982911946154508)
        again = award_nps(s, member, settings, T0, order_id=820982911946154508)
        assert (first.points, first.order_id, again) == (50, 820982911946154508, None)
        assert award_nps(s, member, settings, T0, order_id=2).points == 50
        assert member.points_available == 100
