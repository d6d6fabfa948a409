"""Which rewards a member sees and can afford, and what they are called."""

from decimal import Decimal

from app.loyalty.labels import money_label, number_label
from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings
from app.loyalty.reward_kinds import stacking
from app.loyalty.rewards import (
    available_rewards,
    reward_title,
    tier_rank,
    unavailable_reason,
    validate_reward,
)
from app.models import Member, Reward

SETTINGS = ProgramSettings(version=0, data=DEFAULT_SETTINGS)


def _reward(id, cost, title, *, tier=None, active=True, position=0, shop_id=1):
    return Reward(id=id, shop_id=shop_id, title=title, kind="amount_off", cost=cost,
                  value=Decimal(5), tier_required=tier, active=active, position=position)


def _member(points, tier=None):
    return Member(id=7, shop_id=1, points_available=points, tier=tier)


# An amount-off code the merchant did not let combine: it still stacks with a shipping code.
ORDER_CODE = {"class": "order", "combines_with": ["shipping"]}

CATALOG = [
    _reward(1, 400, "Free shipping", position=0),
    _reward(2, 500, "$5 off", position=1),
    _reward(3, 1000, "$10 off", position=2),
    _reward(4, 2500, "Gold $25 off", tier="Gold", position=3),
    _reward(5, 100, "Retired", active=False, position=4),
]


def test_a_member_with_600_points_can_afford_the_first_two_rungs():
    assert available_rewards(_member(600, "Bronze"), SETTINGS, CATALOG) == [
        {"id": 1, "title": "Free shipping", "cost": 400, "affordable": True,
         "stacking": ORDER_CODE},
        {"id": 2, "title": "$5 off", "cost": 500, "affordable": True,
         "stacking": ORDER_CODE},
        {"id": 3, "title": "$10 off", "cost": 1000, "affordable": False,
         "stacking": ORDER_CODE},
    ]


def test_a_gold_member_also_sees_the_gold_reward():
    ids = [r["id"] for r in available_rewards(_member(3000, "Gold"), SETTINGS, CATALOG)]
    assert ids == [1, 2, 3, 4]


def test_a_silver_member_does_not_see_a_gold_reward():
    assert unavailable_reason(_member(3000, "Silver"), SETTINGS, CATALOG[3]) == "tier_required"


def test_a_member_without_a_tier_stands_on_the_entry_tier():
    assert tier_rank(SETTINGS, None) == 0
    assert tier_rank(SETTINGS, "Gold") == 2
    assert unavailable_reason(_member(3000, None), SETTINGS, CATALOG[3]) == "tier_required"


def test_a_reward_for_a_tier_the_merchant_removed_is_available_to_nobody():
    reward = _reward(9, 500, "Platinum", tier="Platinum")
    assert unavailable_reason(_member(3000, "Gold"), SETTINGS, reward) == "unknown_tier"


def test_a_switched_off_reward_and_another_shops_reward_are_unavailable():
    assert unavailable_reason(_member(3000), SETTINGS, CATALOG[4]) == "inactive"
    assert unavailable_reason(_member(3000), SETTINGS, _reward(8, 5, "x", shop_id=2)) == (
        "other_shop")


def test_a_logged_out_visitor_sees_open_rewards_none_affordable():
    assert available_rewards(None, SETTINGS, CATALOG[:2]) == [
        {"id": 1, "title": "Free shipping", "cost": 400, "affordable": False,
         "stacking": ORDER_CODE},
        {"id": 2, "title": "$5 off", "cost": 500, "affordable": False,
         "stacking": ORDER_CODE},
    ]


def test_titles_read_like_a_shopper_expects():
    assert reward_title("amount_off", Decimal(5), "USD") == "$5 off"
    assert reward_title("amount_off", Decimal("7.5"), "EUR") == "€7.50 off"
    assert reward_title("percent_off", Decimal("10.00"), "USD") == "10% off"
    assert reward_title("free_shipping", Decimal(0), "GBP") == "Free shipping"
    assert reward_title("store_credit", Decimal(20), "CHF") == "20 CHF store credit"
    assert money_label(Decimal(25), "gbp") == "£25"


def test_an_invalid_reward_names_each_wrong_field():
    assert validate_reward("gift", 0, "x", "-1", "Platinum", SETTINGS) == {
        "kind": "must be one of amount_off, percent_off, free_shipping, store_credit",
        "cost": "must be a whole number of points from 1 to 10,000,000",
        "value": "must be a number",
        "min_subtotal": "must be 0 or more",
        "tier_required": "must name one of the program's tiers",
    }
    assert validate_reward("percent_off", 500, "150", None, None, SETTINGS) == {
        "value": "must be a percentage above 0 and at most 100"}
    assert validate_reward("store_credit", 500, "5", "0", "Gold", SETTINGS) == {}


def test_a_number_shown_to_a_person_has_no_exponent_and_no_trailing_zeros():
    assert [number_label(Decimal(v)) for v in ("10", "100", "2.0", "1.50", "0.25", "1E+1")] == [
        "10", "100", "2", "1.5", "0.25", "10"]


def test_a_cart_learns_how_each_rewards_code_stacks():
    assert stacking("amount_off", True) == {"class": "order",
                                           "combines_with": ["order", "product", "shipping"]}
    assert stacking("free_shipping", False) == {"class": "shipping", "combines_with": ["order"]}
    # Store credit makes no code: nothing for a cart to apply.
    assert stacking("store_credit", True) is None
