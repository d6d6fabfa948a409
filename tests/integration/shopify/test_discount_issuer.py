"""ShopifyDiscountIssuer against the local Shopify emulator over HTTP: what each port call
leaves in the shop, and how lookups and deletions answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.config import load_settings
from app.loyalty.redemption import CombinesWith
from app.shopify.discounts import ShopifyDiscountIssuer
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, CostBucket, ShopifyUnavailable, ShopifyUserError
from devstore import ShopifyEmulator
from tests.conftest import TEST_API_KEY, TEST_API_SECRET

SHOP = "issuer-demo.myshopify.com"
CUSTOMER_ID = 7_310_627_314_723_954
CUSTOMER = f"gid://shopify/Customer/{CUSTOMER_ID}"
# The emulator's clock and ours, both at the same fixed instant.
START = datetime(2026, 11, 27, 10, 0, 0)
# The scopes the adapter needs: shopify.app.toml's plus read_store_credit_accounts.
SCOPES = ("read_orders,read_customers,write_customers,write_discounts,write_app_proxy,"
          "write_store_credit_account_transactions,read_store_credit_accounts")
ORDER_ONLY = CombinesWith(order_discounts=False, product_discounts=False,
                          shipping_discounts=True)


class Clock:
    """The emulator's wall clock, moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start.replace(tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta.total_seconds()


@pytest.fixture
def clock(emulator: ShopifyEmulator) -> Clock:
    emulator.clock = clock = Clock(START)
    return clock


@pytest.fixture
def issuer(emulator: ShopifyEmulator, clock: Clock) -> Iterator[ShopifyDiscountIssuer]:
    """An issuer for a shop installed in the emulator, with a customer."""
    emulator.add_shop(SHOP, currency="USD")
    emulator.shop(SHOP).add_customer(CUSTOMER_ID, email="ada@example.com")
    token = emulator.issue_access_token(SHOP, scope=SCOPES).access_token
    settings = load_settings({}, {"shopify_api_key": TEST_API_KEY,
                                  "shopify_api_secret": TEST_API_SECRET,
                                  "shopify_admin_base": emulator.base_url})
    with shop_http_client(settings) as http:
        yield ShopifyDiscountIssuer(AdminClient(SHOP, token, settings=settings, http=http,
                                                sleep=lambda _s: None, bucket=CostBucket()))


def basic(issuer: ShopifyDiscountIssuer, code: str = "LOYAL-ABCDE-FGHJK", **overrides) -> str:
    """Create a $5-off code for the customer, with overrides."""
    args = {"title": "Loyalty reward: $5 off (500 points)", "code": code,
            "customer_gid": CUSTOMER, "starts_at": START, "ends_at": None,
            "amount": Decimal(5), "percentage": None, "min_subtotal": Decimal(10),
            "combines_with": ORDER_ONLY, "usage_limit": 1, "applies_once_per_customer": True,
            **overrides}
    return issuer.create_basic_discount(**args)


def test_an_amount_off_is_a_single_use_code_for_one_customer(issuer, emulator):
    node_id = basic(issuer)
    discount = emulator.shop(SHOP).discount("LOYAL-ABCDE-FGHJK")
    assert node_id == discount.gid
    assert (discount.kind, discount.title) == ("basic", "Loyalty reward: $5 off (500 points)")
    assert discount.customer_ids == [CUSTOMER]
    assert discount.value == {"amount": "5.00", "appliesOnEachItem": False}
    assert (discount.minimum_subtotal, discount.usage_limit,
            discount.applies_once_per_customer) == ("10.00", 1, True)
    assert discount.combines_with == {"orderDiscounts": False, "productDiscounts": False,
                                      "shippingDiscounts": True}
    assert (discount.starts_at, discount.ends_at) == ("2026-11-27T10:00:00Z", None)


def test_a_percentage_goes_to_shopify_as_a_fraction(issuer, emulator):
    basic(issuer, amount=None, percentage=Decimal("0.15"), min_subtotal=None)
    discount = emulator.shop(SHOP).discount("LOYAL-ABCDE-FGHJK")
    assert discount.value == {"percentage": 0.15}
    assert discount.minimum_subtotal is None


def test_a_code_for_anyone_has_no_customer_restriction(issuer, emulator):
    basic(issuer, customer_gid=None, usage_limit=None, applies_once_per_customer=False)
    discount = emulator.shop(SHOP).discount("LOYAL-ABCDE-FGHJK")
    assert (discount.customer_ids, discount.usage_limit,
            discount.applies_once_per_customer) == (None, None, False)
    assert discount.raw_input["context"] == {"all": "ALL"}


