"""Holdout assignment: a keyed hash, sticky, reproducible, and the share it promises."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.loyalty.holdout import (
    CONTROL,
    PROGRAM,
    HoldoutError,
    assignment_columns,
    assignment_draw,
    group_for,
    is_held_out,
    start,
)
from app.models import Member, Shop

KEY = "3f" * 32
NOW = datetime(2026, 12, 5, 12, 0)


def test_ten_percent_of_ten_thousand_customers_are_held_out_within_tolerance():
    groups = [group_for(KEY, "tea.myshopify.com", 7_000_000_000 + i, 10) for i in range(10_000)]
    control = groups.count(CONTROL)
    # Binomial(10,000, 0.1): standard deviation 30; four of them either side.
    assert 880 <= control <= 1120
    assert set(groups) == {CONTROL, PROGRAM}


@pytest.mark.parametrize("share", [1, 25, 50])
def test_any_share_is_kept_within_tolerance(share):
    groups = [group_for(KEY, "tea.myshopify.com", i, share) for i in range(10_000)]
    sd = (10_000 * share / 100 * (1 - share / 100)) ** 0.5
    assert abs(groups.count(CONTROL) - 100 * share) <= 4 * sd


def test_the_assignment_is_sticky_and_reproducible_from_the_key():
    first = [group_for(KEY, "tea.myshopify.com", i, 10) for i in range(2_000)]
    again = [group_for(KEY, "tea.myshopify.com", i, 10) for i in range(2_000)]
    assert first == again
    # Another key or another shop draws other customers.
    assert first != [group_for("00" * 32, "tea.myshopify.com", i, 10) for i in range(2_000)]
    assert first != [group_for(KEY, "coffee.myshopify.com", i, 10) for i in range(2_000)]


def test_the_draw_is_the_hmac_sha256_of_shop_and_customer_read_as_a_fraction():
    import hashlib
    import hmac

    digest = hmac.new(KEY.encode(), b"tea.myshopify.com|42", hashlib.sha256).digest()
    assert assignment_draw(KEY, "tea.myshopify.com", 42) == int.from_bytes(
        digest[:8], "big") / 2**64


def test_a_larger_share_holds_out_everyone_a_smaller_one_did():
    small = {i for i in range(5_000) if group_for(KEY, "tea.myshopify.com", i, 5) == CONTROL}
    large = {i for i in range(5_000) if group_for(KEY, "tea.myshopify.com", i, 20) == CONTROL}
    assert small < large


def test_new_members_are_assigned_only_while_a_holdout_runs_and_only_customers():
    shop = Shop(domain="tea.myshopify.com", holdout_share=0)
    assert assignment_columns(shop, 42, NOW) == {}
    start(shop, 10, NOW)
    columns = assignment_columns(shop, 42, NOW)
    assert columns == {"holdout_group": group_for(shop.holdout_key, shop.domain, 42, 10),
                       "holdout_assigned_at": NOW}
    assert assignment_columns(shop, None, NOW) == {}


def test_each_holdout_gets_its_own_key_and_a_share_is_checked():
    shop = Shop(domain="tea.myshopify.com", holdout_share=0)
    with pytest.raises(HoldoutError):
        start(shop, 0, NOW)
    with pytest.raises(HoldoutError):
        start(shop, 51, NOW)
    with pytest.raises(HoldoutError):
        start(shop, True, NOW)
    start(shop, 10, NOW)
    assert len(shop.holdout_key) == 64 and shop.holdout_started_at == NOW
    with pytest.raises(HoldoutError):
        start(shop, 10, NOW)


def test_only_an_unreleased_control_member_is_held_out():
    assert is_held_out(Member(holdout_group=CONTROL))
    assert not is_held_out(Member(holdout_group=CONTROL, holdout_released_at=NOW))
    assert not is_held_out(Member(holdout_group=PROGRAM))
    assert not is_held_out(Member())
    assert not is_held_out(None)
