"""Birthdays are entered as MM-DD or YYYY-MM-DD and counted on the shop's calendar."""

from datetime import date, datetime

import pytest

from app.loyalty.bonuses import UNKNOWN_YEAR, InvalidBirthday, parse_birthday, shop_today

TODAY = date(2026, 11, 1)


def test_a_month_and_day_is_stored_in_the_unknown_year():
    assert parse_birthday("03-14", TODAY) == date(UNKNOWN_YEAR, 3, 14)
    assert parse_birthday(" 02-29 ", TODAY) == date(1904, 2, 29)


def test_a_full_date_is_kept_as_given():
    assert parse_birthday("1990-07-04", TODAY) == date(1990, 7, 4)


@pytest.mark.parametrize("raw", [
    "", "3-14", "14/03", "02-30", "13-01", "1990-02-29", "2027-01-01", "1899-12-31",
    "1990-7-4", "03-14-1990",
])
def test_anything_else_is_refused(raw):
    with pytest.raises(InvalidBirthday):
        parse_birthday(raw, TODAY)


def test_the_shops_today_can_differ_from_utc():
    late_utc = datetime(2026, 3, 15, 2, 30)
    assert shop_today(late_utc, "America/Los_Angeles") == date(2026, 3, 14)
    assert shop_today(late_utc, "Asia/Tokyo") == date(2026, 3, 15)
    assert shop_today(late_utc, "Not/AZone") == date(2026, 3, 15)