def test_free_shipping_is_a_shipping_code_that_stacks_with_order_rewards(issuer, emulator):
    node_id = issuer.create_free_shipping_discount(
        title="Loyalty reward: Free shipping (400 points)", code="LOYAL-SHIPS-FREE2",
        customer_gid=CUSTOMER, starts_at=START, ends_at=None, min_subtotal=None,
        combines_with=CombinesWith(order_discounts=True, product_discounts=True,
                                   shipping_discounts=False),
        usage_limit=1, applies_once_per_customer=True)
    discount = emulator.shop(SHOP).discount("LOYAL-SHIPS-FREE2")
    assert (node_id, discount.kind, discount.customer_ids) == (
        discount.gid, "free_shipping", [CUSTOMER])
    assert discount.combines_with == {"orderDiscounts": True, "productDiscounts": True,
                                      "shippingDiscounts": False}
    assert discount.raw_input["destination"] == {"all": True}


def test_a_taken_code_is_refused_with_shopifys_user_error(issuer):
    basic(issuer)
    with pytest.raises(ShopifyUserError) as caught:
        basic(issuer, code="loyal-abcde-fghjk")
    assert (caught.value.code, caught.value.field) == (
        "TAKEN", ("basicCodeDiscount", "code"))


def test_a_discount_is_found_by_its_code_in_any_case(issuer):
    node_id = basic(issuer)
    assert issuer.find_discount("loyal-abcde-fghjk") == node_id
    assert issuer.find_discount("LOYAL-NOT-THERE") is None


def test_voiding_deletes_the_code_and_voiding_again_changes_nothing(issuer, emulator):
    node_id = basic(issuer)
    issuer.void_discount(node_id)
    assert emulator.shop(SHOP).discounts == {}
    assert issuer.find_discount("LOYAL-ABCDE-FGHJK") is None
    issuer.void_discount(node_id)
    assert [c.root_fields[0] for c in emulator.shop(SHOP).calls][-2:] == [
        "discountCodeDelete", "discountNode"]


def test_a_refused_deletion_of_a_live_code_is_an_error(issuer, emulator):
    node_id = basic(issuer)
    emulator.fail_next("discountCodeDelete", "user_error")
    with pytest.raises(ShopifyUserError):
        issuer.void_discount(node_id)
    assert emulator.shop(SHOP).discount("LOYAL-ABCDE-FGHJK").gid == node_id


def test_store_credit_lands_in_the_customers_account_and_can_be_found_again(
        issuer, emulator, clock):
    transaction_id = issuer.credit_store_credit(customer_gid=CUSTOMER, amount=Decimal(20),
                                                currency="USD")
    assert transaction_id.startswith("gid://shopify/StoreCreditAccountCreditTransaction/")
    assert emulator.shop(SHOP).store_credit_balance(CUSTOMER) == Decimal("20.00")
    clock.advance(timedelta(minutes=1))
    issuer.credit_store_credit(customer_gid=CUSTOMER, amount=Decimal(5), currency="USD")
    found = issuer.find_store_credit(customer_gid=CUSTOMER, amount=Decimal("20.00"),
                                     currency="USD", since=START)
    assert found == transaction_id


def test_a_store_credit_lookup_matches_amount_currency_and_time(issuer, clock):
    issuer.credit_store_credit(customer_gid=CUSTOMER, amount=Decimal(20), currency="USD")
    assert issuer.find_store_credit(customer_gid=CUSTOMER, amount=Decimal(25), currency="USD",
                                    since=START) is None
    assert issuer.find_store_credit(customer_gid=CUSTOMER, amount=Decimal(20), currency="EUR",
                                    since=START) is None
    # Shopify's clock may run a little behind ours: a credit within the skew still counts.
    assert issuer.find_store_credit(customer_gid=CUSTOMER, amount=Decimal(20), currency="USD",
                                    since=START + timedelta(minutes=1)) is not None
    assert issuer.find_store_credit(customer_gid=CUSTOMER, amount=Decimal(20), currency="USD",
                                    since=START + timedelta(minutes=3)) is None


def test_a_customer_without_store_credit_has_nothing_to_find(issuer):
    assert issuer.find_store_credit(customer_gid=CUSTOMER, amount=Decimal(20), currency="USD",
                                    since=START) is None


def test_shopify_down_beyond_the_retries_is_unavailable(issuer, emulator):
    emulator.fail_next("discountCodeBasicCreate", "http_503", times=5)
    with pytest.raises(ShopifyUnavailable) as caught:
        basic(issuer)
    assert caught.value.code == "http_error_503"
    assert emulator.shop(SHOP).discounts == {}
