"""Every shop starts with the default ladder, once; merchants add rewards of any kind."""

from dataclasses import replace
from decimal import Decimal

import pytest

from app.loyalty.program import current_settings
from app.loyalty.rewards import RewardError, create_reward, seed_default_rewards, shop_rewards
from app.shopify.graphql import ShopDetails
from app.shopify.shops import record_shop_details
from tests.support.factories import T0, make_shop


def test_the_default_catalog_is_the_features_ladder(db):
    with db.transaction() as s:
        shop = make_shop(s)
        seed_default_rewards(s, shop, T0)
        catalog = [(r.title, r.kind, r.cost, r.value, r.min_subtotal, r.tier_required,
                    r.combines, r.active) for r in shop_rewards(s, shop.id)]
    assert catalog == [
        ("Free shipping", "free_shipping", 400, Decimal(0), None, None, True, True),
        ("$5 off", "amount_off", 500, Decimal(5), Decimal(10), None, False, True),
        ("$10 off", "amount_off", 1000, Decimal(10), Decimal(20), None, False, True),
        ("$25 off", "amount_off", 2500, Decimal(25), Decimal(50), None, False, True),
    ]


def test_seeding_twice_keeps_one_catalog(db):
    with db.transaction() as s:
        shop = make_shop(s)
        first = seed_default_rewards(s, shop, T0)
        again = seed_default_rewards(s, shop, T0)
        assert [r.id for r in again] == [r.id for r in first]
        assert len(shop_rewards(s, shop.id, active_only=False)) == 4


def euro_details(shop):
    """The Admin API's answer for a shop priced in euros."""
    return ShopDetails(id="gid://shopify/Shop/1", name="Boutique", email=None,
                       domain=shop.domain, currency="EUR", timezone="Europe/Paris")


def test_default_rewards_seeded_before_the_currency_is_known_follow_it(db):
    with db.transaction() as s:
        shop = make_shop(s)
        seed_default_rewards(s, shop, T0)
        assert record_shop_details(s, shop.domain, euro_details(shop))
        titles = [r.title for r in shop_rewards(s, shop.id)]
    assert titles == ["Free shipping", "€5 off", "€10 off", "€25 off"]


def test_a_reward_the_merchant_renamed_keeps_its_title_when_the_currency_changes(db):
    with db.transaction() as s:
        shop = make_shop(s)
        five, ten = seed_default_rewards(s, shop, T0)[1:3]
        five.title = "A little thank-you"
        custom = create_reward(s, shop, current_settings(s, shop.id), kind="store_credit",
                               cost=700, value="7", now=T0)
        record_shop_details(s, shop.domain, euro_details(shop))
        assert (five.title, ten.title, custom.title) == (
            "A little thank-you", "€10 off", "€7 store credit")
        # And back again: still the app's titles, so they follow once more.
        record_shop_details(s, shop.domain, replace(euro_details(shop), currency="CHF"))
        assert (five.title, ten.title, custom.title) == (
            "A little thank-you", "10 CHF off", "7 CHF store credit")


def test_a_shop_in_euros_gets_euro_titles(db):
    with db.transaction() as s:
        shop = make_shop(s)
        shop.currency = "EUR"
        titles = [r.title for r in seed_default_rewards(s, shop, T0)]
    assert titles == ["Free shipping", "€5 off", "€10 off", "€25 off"]


def test_a_merchant_adds_a_store_credit_reward_for_gold_members(db):
    with db.transaction() as s:
        shop = make_shop(s)
        seed_default_rewards(s, shop, T0)
        reward = create_reward(s, shop, current_settings(s, shop.id), kind="store_credit",
                               cost=1800, value="20", tier_required="Gold", now=T0)
        assert (reward.title, reward.value, reward.position, reward.tier_required) == (
            "$20 store credit", Decimal(20), 4, "Gold")


def test_a_reward_with_a_bad_value_is_not_saved(db):
    with db.transaction() as s:
        shop = make_shop(s)
        with pytest.raises(RewardError) as excinfo:
            create_reward(s, shop, current_settings(s, shop.id), kind="amount_off", cost=500,
                          value="0", now=T0)
        assert excinfo.value.errors == {"value": "must be more than 0"}
        assert shop_rewards(s, shop.id) == []
