"""What the app really sends to the Admin API and what the emulator answers, over HTTP, checked
against Shopify's own Admin schema at the pinned version.

One scenario drives the app's real Shopify code (AdminClient, ShopifyDiscountIssuer,
member_sync's metafields) against the local emulator and records every GraphQL exchange. Each
registered document must be among them: its variables, built by the app, must coerce to the
document's declared input types with nothing deprecated; the emulator's answer must be what
Shopify's schema makes of the document (types, nullability, exactly the selected keys).
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import parse as parse_query

from app.config import load_settings
from app.loyalty.billing import PLANS
from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings
from app.loyalty.redemption import CombinesWith
from app.loyalty.widget_appearance import storefront_widget
from app.models import Member
from app.pipeline.discounts import ShopifyDiscountIssuer
from app.pipeline.flow_triggers import send_flow_trigger
from app.pipeline.member_sync import member_metafields
from app.shopify.billing import (
    active_subscription_ids,
    create_subscription,
    create_usage_record,
    subscription_input,
)
from app.shopify.bulk import bulk_operation, run_bulk_query
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, CostBucket, ShopifyError
from app.shopify.order_history import order_history_query
from app.shopify.proxy_path import proxy_path_metafield
from app.shopify.widget_settings import widget_metafield
from devstore import ShopifyEmulator, admin_api
from devstore import billing as emulated_billing
from devstore.admin_api import ApiContext
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.contracts.admin_schema import (
    AdminSchema,
    answer_errors,
    app_toml_scopes,
    model_errors,
    operation,
    registered_documents,
    requirement,
    variable_errors,
)
from tests.support.emulator_fixture import DEFAULT_APP_URL

SHOP = "contracts-demo.myshopify.com"
CUSTOMER_ID = 7_310_627_314_723_954
UNKNOWN_CUSTOMER_ID = 7_310_627_314_000_001
DOCUMENTS = {d.key: d for d in registered_documents()}
COMBINES = CombinesWith(order_discounts=False, product_discounts=False, shipping_discounts=True)


@dataclass
class Exchange:
    """One Admin GraphQL request the app sent and the answer it got."""

    query: str
    variables: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class Recorder:
    """An httpx response hook that keeps every GraphQL exchange."""

    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, response: httpx.Response) -> None:
        """Record the request's query and variables with the decoded answer."""
        if not response.request.url.path.endswith("/graphql.json"):
            return
        response.read()
        sent = json.loads(response.request.content)
        self.exchanges.append(Exchange(sent["query"], sent.get("variables") or {},
                                       response.status_code, response.json()))


