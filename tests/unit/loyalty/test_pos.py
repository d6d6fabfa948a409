"""What a POS cart will earn, by the online rules, and the subtotals the POS may send."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from app.loyalty.pos import cart_earning, parse_subtotal
from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings
from app.models import Member


def settings(**earning: object) -> ProgramSettings:
    data = copy.deepcopy(DEFAULT_SETTINGS)
    data["earning"].update(earning)
    return ProgramSettings(version=1, data=data)


@pytest.mark.parametrize(("raw", "value"), [
    ("24.50", Decimal("24.50")), ("0", Decimal(0)), ("0.00", Decimal(0)), ("7", Decimal(7)),
    ("1000000000", Decimal(10**9)),
])
def test_a_pos_subtotal_is_a_plain_amount_in_cents(raw: str, value: Decimal) -> None:
    assert parse_subtotal(raw) == value


@pytest.mark.parametrize("raw", [
    None, 24.5, "", " ", "abc", "-1", "1.234", "NaN", "Infinity", "1e3", "1000000000.01",
    "1" * 17, "12,50",
])
def test_anything_else_is_not_a_subtotal(raw: object) -> None:
    assert parse_subtotal(raw) is None


def test_the_cart_earns_at_the_members_tier_rounded_down_once() -> None:
    gold = Member(tier="Gold")
    earned = cart_earning(gold, settings(), Decimal("24.50"))
    # 24.50 × 5 × 1.5 = 183.75
    assert (earned.points, earned.multiplier, earned.tier, earned.pos_earning_on) == (
        183, Decimal("1.5"), "Gold", True)
    assert cart_earning(Member(tier=None), settings(), Decimal("24.50")).points == 122


def test_with_pos_earning_off_the_cart_earns_nothing() -> None:
    earned = cart_earning(Member(tier="Gold"), settings(pos_orders_earn=False), Decimal("100"))
    assert (earned.points, earned.pos_earning_on) == (0, False)
