"""Redeeming points through the real Shopify adapter against the local Shopify emulator:
what the shop ends up holding, and how every failure gives the points back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.config import Settings, load_settings
from app.db import Database
from app.loyalty.ledger import ledger_balances, post
from app.loyalty.program import current_settings
from app.loyalty.redemption import cancel_redemption, recover_stuck_redemptions, redeem
from app.loyalty.rewards import create_reward, seed_default_rewards
from app.models import LedgerEntry, Member, Redemption
from app.pipeline.discounts import ShopifyDiscountIssuer, discount_issuer_for
from app.shopify.tokens import cipher_for, store_grant
from devstore import ShopifyEmulator
from tests.conftest import app_config
from tests.support.discount_issuer import SimulatedCrash
from tests.support.factories import make_member
from tests.support.installed import grant_of

SHOP = "redeem-demo.myshopify.com"
CUSTOMER_ID = 7_310_627_314_723_954
CUSTOMER = f"gid://shopify/Customer/{CUSTOMER_ID}"
NOW = datetime(2026, 11, 27, 10, 0, 0)
# shopify.app.toml's scopes plus read_store_credit_accounts, which finding a store credit
# again needs (Customer.storeCreditAccounts); shopify.app.toml does not request it yet.
SCOPES = ("read_orders,read_customers,write_customers,write_discounts,write_app_proxy,"
          "write_store_credit_account_transactions,read_store_credit_accounts")
# AdminClient's attempts per call: one more failure than this would reach the next call.
ADMIN_ATTEMPTS = 5



class Installed:
    """A shop installed in the emulator and in our database, with one member."""

    def __init__(self, db: Database, emulator: ShopifyEmulator, settings: Settings,
                 shop_id: int, member_id: int, rewards: dict[str, int]) -> None:
        self.db, self.emulator, self.settings = db, emulator, settings
        self.shop_id, self.member_id, self.rewards = shop_id, member_id, rewards

    @property
    def shopify(self) -> Any:
        """What the emulated shop holds."""
        return self.emulator.shop(SHOP)

    def redeem(self, reward: str, now: datetime = NOW, **kwargs: Any) -> Redemption:
        """Redeem a reward by title through the Shopify adapter."""
        with discount_issuer_for(self.db, self.shop_id, self.settings, now) as issuer:
            return redeem(self.db, self.shop_id, self.member_id, self.rewards[reward], issuer,
                          now, **kwargs)

    def add_reward(self, **attrs: Any) -> None:
        """A reward the merchant added, known by its title."""
        with self.db.transaction() as s:
            from app.models import Shop

            shop = s.get(Shop, self.shop_id)
            reward = create_reward(s, shop, current_settings(s, self.shop_id), now=NOW, **attrs)
            self.rewards[reward.title] = reward.id

    def points(self, now: datetime = NOW) -> tuple[int, list[tuple[str, int]]]:
        """Available points and the ledger, after checking the cache equals the ledger."""
        with self.db.sessions() as s:
            member = s.get(Member, self.member_id)
            sums = ledger_balances(s, self.member_id, now)
            assert (member.points_available, member.points_pending, member.points_lifetime) == (
                sums.available, sums.pending, sums.lifetime)
            ledger = [(e.kind, e.points) for e in s.execute(
                select(LedgerEntry).where(LedgerEntry.member_id == self.member_id)
                .order_by(LedgerEntry.id)).scalars()]
            return member.points_available, ledger

    def redemptions(self) -> list[Redemption]:
        """The member's redemptions, oldest first."""
        with self.db.sessions() as s:
            return list(s.execute(select(Redemption).where(
                Redemption.member_id == self.member_id).order_by(Redemption.id)).scalars())


@pytest.fixture
def installed(db: Database, emulator: ShopifyEmulator) -> Iterator[Installed]:
    """The emulator's shop with our app's token stored, the default catalog, 1,000 points."""
    emulator.clock = lambda: NOW.replace(tzinfo=UTC).timestamp()
    emulator.add_shop(SHOP, currency="USD")
    emulator.shop(SHOP).add_customer(CUSTOMER_ID, email="ada@example.com", first_name="Ada")
    issued = emulator.issue_access_token(SHOP, scope=SCOPES)
    settings = load_settings({}, app_config(db, shopify_admin_base=emulator.base_url))
    grant = grant_of(issued)
    with db.transaction() as s:
        shop, _ = store_grant(s, SHOP, grant, NOW, cipher_for(settings))
        rewards = {r.title: r.id for r in seed_default_rewards(s, shop, NOW)}
        member = make_member(s, shop, customer_id=CUSTOMER_ID, now=NOW)
        post(s, member, points=1000, kind="adjust", source_key="start", now=NOW)
        shop_id, member_id = shop.id, member.id
    yield Installed(db, emulator, settings, shop_id, member_id, rewards)