def run_scenario(emulator: ShopifyEmulator, recorder: Recorder) -> None:
    """Every kind of Admin call the app makes, through the app's own code."""
    emulator.add_shop(SHOP, currency="USD")
    shop = emulator.shop(SHOP)
    shop.add_customer(CUSTOMER_ID, email="ada@example.com", first_name="Ada",
                      last_name="Lovelace")
    order = emulator.sample_payload("orders/paid", shop=SHOP, customer_id=CUSTOMER_ID)
    shop.orders[int(order["id"])] = order
    # The token carries exactly shopify.app.toml's scopes: the emulator refuses what they miss.
    scopes = ",".join(sorted(app_toml_scopes()))
    token = emulator.issue_access_token(SHOP, scope=scopes).access_token
    settings = load_settings({}, {"shopify_api_key": TEST_API_KEY,
                                  "shopify_api_secret": TEST_API_SECRET,
                                  "shopify_admin_base": emulator.base_url})
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with shop_http_client(settings) as http:
        http.event_hooks["response"].append(recorder)
        client = AdminClient(SHOP, token, settings=settings, http=http,
                             sleep=lambda _s: None, bucket=CostBucket())
        issuer = ShopifyDiscountIssuer(client)
        customer_gid = f"gid://shopify/Customer/{CUSTOMER_ID}"
        member = Member(customer_id=CUSTOMER_ID, points_available=120, points_pending=30,
                        tier="Silver", next_unlock_at=now + timedelta(days=14))
        created: list[str] = []
        bulk: list[str] = []

        subscriptions: list[str] = []

        def subscribe_and_approve() -> None:
            growth = PLANS["growth"]
            created = create_subscription(client, subscription_input(
                name="Loyalty Loop Growth", monthly_price=growth.monthly_price,
                capped_amount=Decimal("50.00"), terms=growth.terms("USD"), currency="USD",
                return_url=f"https://{SHOP}/admin/apps/{TEST_API_KEY}/admin/billing",
                test=True))
            number = int(created.id.rsplit("/", 1)[1])
            # The merchant approves on the confirmation page.
            emulated_billing.decide(shop, shop.app_subscriptions[number], True, 1.8e9)
            subscriptions.append(created.usage_line_item_id or "")

        def run_order_history() -> None:
            bulk.append(run_bulk_query(client, order_history_query(now.date()
                                                                   - timedelta(days=365))).id)
            emulator.bulk.wait()

        def create_amount_off(code: str) -> None:
            created.append(issuer.create_basic_discount(
                title="Loyalty reward: $5 off (500 points)", code=code,
                customer_gid=customer_gid, starts_at=now, ends_at=None, amount=Decimal(5),
                percentage=None, min_subtotal=Decimal(10), combines_with=COMBINES,
                usage_limit=1, applies_once_per_customer=True))

        steps: list[Callable[[], object]] = [
            client.shop_details,
            lambda: client.customer(CUSTOMER_ID),
            lambda: client.customer(UNKNOWN_CUSTOMER_ID),
            lambda: client.customer_email_marketing(CUSTOMER_ID),
            lambda: client.order(int(order["id"])),
            lambda: client.order(1),
            lambda: create_amount_off("LOYAL-CONTRACT-1"),
            lambda: issuer.create_basic_discount(
                title="Loyalty reward: 15% off", code="LOYAL-CONTRACT-2", customer_gid=None,
                starts_at=now, ends_at=now + timedelta(days=30), amount=None,
                percentage=Decimal("0.15"), min_subtotal=None, combines_with=COMBINES,
                usage_limit=None, applies_once_per_customer=False),
            # A taken code: Shopify's userErrors answer.
            lambda: create_amount_off("LOYAL-CONTRACT-1"),
            lambda: issuer.create_free_shipping_discount(
                title="Loyalty reward: free shipping", code="LOYAL-CONTRACT-3",
                customer_gid=customer_gid, starts_at=now, ends_at=None,
                min_subtotal=Decimal(20), combines_with=COMBINES, usage_limit=1,
                applies_once_per_customer=True),
            lambda: issuer.find_discount("loyal-contract-1"),
            lambda: issuer.find_discount("NO-SUCH-CODE"),
            lambda: issuer.credit_store_credit(customer_gid=customer_gid,
                                               amount=Decimal("7.50"), currency="USD"),
            lambda: issuer.find_store_credit(customer_gid=customer_gid,
                                             amount=Decimal("7.50"), currency="USD", since=now),
            lambda: client.discount_exists(created[0]),
            lambda: issuer.void_discount(created[0]),
            # Deleting it again is refused; the issuer then asks whether it still exists.
            lambda: issuer.void_discount(created[0]),
            lambda: client.set_metafields(member_metafields(member)),
            lambda: client.set_metafields([proxy_path_metafield(client.app_installation_id(),
                                                                "/a/rewards")]),
            lambda: client.set_metafields([widget_metafield(
                client.app_installation_id(),
                storefront_widget(ProgramSettings(1, copy.deepcopy(DEFAULT_SETTINGS))))]),
            lambda: send_flow_trigger(client, "loyalty-tier-changed", {
                "customer_id": CUSTOMER_ID, "previous tier": "Bronze", "new tier": "Silver",
                "reason": "order"}),
            # A handle the app has no trigger extension for: Shopify's userErrors answer.
            lambda: send_flow_trigger(client, "loyalty-no-such-trigger", {"customer_id": 1}),
            run_order_history,
            lambda: bulk_operation(client, bulk[0]),
            subscribe_and_approve,
            lambda: active_subscription_ids(client),
            lambda: create_usage_record(client, subscriptions[0], Decimal("1.20"), "USD",
                                        "60 orders over the 1,000 included", "usage-contract"),
            # Over the capped amount: Shopify's userErrors answer.
            lambda: create_usage_record(client, subscriptions[0], Decimal("100.00"), "USD",
                                        "too much", "usage-contract-2"),
        ]
        for step in steps:
            # A refusal is recorded with its answer; the answer tests report it.
            with contextlib.suppress(ShopifyError):
                step()


@dataclass(frozen=True)
class Scenario:
    """The recorded exchanges, and what the emulator's shop holds afterwards."""

    exchanges: list[Exchange]
    context: ApiContext


@pytest.fixture(scope="module")
def scenario() -> Iterator[Scenario]:
    """The scenario, run once for the module."""
    recorder = Recorder()
    with ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, app_url=DEFAULT_APP_URL) as emulator:
        run_scenario(emulator, recorder)
        context = ApiContext(shop=emulator.shop(SHOP), scopes=app_toml_scopes(),
                             app_id=emulator.app_id, client_id=emulator.client_id,
                             now=datetime.now(UTC).timestamp(), base_url=emulator.base_url)
    yield Scenario(recorder.exchanges, context)


@pytest.fixture
def exchanges(scenario: Scenario) -> list[Exchange]:
    """Every Admin GraphQL exchange of the scenario."""
    return scenario.exchanges


