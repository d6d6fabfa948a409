"""The Admin GraphQL client: exact operation shapes, retries, the cost bucket, userErrors."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.config import API_VERSION, load_settings
from app.shopify.graphql import (
    AdminClient,
    CombinesWith,
    CostBucket,
    MetafieldInput,
    ShopifyRequestError,
    ShopifyUnauthorized,
    ShopifyUnavailable,
    ShopifyUserError,
)
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.support.shopify_fakes import SHOP, FakeShopify, cost, shop_reply

SETTINGS = load_settings({}, {"shopify_api_key": TEST_API_KEY,
                              "shopify_api_secret": TEST_API_SECRET})
THROTTLED = {"errors": [{"message": "Throttled", "extensions": {
    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]}


class Harness:
    """A client on a fake Shopify with a recorded sleep and a frozen clock."""

    def __init__(self, settings: Any = SETTINGS) -> None:
        self.fake = FakeShopify()
        self.token = self.fake.grant(SHOP)["access_token"]
        self.sleeps: list[float] = []
        self.now = 1000.0
        self.http = self.fake.client()
        self.bucket = CostBucket()
        self.client = AdminClient(SHOP, self.token, settings=settings, http=self.http,
                                  sleep=self.sleep, clock=lambda: self.now,
                                  bucket=self.bucket)

    def sleep(self, seconds: float) -> None:
        """Time passes only when the client sleeps."""
        self.sleeps.append(seconds)
        self.now += seconds

    def last_variables(self) -> dict[str, Any]:
        """Variables of the last GraphQL call."""
        return self.fake.calls_to("graphql")[-1]["variables"]


@pytest.fixture
def h() -> Any:
    harness = Harness()
    yield harness
    harness.http.close()


def mutation_reply(root: str, payload: dict[str, Any], requested: float = 10,
                   available: float = 1990) -> Any:
    """A fake answer for a mutation."""
    return lambda _v, _s: {"data": {root: payload}, "extensions": cost(requested, available)}


def test_shop_details_come_from_the_pinned_api_version_with_our_token(h: Harness) -> None:
    h.fake.graphql["shop"] = shop_reply("Demo Shop")
    details = h.client.shop_details()
    call = h.fake.calls_to("graphql")[0]
    assert (details.name, details.currency, details.timezone) == ("Demo Shop", "EUR",
                                                                   "Europe/Berlin")
    assert (call["path"], call["token"]) == (f"/admin/api/{API_VERSION}/graphql.json", h.token)


def test_a_basic_discount_is_a_single_use_amount_off_for_one_customer(h: Harness) -> None:
    h.fake.graphql["discountCodeBasicCreate"] = mutation_reply(
        "discountCodeBasicCreate",
        {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []})
    created = h.client.create_basic_discount(
        code="LOYAL-7F3K9Q", title="Reward 500 pts", customer_id=115310627314723954,
        starts_at=datetime(2026, 9, 1), amount=Decimal("5"),
        minimum_subtotal=Decimal("25"),
        combines_with=CombinesWith(shipping_discounts=True))
    assert (created.id, created.code) == ("gid://shopify/DiscountCodeNode/1", "LOYAL-7F3K9Q")
    assert h.last_variables() == {"basicCodeDiscount": {
        "title": "Reward 500 pts", "code": "LOYAL-7F3K9Q", "startsAt": "2026-09-01T00:00:00Z",
        "endsAt": None,
        "context": {"customers": {"add": ["gid://shopify/Customer/115310627314723954"]}},
        "customerGets": {"value": {"discountAmount": {"amount": "5.00",
                                                      "appliesOnEachItem": False}},
                         "items": {"all": True}},
        "appliesOncePerCustomer": True, "usageLimit": 1,
        "combinesWith": {"orderDiscounts": False, "productDiscounts": False,
                         "shippingDiscounts": True},
        "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "25.00"}}}}


def test_a_percentage_discount_sends_the_fraction(h: Harness) -> None:
    h.fake.graphql["discountCodeBasicCreate"] = mutation_reply(
        "discountCodeBasicCreate",
        {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/2"}, "userErrors": []})
    h.client.create_basic_discount(code="TEN", title="10% off", customer_id=1,
                                   starts_at=datetime(2026, 9, 1), percentage=Decimal("0.10"))
    assert h.last_variables()["basicCodeDiscount"]["customerGets"]["value"] == {
        "percentage": 0.1}
    assert "minimumRequirement" not in h.last_variables()["basicCodeDiscount"]


@pytest.mark.parametrize("kwargs", [{}, {"amount": Decimal(5), "percentage": Decimal("0.1")},
                                    {"percentage": Decimal(10)}, {"amount": Decimal(0)}])
def test_a_discount_value_must_be_exactly_one_sensible_amount_or_fraction(
        h: Harness, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        h.client.create_basic_discount(code="X", title="X", customer_id=1,
                                       starts_at=datetime(2026, 9, 1), **kwargs)
    assert h.fake.calls_to("graphql") == []


def test_a_taken_code_becomes_a_typed_user_error(h: Harness) -> None:
    h.fake.graphql["discountCodeBasicCreate"] = mutation_reply("discountCodeBasicCreate", {
        "codeDiscountNode": None, "userErrors": [{
            "field": ["basicCodeDiscount", "code"], "code": "TAKEN",
            "message": "Code must be unique. Please try a different code."}]})
    with pytest.raises(ShopifyUserError) as caught:
        h.client.create_basic_discount(code="DUP", title="X", customer_id=1,
                                       starts_at=datetime(2026, 9, 1), amount=Decimal(5))
    assert (caught.value.field, caught.value.code, caught.value.message) == (
        ("basicCodeDiscount", "code"), "TAKEN",
        "Code must be unique. Please try a different code.")


def test_a_free_shipping_code_ships_everywhere_for_one_customer(h: Harness) -> None:
    h.fake.graphql["discountCodeFreeShippingCreate"] = mutation_reply(
        "discountCodeFreeShippingCreate",
        {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/3"}, "userErrors": []})
    created = h.client.create_free_shipping_discount(
        code="SHIPFREE", title="Free shipping", customer_id="gid://shopify/Customer/9",
        starts_at=datetime(2026, 9, 1), ends_at=datetime(2026, 12, 1, 8, 30))
    sent = h.last_variables()["freeShippingCodeDiscount"]
    assert created.id == "gid://shopify/DiscountCodeNode/3"
    assert (sent["destination"], sent["context"], sent["endsAt"], sent["usageLimit"]) == (
        {"all": True}, {"customers": {"add": ["gid://shopify/Customer/9"]}},
        "2026-12-01T08:30:00Z", 1)


def test_store_credit_is_credited_in_the_shops_currency(h: Harness) -> None:
    h.fake.graphql["storeCreditAccountCredit"] = mutation_reply("storeCreditAccountCredit", {
        "storeCreditAccountTransaction": {
            "id": "gid://shopify/StoreCreditAccountCreditTransaction/5",
            "amount": {"amount": "5.0", "currencyCode": "EUR"},
            "balanceAfterTransaction": {"amount": "12.5", "currencyCode": "EUR"},
            "account": {"id": "gid://shopify/StoreCreditAccount/8"}},
        "userErrors": []})
    tx = h.client.credit_store_credit(42, Decimal("5"), "eur")
    assert h.last_variables() == {"id": "gid://shopify/Customer/42", "creditInput": {
        "creditAmount": {"amount": "5.00", "currencyCode": "EUR"}, "notify": False}}
    assert (tx.amount, tx.currency, tx.balance_after, tx.account_id) == (
        Decimal("5.0"), "EUR", Decimal("12.5"), "gid://shopify/StoreCreditAccount/8")


def test_thirty_metafields_are_set_in_two_calls_of_25_and_5(h: Harness) -> None:
    def answer(variables: dict[str, Any], _shop: str) -> dict[str, Any]:
        return {"data": {"metafieldsSet": {"metafields": [
            {**m, "id": f"gid://shopify/Metafield/{i}"}
            for i, m in enumerate(variables["metafields"])], "userErrors": []}},
            "extensions": cost(10)}

    h.fake.graphql["metafieldsSet"] = answer
    inputs = [MetafieldInput(owner_id=f"gid://shopify/Customer/{i}", key="points",
                             value=str(i * 10), type="number_integer") for i in range(30)]
    stored = h.client.set_metafields(inputs)
    batches = [len(c["variables"]["metafields"]) for c in h.fake.calls_to("graphql")]
    assert batches == [25, 5]
    assert [m.value for m in stored] == [str(i * 10) for i in range(30)]
    assert h.fake.calls_to("graphql")[0]["variables"]["metafields"][0] == {
        "ownerId": "gid://shopify/Customer/0", "namespace": "$app", "key": "points",
        "value": "0", "type": "number_integer"}


def test_a_metafield_error_in_the_second_batch_points_at_its_overall_index(h: Harness) -> None:
    replies = iter([
        {"metafieldsSet": {"metafields": [], "userErrors": []}},
        {"metafieldsSet": {"metafields": None, "userErrors": [{
            "field": ["metafields", "2", "value"], "code": "INVALID_VALUE",
            "message": "Value must be an integer.", "elementIndex": 2}]}},
    ])
    h.fake.graphql["metafieldsSet"] = lambda _v, _s: {"data": next(replies),
                                                      "extensions": cost(10)}
    inputs = [MetafieldInput(owner_id="gid://shopify/Customer/1", key=f"k{i}", value="1",
                             type="number_integer") for i in range(27)]
    with pytest.raises(ShopifyUserError) as caught:
        h.client.set_metafields(inputs)
    assert (caught.value.code, caught.value.errors[0].element_index) == ("INVALID_VALUE", 27)


def test_a_429_is_retried_after_its_retry_after(h: Harness) -> None:
    h.fake.replies.append(httpx.Response(429, headers={"Retry-After": "2.5"}, json={}))
    h.fake.graphql["shop"] = shop_reply()
    assert h.client.shop_details().name == "Demo Shop"
    assert h.sleeps == [2.5]


def test_a_503_without_retry_after_is_retried_after_a_second(h: Harness) -> None:
    h.fake.replies += [httpx.Response(503), httpx.Response(502)]
    h.fake.graphql["shop"] = shop_reply()
    assert h.client.shop_details().name == "Demo Shop"
    assert h.sleeps == [1.0, 1.0]


def test_a_throttled_answer_waits_for_the_missing_points_then_retries(h: Harness) -> None:
    h.fake.replies.append(httpx.Response(200, json={**THROTTLED, "extensions": cost(
        requested=10, available=4, restore=50)}))
    h.fake.graphql["shop"] = shop_reply()
    assert h.client.shop_details().name == "Demo Shop"
    assert h.sleeps == [pytest.approx((10 - 4) / 50)]


def test_a_call_that_would_be_throttled_waits_before_it_is_sent(h: Harness) -> None:
    h.fake.graphql["discountCodeBasicCreate"] = mutation_reply(
        "discountCodeBasicCreate",
        {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []},
        requested=10, available=3)
    h.bucket.restore_rate = 100  # overwritten by the first answer
    h.client.create_basic_discount(code="A", title="A", customer_id=1,
                                   starts_at=datetime(2026, 9, 1), amount=Decimal(5))
    assert h.sleeps == []  # nothing known yet: no wait
    h.now += 0.02  # 2 points restored at 100/s: 5 available, the mutation costs 10
    h.client.create_basic_discount(code="B", title="B", customer_id=1,
                                   starts_at=datetime(2026, 9, 1), amount=Decimal(5))
    assert h.sleeps == [pytest.approx((10 - 5) / 100)]


def test_the_bucket_restores_up_to_its_maximum() -> None:
    bucket = CostBucket()
    bucket.observe(cost(10, available=0, restore=50, maximum=100)["cost"], at=0.0)
    assert bucket.wait_before(10, at=0.0) == pytest.approx(0.2)
    assert bucket.wait_before(10, at=0.1) == pytest.approx(0.1)
    assert bucket.wait_before(100, at=10.0) == 0.0
    assert bucket.wait_before(101, at=10.0) == pytest.approx(1 / 50)


def test_retries_stop_after_max_attempts_with_a_stable_code(h: Harness) -> None:
    h.fake.replies += [httpx.Response(503) for _ in range(5)]
    with pytest.raises(ShopifyUnavailable) as caught:
        h.client.shop_details()
    assert (caught.value.code, len(h.sleeps)) == ("http_error_503", 4)


def test_an_invalid_token_is_unauthorized_and_not_retried(h: Harness) -> None:
    client = AdminClient(SHOP, "shpat_revoked", settings=SETTINGS, http=h.http,
                         sleep=h.sleeps.append, bucket=h.bucket)
    with pytest.raises(ShopifyUnauthorized):
        client.shop_details()
    assert (len(h.fake.calls_to("graphql")), h.sleeps) == (1, [])


def test_graphql_errors_that_are_not_throttling_are_not_retried(h: Harness) -> None:
    h.fake.replies.append(httpx.Response(200, json={"errors": [
        {"message": "Field 'nope' doesn't exist on type 'Shop'"}]}))
    with pytest.raises(ShopifyRequestError) as caught:
        h.client.shop_details()
    assert caught.value.code == "graphql_errors"
    assert "nope" in caught.value.detail
    assert h.sleeps == []


def test_a_network_failure_is_not_repeated_blindly(h: Harness) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(down)) as http:
        client = AdminClient(SHOP, h.token, settings=SETTINGS, http=http,
                             sleep=h.sleeps.append, bucket=h.bucket)
        with pytest.raises(ShopifyUnavailable) as caught:
            client.shop_details()
    assert (caught.value.code, h.sleeps) == ("network_error", [])


def test_against_the_emulator_calls_go_under_its_shop_prefix() -> None:
    from app.shopify.domains import shop_http_client

    seen: list[str] = []

    def emulator(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"data": {"customer": None}})

    emulated = load_settings({}, {"shopify_admin_base": "http://127.0.0.1:7001"})
    with shop_http_client(emulated, httpx.MockTransport(emulator)) as http:
        client = AdminClient(SHOP, "shpat_x", settings=emulated, http=http, bucket=CostBucket())
        assert client.customer(5) is None
    assert seen == [f"http://127.0.0.1:7001/{SHOP}/admin/api/{API_VERSION}/graphql.json"]


def test_a_customer_and_an_order_are_read_into_plain_values(h: Harness) -> None:
    h.fake.graphql["customer"] = lambda v, _s: {"data": {"customer": {
        "id": v["id"], "displayName": "Ada Lovelace", "firstName": "Ada",
        "lastName": "Lovelace", "numberOfOrders": "3", "tags": ["vip"],
        "amountSpent": {"amount": "120.50", "currencyCode": "USD"},
        "defaultEmailAddress": {"emailAddress": "ada@example.com"}}}}
    h.fake.graphql["order"] = lambda v, _s: {"data": {"order": {
        "id": v["id"], "name": "#1042", "email": "ada@example.com",
        "createdAt": "2026-11-20T10:00:00Z", "cancelledAt": None, "test": False,
        "displayFinancialStatus": "PAID", "currencyCode": "USD",
        "currentSubtotalPriceSet": {"shopMoney": {"amount": "90.00", "currencyCode": "USD"}},
        "currentTotalPriceSet": {"shopMoney": {"amount": "99.00", "currencyCode": "USD"}},
        "totalRefundedSet": {"shopMoney": {"amount": "0.0", "currencyCode": "USD"}},
        "customer": {"id": "gid://shopify/Customer/7"}}}}
    customer = h.client.customer(7)
    order = h.client.order(1042)
    assert (customer.id, customer.email, customer.number_of_orders, customer.amount_spent) == (
        "gid://shopify/Customer/7", "ada@example.com", 3, Decimal("120.50"))
    assert (order.id, order.subtotal, order.total, order.customer_id) == (
        "gid://shopify/Order/1042", Decimal("90.00"), Decimal("99.00"),
        "gid://shopify/Customer/7")
    assert json.dumps(h.fake.calls_to("graphql")[0]["variables"]) == (
        '{"id": "gid://shopify/Customer/7"}')


def test_the_client_never_shows_its_token() -> None:
    with FakeShopify().client() as http:
        client = AdminClient(SHOP, "shpat_secret", settings=SETTINGS, http=http)
        assert "shpat_secret" not in repr(client)
