"""Ids and text from outside: one rule for every edge of the app."""

import pytest

from app.inputs import BIGINT_MAX, has_nul, parse_id


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", 1), ("007", 7), ("9223372036854775807", BIGINT_MAX), (42, 42), (BIGINT_MAX, BIGINT_MAX),
])
def test_ascii_digits_and_ints_within_bigint_are_ids(raw: object, expected: int) -> None:
    assert parse_id(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "0", 0, "-1", -1, "+1", " 1", "1 ", "1.0", "1e3", "\u00b2", "\u0663", "\uff11",
    "9223372036854775808", "99999999999999999999", BIGINT_MAX + 1, 2**100, True, False,
    None, 1.0, [1], "12abc",
])
def test_anything_else_is_not_an_id(raw: object) -> None:
    assert parse_id(raw) is None


def test_only_text_with_a_nul_character_is_flagged() -> None:
    assert has_nul("a\x00b") and has_nul("\x00")
    assert not has_nul("ab") and not has_nul(None) and not has_nul(0)