def sent(exchanges: list[Exchange], key: str) -> list[Exchange]:
    """The exchanges of one registered document (at least one)."""
    found = [e for e in exchanges if e.query == DOCUMENTS[key].text]
    assert found, f"{key} is never sent in run_scenario: add the app call that sends it"
    return found


def test_the_scenario_sends_every_registered_document(exchanges):
    assert sorted(k for k in DOCUMENTS if not any(e.query == DOCUMENTS[k].text
                                                    for e in exchanges)) == []
    assert {e.query for e in exchanges} <= {d.text for d in DOCUMENTS.values()}


@pytest.mark.parametrize("key", sorted(DOCUMENTS))
def test_the_variables_the_app_builds_fit_shopifys_input_types(admin, exchanges, key):
    for exchange in sent(exchanges, key):
        assert variable_errors(admin.schema, exchange.query, exchange.variables) == []


@pytest.mark.parametrize("key", sorted(DOCUMENTS))
def test_the_emulator_answers_each_document_as_shopifys_schema_types_it(admin, exchanges, key):
    for exchange in sent(exchanges, key):
        assert (exchange.status, exchange.body.get("errors")) == (200, None)
        assert answer_errors(admin.schema, exchange.query, exchange.variables,
                             exchange.body["data"]) == []


def metafield_owner_kinds(exchanges: list[Exchange]) -> set[str]:
    """The kinds of resource (Customer, AppInstallation, …) whose metafields the app sets."""
    return {m["ownerId"].removeprefix("gid://shopify/").partition("/")[0]
            for e in exchanges if "metafieldsSet" in e.query
            for m in e.variables.get("metafields") or []}


def owner_requirements(admin: AdminSchema, exchanges: list[Exchange]) -> dict[str, Any]:
    """metafieldsSet needs "the same access level needed to mutate the owner resource": for
    each owner kind the app writes, the requirement of Shopify's `<owner>Update` mutation.
    App-data metafields (owner: the app's own installation) need no scope: "only the app that
    owns the metafield can read or write it" (shopify.dev/docs/apps/build/custom-data/ownership
    #app-data-metafields), and AppInstallation has no update mutation."""
    kinds = metafield_owner_kinds(exchanges) - {"AppInstallation"}
    found = {}
    for kind in sorted(kinds):
        where = f"Mutation.{kind[0].lower()}{kind[1:]}Update"
        found[kind] = requirement(where, admin.required_access[where])
    return found


def test_shopify_app_toml_grants_the_scope_of_every_metafield_owner_the_app_writes(
        admin, exchanges):
    assert metafield_owner_kinds(exchanges) == {"Customer", "AppInstallation"}
    needs = owner_requirements(admin, exchanges)
    assert sorted(needs) == ["Customer"]
    assert [f"{kind}: {r.text}" for kind, r in needs.items()
            if not r.met_by(app_toml_scopes())] == []
    assert not needs["Customer"].met_by(app_toml_scopes() - {"write_customers"})


def emulator_root_arguments(context: ApiContext) -> dict[str, dict[str, Any]]:
    """Arguments for each query root the emulator answers, naming what the scenario made."""
    shop = context.shop
    discount = next(iter(shop.discounts.values()))
    return {
        "shop": {}, "currentAppInstallation": {},
        "customer": {"id": f"gid://shopify/Customer/{CUSTOMER_ID}"},
        "order": {"id": f"gid://shopify/Order/{next(iter(shop.orders))}"},
        "codeDiscountNodeByCode": {"code": discount.code},
        "codeDiscountNode": {"id": discount.gid},
        "discountNode": {"id": discount.gid},
        "bulkOperation": {"id": next(iter(shop.bulk_operations.values())).gid},
    }


def test_every_query_the_emulator_answers_is_shopifys_with_shopifys_types(admin, scenario):
    schema = admin.schema
    arguments = emulator_root_arguments(scenario.context)
    assert sorted(admin_api.QUERIES) == sorted(arguments)
    assert schema.query_type is not None
    errors = []
    for name, (_scope, resolve) in admin_api.QUERIES.items():
        field = schema.query_type.fields.get(name)
        if field is None:
            errors.append(f"QueryRoot has no field {name}")
            continue
        answer = resolve(scenario.context, arguments[name])
        assert answer is not None, name
        errors += model_errors(schema, field.type, answer, name)
    assert errors == []


def test_every_mutation_payload_the_emulator_builds_has_shopifys_types(admin, scenario):
    mutation_type = admin.schema.mutation_type
    assert mutation_type is not None
    errors = []
    answered = set()
    for exchange in scenario.exchanges:
        op = operation(parse_query(exchange.query))
        if op.operation.value != "mutation":
            continue
        for node in op.selection_set.selections:
            name = node.name.value
            arguments = {a.name.value: exchange.variables.get(a.value.name.value)
                         for a in node.arguments}
            _scope, resolve = admin_api.MUTATIONS[name]
            payload, _commit = resolve(scenario.context, arguments)
            errors += model_errors(admin.schema, mutation_type.fields[name].type, payload, name)
            answered.add(name)
    assert answered == set(admin_api.MUTATIONS)
    assert errors == []


