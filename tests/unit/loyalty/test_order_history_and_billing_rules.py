"""The backfill's and billing's plain rules: the readable window, JSONL lines grouped into
orders, plan choices and billing periods."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from app.loyalty.backfill import readable_window
from app.loyalty.billing import BillingRefused, choose, period_containing
from app.loyalty.order_history import grouped_orders

ORDER = "gid://shopify/Order/{}"


def _order(number: int, **extra: object) -> dict:
    return {"id": ORDER.format(number), "displayFinancialStatus": "PAID",
            "subtotalPriceSet": {"shopMoney": {"amount": "50.00"}}, **extra}


def _item(number: int, parent: int, amount: str, gift: bool = False) -> dict:
    return {"id": f"gid://shopify/LineItem/{number}", "isGiftCard": gift,
            "discountedTotalSet": {"shopMoney": {"amount": amount}},
            "__parentId": ORDER.format(parent)}


def test_the_window_is_capped_at_60_days_without_read_all_orders_and_says_why():
    assert readable_window(365, "read_orders,read_all_orders").days == 365
    capped = readable_window(365, "read_orders")
    assert capped.days == 60 and "read_all_orders" in capped.capped_reason
    assert readable_window(30, "read_orders").capped_reason is None


def test_lines_group_into_orders_with_their_line_items_and_the_cursor_of_their_last_line():
    lines = list(enumerate([_order(1), _item(11, 1, "25.00", gift=True), _item(12, 1, "25.00"),
                            _order(2), _order(3), _item(31, 3, "5.00")], start=1))

    grouped = list(grouped_orders(lines))

    assert [(last, order.shopify_order_id) for last, order in grouped] == [(3, 1), (4, 2),
                                                                          (6, 3)]
    first = grouped[0][1]
    # The gift card is taken out of the goods, as a live order's would be.
    assert (first.amounts.goods, first.amounts.gift_cards) == (Decimal("25.00"),
                                                               Decimal("25.00"))


def test_a_line_item_of_another_parent_is_not_counted_for_the_order_before_it():
    lines = list(enumerate([_order(1), _item(21, 2, "30.00", gift=True)], start=1))
    [(last, order)] = list(grouped_orders(lines))
    assert (last, order.amounts.gift_cards) == (2, Decimal(0))


def test_periods_are_30_days_counted_from_the_anchor():
    anchor = datetime(2026, 11, 1, 12, 0)
    assert period_containing(anchor, anchor + timedelta(days=31)) == (
        anchor + timedelta(days=30), anchor + timedelta(days=60))
    assert period_containing(anchor, anchor)[0] == anchor


@pytest.mark.parametrize("plan, cap, field", [
    ("free", None, "plan"), (None, None, "plan"), ("growth", "0.99", "capped_amount"),
    ("growth", "1000.01", "capped_amount"), ("growth", "NaN", "capped_amount"),
    ("growth", True, "capped_amount")])
def test_a_plan_choice_that_cannot_be_asked_for_names_its_field(plan, cap, field):
    with pytest.raises(BillingRefused) as refused:
        choose(plan, cap)
    assert refused.value.field == field


def test_growth_takes_the_default_cap_unless_the_merchant_sets_one():
    assert choose("growth", None)[1] == Decimal("50.00")
    assert choose("growth", "75.5")[1] == Decimal("75.50")