def test_a_redeemed_reward_is_a_single_use_discount_for_that_customer_in_shopify(installed):
    redemption = installed.redeem("$5 off")
    assert (redemption.status, redemption.points, redemption.error) == ("issued", 500, None)
    [discount] = installed.shopify.discounts.values()
    assert redemption.shopify_discount_id == discount.gid
    assert (discount.code, discount.kind) == (redemption.code, "basic")
    assert discount.title == "Loyalty reward: $5 off (500 points)"
    assert discount.customer_ids == [CUSTOMER]
    assert discount.value == {"amount": "5.00", "appliesOnEachItem": False}
    assert (discount.minimum_subtotal, discount.usage_limit,
            discount.applies_once_per_customer) == ("10.00", 1, True)
    assert discount.combines_with == {"orderDiscounts": False, "productDiscounts": False,
                                      "shippingDiscounts": True}
    assert installed.points() == (500, [("adjust", 1000), ("redeem", -500)])


def test_a_mutation_refused_by_shopify_gives_the_points_back(installed):
    installed.emulator.fail_next("discountCodeBasicCreate", "user_error")
    redemption = installed.redeem("$5 off")
    assert redemption.status == "failed"
    assert redemption.error == ("ShopifyUserError: INTERNAL_ERROR: "
                                "Emulated failure: the mutation could not be completed.")
    assert installed.shopify.discounts == {}
    assert installed.points() == (1000, [("adjust", 1000), ("redeem", -500),
                                         ("redeem_refund", 500)])


def test_shopify_down_beyond_every_retry_gives_the_points_back(installed):
    installed.emulator.fail_next("discountCodeBasicCreate", "http_503", times=ADMIN_ATTEMPTS,
                                 retry_after=0)
    redemption = installed.redeem("$5 off")
    assert (redemption.status, redemption.error) == (
        "failed", "ShopifyUnavailable: http_error_503: gave up after 5 attempts")
    # Before refunding it asked whether the code exists after all (an answer may be lost).
    outcomes = [(c.root_fields, c.status) for c in installed.shopify.calls]
    assert outcomes == [(["discountCodeBasicCreate"], 503)] * ADMIN_ATTEMPTS + [
        (["codeDiscountNodeByCode"], 200)]
    assert installed.shopify.discounts == {}
    assert installed.points() == (1000, [("adjust", 1000), ("redeem", -500),
                                         ("redeem_refund", 500)])


def test_a_store_credit_reward_credits_the_customers_store_credit_account(installed):
    installed.add_reward(kind="store_credit", cost=1000, value="10")
    redemption = installed.redeem("$10 store credit")
    assert redemption.status == "issued"
    assert installed.shopify.store_credit_balance(CUSTOMER) == Decimal("10.00")
    [account] = installed.shopify.store_credit.values()
    [credit] = account.transactions
    assert redemption.shopify_discount_id == (
        f"gid://shopify/StoreCreditAccountCreditTransaction/{credit.id}")
    assert installed.shopify.discounts == {}
    assert installed.points() == (0, [("adjust", 1000), ("redeem", -1000)])


def test_free_shipping_is_a_shipping_discount_that_stacks_with_order_rewards(installed):
    redemption = installed.redeem("Free shipping")
    discount = installed.shopify.discount(redemption.code)
    assert (redemption.status, discount.kind, discount.gid) == (
        "issued", "free_shipping", redemption.shopify_discount_id)
    assert (discount.customer_ids, discount.minimum_subtotal, discount.usage_limit) == (
        [CUSTOMER], None, 1)
    assert discount.combines_with == {"orderDiscounts": True, "productDiscounts": True,
                                      "shippingDiscounts": False}
    assert installed.points() == (600, [("adjust", 1000), ("redeem", -400)])


def test_two_rewards_spend_exactly_the_1000_points_and_a_third_is_refused(installed):
    from app.loyalty.redemption import InsufficientPoints

    first = installed.redeem("$5 off")
    second = installed.redeem("$5 off")
    with pytest.raises(InsufficientPoints):
        installed.redeem("$5 off")
    assert {first.code, second.code} == set(installed.shopify.discounts)
    assert installed.points() == (0, [("adjust", 1000), ("redeem", -500), ("redeem", -500)])


