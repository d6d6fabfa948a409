"""What a POS cart will earn, by the online rules, and the amounts the POS may send."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from app.loyalty.orders import OrderAmounts, order_amounts
from app.loyalty.pos import cart_amounts, cart_earning, parse_cart_amount
from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings
from app.models import Member


def settings(**earning: object) -> ProgramSettings:
    data = copy.deepcopy(DEFAULT_SETTINGS)
    data["earning"].update(earning)
    return ProgramSettings(version=1, data=data)


def cart(subtotal: str, gift_cards: str = "0") -> OrderAmounts:
    amounts = cart_amounts(Decimal(subtotal), Decimal(gift_cards))
    assert amounts is not None
    return amounts


@pytest.mark.parametrize(("raw", "value"), [
    ("24.50", Decimal("24.50")), ("0", Decimal(0)), ("0.00", Decimal(0)), ("7", Decimal(7)),
    ("1000000000", Decimal(10**9)),
])
def test_a_pos_amount_is_a_plain_amount_in_cents(raw: str, value: Decimal) -> None:
    assert parse_cart_amount(raw) == value


@pytest.mark.parametrize("raw", [
    None, 24.5, "", " ", "abc", "-1", "1.234", "NaN", "Infinity", "1e3", "1000000000.01",
    "1" * 17, "12,50",
])
def test_anything_else_is_not_an_amount(raw: object) -> None:
    assert parse_cart_amount(raw) is None


def test_the_cart_earns_at_the_members_tier_rounded_down_once() -> None:
    gold = Member(tier="Gold")
    earned = cart_earning(gold, settings(), cart("24.50"))
    # 24.50 × 5 × 1.5 = 183.75
    assert (earned.points, earned.multiplier, earned.tier, earned.pos_earning_on) == (
        183, Decimal("1.5"), "Gold", True)
    assert cart_earning(Member(tier=None), settings(), cart("24.50")).points == 122


def test_with_pos_earning_off_the_cart_earns_nothing() -> None:
    earned = cart_earning(Member(tier="Gold"), settings(pos_orders_earn=False), cart("100"))
    assert (earned.points, earned.pos_earning_on) == (0, False)


def test_gift_cards_in_the_cart_earn_only_where_the_shop_counts_them() -> None:
    bronze = Member(tier=None)
    # 74.50 of which 50.00 is a gift card: 24.50 × 5 by default, 74.50 × 5 when counted.
    assert cart_earning(bronze, settings(), cart("74.50", "50.00")).points == 122
    assert cart_earning(bronze, settings(exclude_gift_cards=False),
                        cart("74.50", "50.00")).points == 372
    # A cart of a gift card only earns nothing.
    assert cart_earning(bronze, settings(), cart("50.00", "50.00")).points == 0


def test_gift_cards_beyond_the_subtotal_are_no_cart() -> None:
    assert cart_amounts(Decimal("20.00"), Decimal("20.01")) is None


@pytest.mark.parametrize("exclude_gift_cards", [True, False])
def test_the_carts_eligible_amount_is_the_paid_orders(exclude_gift_cards: bool) -> None:
    """The same lines as orders/paid lists them (REST `line_items`, `gift_card`): the cart's
    eligible amount is the order's under either gift-card setting."""
    order = order_amounts({"line_items": [
        {"title": "Tea", "price": "12.25", "quantity": 2, "gift_card": False, "product_id": 1},
        {"title": "Gift card", "price": "50.00", "quantity": 1, "gift_card": True,
         "product_id": 2}]})
    earning = settings(exclude_gift_cards=exclude_gift_cards).earning
    assert cart("74.50", "50.00").eligible(earning) == order.eligible(earning)
