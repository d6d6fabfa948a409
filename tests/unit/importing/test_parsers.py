"""Each source's parser on its sample file: the rows it reads and the lines it refuses, with
the line numbers a merchant sees in a spreadsheet."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from app.loyalty.importing.reader import ImportFileError, Refusal, read_file
from app.loyalty.importing.rows import ImportRow, birthday_of, code_from_link
from app.loyalty.importing.sources import source_named

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2026, 12, 5, 12, 0)


def _read(name: str, text: str | None = None) -> tuple[list[ImportRow], list[Refusal]]:
    lines = text.splitlines(keepends=True) if text is not None \
        else (SAMPLES / f"{name}.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    items = list(read_file(lines, source_named(name), NOW))
    return ([i for i in items if isinstance(i, ImportRow)],
            [i for i in items if isinstance(i, Refusal)])


def test_smile_rows_keep_balance_tier_code_birthday_and_last_activity() -> None:
    rows, refused = _read("smile")
    ada, grace = rows
    assert (ada.line, ada.key, ada.email, ada.points, ada.tier) == (
        2, "smile:id:304169228", "ada@example.com", 1250, "Gold")
    assert ada.referral_code == "9qr5Pw"
    # Smile's year 1004 means "no year": stored as our unknown year.
    assert (ada.birthday.month, ada.birthday.day, ada.birthday.year) == (12, 10, 1904)
    assert ada.last_activity_at == datetime(2026, 10, 15, 9, 30)
    assert ada.enrolled_at == datetime(2025, 2, 1, 10, 0)
    assert grace.email == "grace@navy.example" and grace.birthday == date(1990, 12, 9)
    assert [(r.line, r.reason) for r in refused] == [
        (4, "the customer is disabled in Smile (excluded from the program)"),
        (5, "email 'not-an-email' is not an email address"),
        (6, "points '12.5' is not a whole number"),
        (7, "the same customer as line 2"),
    ]


def test_loyaltylion_rows_carry_the_shopify_customer_id_and_pending_points() -> None:
    rows, refused = _read("loyaltylion")
    ada, grace, guest = rows
    assert (ada.customer_id, ada.points, ada.pending_points, ada.tier, ada.referral_code) == (
        7001, 800, 200, "Silver", "ADA-LION")
    assert ada.birthday == date(1904, 6, 22)
    assert ada.last_activity_at == datetime(2026, 9, 1, 12, 0)
    # No activity column: the enrolment is the last activity known.
    assert grace.last_activity_at == datetime(2025, 7, 1, 15, 0)
    assert guest.customer_id is None and guest.key == "loyaltylion:id:13"
    assert [(r.line, r.reason) for r in refused] == [
        (5, "the customer is blocked in LoyaltyLion"),
        (6, "customer id 'abc' is not a Shopify customer id"),
        (7, "enrolled_at 'yesterday' is not an ISO 8601 date"),
    ]


def test_yotpo_rows_read_its_spelled_out_headers() -> None:
    rows, refused = _read("yotpo")
    ada, grace = rows
    assert (ada.key, ada.points, ada.tier, ada.referral_code) == (
        "yotpo:email:ada@example.com", 640, "Gold", "ada640")
    assert ada.birthday == date(1904, 12, 10)
    assert (grace.first_name, grace.last_name, grace.birthday) == ("Grace", "Hopper",
                                                                   date(1906, 12, 9))
    # Yotpo exports no activity date: the import's own time is used when applied.
    assert ada.last_activity_at is None
    assert [(r.line, r.reason) for r in refused] == [
        (4, "the row has no email"),
        (5, "Points Balance '-5' is negative"),
        (6, "birthday '02/30' is not a calendar date"),
    ]


def test_a_quoted_field_over_two_lines_keeps_the_next_record_s_line_number() -> None:
    text = ('email,points,first_name\n"ada@example.com",10,"Ada\nLovelace"\n'
            'bad,1,x\n')
    rows, refused = _read("smile", text.replace("points,first_name", "points_balance,first_name"))
    assert rows[0].line == 2 and rows[0].first_name == "Ada\nLovelace"
    assert [(r.line, r.reason) for r in refused] == [
        (4, "email 'bad' is not an email address")]


def test_a_referral_code_two_rows_share_is_kept_once() -> None:
    text = ("email,points,referral_code\na@example.com,1,ABC\nb@example.com,2,abc\n")
    rows, _ = _read("loyaltylion", text)
    assert rows[0].referral_code == "ABC"
    assert rows[1].referral_code is None and rows[1].shared_code == "abc (also on line 2)"


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("name,balance\nAda,10\n", "the first line names no email column: is this a Smile.io export?"),
])
def test_a_file_that_is_not_the_source_s_export_is_refused_whole(text: str,
                                                                 message: str) -> None:
    with pytest.raises(ImportFileError, match=message.replace("?", r"\?")):
        _read("smile", text)


def test_extra_fields_on_a_line_are_refused_with_its_number() -> None:
    _, refused = _read("yotpo", "Email,Points Balance\na@example.com,1,surprise\n")
    assert [(r.line, r.reason) for r in refused] == [(2, "3 fields where the header has 2")]


@pytest.mark.parametrize(("raw", "expected"), [
    ("1004-05-27", None), ("05/27", date(1904, 5, 27)), ("05-27", date(1904, 5, 27)),
    ("1990-05-27", date(1990, 5, 27)), ("05/27/1990", date(1990, 5, 27)), ("", None),
])
def test_birthdays_in_each_source_s_spelling(raw: str, expected: date | None) -> None:
    if raw == "1004-05-27":
        assert birthday_of(raw, year_unknown=1004) == date(1904, 5, 27)
    else:
        assert birthday_of(raw) == expected


@pytest.mark.parametrize(("link", "code"), [
    ("http://i.refs.cc/9qr5Pw", "9qr5Pw"), ("https://shop.example/?ref=ADA-7K3Q", "ADA-7K3Q"),
    ("http://rwrd.io/ada640?c", "ada640"), ("", None),
])
def test_referral_codes_come_from_the_end_of_the_link(link: str, code: str | None) -> None:
    assert code_from_link(link) == code