def test_a_double_click_makes_one_discount_in_shopify(installed):
    first = installed.redeem("$5 off", request_key="click-1")
    again = installed.redeem("$5 off", request_key="click-1")
    assert again.id == first.id
    assert list(installed.shopify.discounts) == [first.code]
    assert installed.points()[0] == 500


class DiesAfterShopifyAnswers:
    """The worker dies right after Shopify made the code or credit, before we record it."""

    def __init__(self, shopify: ShopifyDiscountIssuer) -> None:
        self.shopify = shopify

    def create_basic_discount(self, **args: Any) -> str:
        self.shopify.create_basic_discount(**args)
        raise SimulatedCrash

    def credit_store_credit(self, **args: Any) -> str:
        self.shopify.credit_store_credit(**args)
        raise SimulatedCrash


def test_a_crash_after_shopify_made_the_code_is_recovered_without_a_second_code(installed):
    with discount_issuer_for(installed.db, installed.shop_id, installed.settings, NOW) as real:
        with pytest.raises(SimulatedCrash):
            redeem(installed.db, installed.shop_id, installed.member_id,
                   installed.rewards["$5 off"], DiesAfterShopifyAnswers(real), NOW)
    [stuck] = installed.redemptions()
    assert stuck.status == "pending"
    later = NOW + timedelta(minutes=15)
    with discount_issuer_for(installed.db, installed.shop_id, installed.settings, later) as real:
        [recovered] = recover_stuck_redemptions(installed.db, installed.shop_id, real, later,
                                                older_than=timedelta(minutes=10))
    [discount] = installed.shopify.discounts.values()
    assert (recovered.status, recovered.shopify_discount_id) == ("issued", discount.gid)
    assert installed.shopify.calls_to("discountCodeBasicCreate")[-1].status == 200
    assert len(installed.shopify.calls_to("discountCodeBasicCreate")) == 1
    assert installed.points(later) == (500, [("adjust", 1000), ("redeem", -500)])


def test_a_crash_after_the_store_credit_is_recovered_without_crediting_twice(installed):
    installed.add_reward(kind="store_credit", cost=1000, value="10")
    with discount_issuer_for(installed.db, installed.shop_id, installed.settings, NOW) as real:
        with pytest.raises(SimulatedCrash):
            redeem(installed.db, installed.shop_id, installed.member_id,
                   installed.rewards["$10 store credit"], DiesAfterShopifyAnswers(real), NOW)
    later = NOW + timedelta(minutes=15)
    with discount_issuer_for(installed.db, installed.shop_id, installed.settings, later) as real:
        [recovered] = recover_stuck_redemptions(installed.db, installed.shop_id, real, later,
                                                older_than=timedelta(minutes=10))
    [account] = installed.shopify.store_credit.values()
    [credit] = account.transactions
    assert (recovered.status, recovered.shopify_discount_id) == (
        "issued", f"gid://shopify/StoreCreditAccountCreditTransaction/{credit.id}")
    assert installed.shopify.store_credit_balance(CUSTOMER) == Decimal("10.00")
    assert installed.points(later) == (0, [("adjust", 1000), ("redeem", -1000)])


def test_cancelling_an_unused_reward_deletes_its_code_and_returns_the_points(installed):
    redemption = installed.redeem("$10 off")
    later = NOW + timedelta(days=2)
    with discount_issuer_for(installed.db, installed.shop_id, installed.settings, later) as real:
        entry = cancel_redemption(installed.db, installed.shop_id, redemption.id, real, later,
                                  actor="staff:1")
    assert (entry.kind, entry.points, entry.actor) == ("redeem_refund", 1000, "staff:1")
    assert installed.shopify.discounts == {}
    assert [r.status for r in installed.redemptions()] == ["refunded"]
    assert installed.points(later) == (1000, [("adjust", 1000), ("redeem", -1000),
                                              ("redeem_refund", 1000)])


def test_no_issuer_for_an_unknown_or_uninstalled_shop(installed):
    from app.models import Shop
    from app.shopify.tokens import TokenUnavailable

    with pytest.raises(TokenUnavailable) as unknown:
        with discount_issuer_for(installed.db, installed.shop_id + 1000, installed.settings, NOW):
            pass
    with installed.db.transaction() as s:
        s.get(Shop, installed.shop_id).uninstalled_at = NOW
    with pytest.raises(TokenUnavailable) as uninstalled:
        with discount_issuer_for(installed.db, installed.shop_id, installed.settings, NOW):
            pass
    assert (unknown.value.code, uninstalled.value.code) == ("unknown_shop", "shop_not_installed")
    assert installed.shopify.calls == []
