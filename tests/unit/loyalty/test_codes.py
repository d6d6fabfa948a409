"""Reward codes are unguessable, readable aloud and shaped like LOYAL-7F3KQ-9XM4P."""

import math
import re

import pytest

from app.loyalty.codes import (
    MIN_ENTROPY_BITS,
    entropy_bits,
    new_discount_code,
    normalise_code,
)

CODE = re.compile(r"^LOYAL-[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$")


def test_a_code_is_a_prefix_and_two_groups_of_five_unambiguous_characters():
    for _ in range(200):
        assert CODE.match(new_discount_code())


def test_a_code_never_contains_characters_shoppers_confuse():
    drawn = "".join(new_discount_code().split("-", 1)[1] for _ in range(2000))
    assert not set(drawn) & set("01OIL")
    assert len(set(drawn) - {"-"}) == 31


def test_a_code_carries_at_least_forty_bits_of_randomness():
    assert entropy_bits() == pytest.approx(10 * math.log2(31))
    assert round(entropy_bits(), 1) == 49.5
    assert entropy_bits() >= MIN_ENTROPY_BITS


def test_ten_thousand_codes_are_all_different():
    assert len({new_discount_code() for _ in range(10_000)}) == 10_000


def test_a_shape_with_too_little_randomness_is_refused():
    with pytest.raises(ValueError, match="40 bits"):
        new_discount_code(groups=2, group_size=4)


def test_the_prefix_is_upper_cased_and_checked():
    assert new_discount_code("vip").startswith("VIP-")
    with pytest.raises(ValueError):
        new_discount_code("NO SPACES")
    with pytest.raises(ValueError):
        new_discount_code("9STARTS-WITH-DIGIT")


def test_a_typed_code_is_trimmed_and_upper_cased():
    assert normalise_code("  loyal-7f3kq-9xm4p ") == "LOYAL-7F3KQ-9XM4P"
    assert normalise_code("   ") is None