def test_an_emulator_object_with_a_field_shopify_does_not_have_is_refused(admin, scenario):
    customer = admin_api.customer_node(scenario.context,
                                       scenario.context.shop.customers[CUSTOMER_ID])
    assert customer is not None
    customer.update(loyaltyPoints=120, numberOfOrders=3)
    assert model_errors(admin.schema, admin.schema.get_type("Customer"), customer, "c") == [
        "c.numberOfOrders: 3 is not a UnsignedInt64 (a string)",
        "c.loyaltyPoints: Shopify's Customer has no field loyaltyPoints"]


# --- the checks catch what they are for ---------------------------------------------------------

CUSTOMER = """query C($id: ID!) {
  customer(id: $id) { id numberOfOrders tags amountSpent { amount currencyCode } }
}"""


def test_an_answer_with_a_wrongly_typed_or_shaped_field_is_refused(admin):
    good = {"customer": {"id": "gid://shopify/Customer/1", "numberOfOrders": "3", "tags": [],
                         "amountSpent": {"amount": "12.5", "currencyCode": "USD"}}}
    assert answer_errors(admin.schema, CUSTOMER, {"id": "x"}, good) == []
    bad = {"customer": {"id": None, "numberOfOrders": 3, "tags": "vip",
                        "amountSpent": {"amount": "12.5", "currencyCode": "XXX-NOT-ENUM"},
                        "email": "ada@example.com"}}
    assert answer_errors(admin.schema, CUSTOMER, {"id": "x"}, bad) == [
        "data.customer.email: not selected (Shopify never answers it)",
        "data.customer.id: null, but ID! is non-null",
        "data.customer.numberOfOrders: 3 is not a UnsignedInt64 (a string)",
        "data.customer.tags: [String!] expected, got str",
        "data.customer.amountSpent.currencyCode: 'XXX-NOT-ENUM' is not a value of enum "
        "CurrencyCode",
    ]
    missing = {"customer": {"id": "gid://shopify/Customer/1", "numberOfOrders": "3",
                            "tags": []}}
    assert answer_errors(admin.schema, CUSTOMER, {"id": "x"}, missing) == [
        "data.customer.amountSpent: selected but missing"]


def test_an_interface_answer_must_fit_one_of_its_concrete_types(admin):
    document = next(d for d in DOCUMENTS.values() if d.name == "STORE_CREDITS_QUERY").text
    node = {"createdAt": "2026-11-27T10:00:00Z", "amount": {"amount": "5.0",
                                                            "currencyCode": "USD"},
            "balanceAfterTransaction": {"amount": "5.0", "currencyCode": "USD"}}
    account = {"id": "gid://shopify/StoreCreditAccount/1",
               "balance": {"amount": "5.0", "currencyCode": "USD"},
               "transactions": {"nodes": [{**node, "id": "gid://shopify/X/1"}]}}
    data = {"customer": {"storeCreditAccounts": {"nodes": [account]}}}
    assert answer_errors(admin.schema, document, {"id": "x", "first": 5}, data) == []
    account["transactions"]["nodes"] = [{**node, "createdAt": "27/11/2026"}]
    assert answer_errors(admin.schema, document, {"id": "x", "first": 5}, data) == [
        "data.customer.storeCreditAccounts.nodes[0].transactions.nodes[0].createdAt: "
        "'27/11/2026' is not an ISO 8601 DateTime with a zone"]


def test_variables_that_do_not_fit_the_declared_types_are_refused(admin):
    document = next(d for d in DOCUMENTS.values() if d.name == "DISCOUNT_BASIC_MUTATION").text
    variables = {"basicCodeDiscount": {
        "title": "Reward", "code": "X", "startsAt": "tomorrow",
        "customerSelection": {"all": True},
        "customerGets": {"value": {"percentage": "fifteen"}, "items": {"all": True}}},
        "extra": 1}
    errors = variable_errors(admin.schema, document, variables)
    assert errors[0].startswith("Variable '$basicCodeDiscount' got invalid value 'fifteen' at "
                                "'basicCodeDiscount.customerGets.value.percentage'")
    assert errors[1:] == [
        "variable $extra is not declared by the operation",
        "$basicCodeDiscount.startsAt: 'tomorrow' is not an ISO 8601 DateTime with a zone",
        "$basicCodeDiscount.customerSelection: DiscountCodeBasicInput.customerSelection is "
        "deprecated. Use `context` instead.",
    ]
