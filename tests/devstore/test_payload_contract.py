"""The emulator and the tests send only what Shopify sends at API 2026-07, and the app reads
only keys Shopify sends.

Every topic the app subscribes to (shopify.app.toml, compliance topics included) has Shopify's
sample; every payload the emulator builds for it, in every variant the emulator offers, and
every payload the tests' own builders make, has no key that Shopify's payload lacks.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.pipeline.topics import HANDLERS, KNOWN_TOPICS
from devstore import ShopifyEmulator, payloads
from tests.devstore.shopify_contract import (
    has_path,
    keys_shopify_does_not_send,
    reference_shape,
)
from tests.support.order_payloads import cancelled_order, line, paid_order, refund
from tests.support.webhook_signing import fixture_payload

REPO = Path(__file__).resolve().parents[2]
SHOP = "contract.myshopify.com"


def subscribed_topics() -> list[str]:
    """Every topic shopify.app.toml subscribes to, compliance topics included."""
    config = tomllib.loads((REPO / "shopify.app.toml").read_text())
    topics: list[str] = []
    for subscription in config["webhooks"]["subscriptions"]:
        topics += subscription.get("topics", []) + subscription.get("compliance_topics", [])
    return sorted(topics)


ORDER_VARIANTS: dict[str, dict[str, Any]] = {
    "the sample order": {},
    "a guest order": {"customer_id": None, "email": "guest@example.com"},
    "an order with everything the emulator varies": {
        "order_id": 42, "customer_id": 9, "email": "ada@example.com", "first_name": "Ada",
        "last_name": "Lovelace",
        "line_items": [{"title": "Mug", "price": "12.50", "quantity": 2, "product_id": 7},
                       {"title": "Gift card", "price": "25.00", "gift_card": True}],
        "discount_codes": ["ADA-7K3Q", {"code": "WELCOME10", "amount": "10.00",
                                        "type": "percentage"}],
        "note_attributes": {"loyalty_ref": "ADA-7K3Q"}, "browser_ip": "203.0.113.9",
        "shipping_address": {"address1": "1 Main St", "zip": "10001"},
        "billing_address": {"city": "Ottawa"}, "shipping": "4.99", "currency": "EUR"},
    "an order with a set total": {"total": "1.00"},
}


def _emulator() -> ShopifyEmulator:
    return ShopifyEmulator("contract-client", "contract-secret", "http://127.0.0.1:9")


def _confirmed_subscription(emulator: ShopifyEmulator) -> dict[str, Any]:
    """app_subscriptions/update as the emulator's confirmation page sends it."""
    from devstore import billing

    shop = emulator.add_shop(SHOP)
    subscription = billing.AppSubscription(
        1, "Loyalty Loop Growth", "https://contract.myshopify.com/admin/apps/x", True,
        "2026-12-05T10:00:00Z", [
            billing.SubscriptionLineItem(2, "recurring", "USD", price=Decimal("19.00")),
            billing.SubscriptionLineItem(3, "usage", "USD", capped_amount=Decimal("50.00"),
                                         terms="0.02 USD per order")])
    billing.decide(shop, subscription, True, 1_796_000_000)
    return billing.update_payload(shop, subscription, 1_796_000_000)


def emulator_payloads(topic: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every variant of a topic's payload the emulator builds, named."""
    emulator = _emulator()
    if topic.startswith("orders/"):
        for name, overrides in ORDER_VARIANTS.items():
            yield name, emulator.sample_payload(topic, **overrides)
    elif topic == "refunds/create":
        order = emulator.sample_payload("orders/paid", **ORDER_VARIANTS[
            "an order with everything the emulator varies"])
        yield "the sample refund", emulator.sample_payload(topic)
        yield "a refund of line items", emulator.sample_payload(
            topic, order=order, line_items=[(order["line_items"][0]["id"], 1)], restock=True,
            note="Too big", created_at="2026-11-27T10:00:00-05:00")
        yield "a refund of an amount", emulator.sample_payload(topic, order=order,
                                                               amount="5.00")
    elif topic in ("customers/create", "customers/update"):
        yield "the sample customer", emulator.sample_payload(topic)
        yield "a named customer", emulator.sample_payload(
            topic, customer_id=9001, email="ada@example.com", first_name="Ada",
            last_name="Lovelace")
    elif topic == "customers_email_marketing_consent/update":
        yield "the sample consent", emulator.sample_payload(topic)
        yield "a subscription", emulator.sample_payload(
            topic, customer_id=9001, email="ada@example.com", state="subscribed",
            opt_in_level="confirmed_opt_in", consent_updated_at="2026-11-27T10:00:00Z")
    elif topic == "app_subscriptions/update":
        yield "the sample subscription", emulator.sample_payload(topic)
        yield "a shop's approved subscription", emulator.sample_payload(
            topic, shop=SHOP, status="ACTIVE")
        yield "what the confirmation page sends", _confirmed_subscription(emulator)
    elif topic in ("app/uninstalled", "shop/update"):
        yield "the shop", emulator.sample_payload(topic, shop=SHOP, name="Contract Shop",
                                                  currency="CAD", shop_id=7)
    else:
        yield "the sample request", emulator.sample_payload(topic, shop=SHOP)
        yield "a request for a customer", emulator.sample_payload(
            topic, shop=SHOP, shop_id=7, customer_id=9001, email="ada@example.com",
            orders=[1, 2])


def test_every_subscribed_topic_has_shopifys_sample_and_a_handler():
    topics = subscribed_topics()
    assert "customers_email_marketing_consent/update" in topics
    # The inbox records a topic as known (app/pipeline/topics.py) exactly when it is handled.
    assert sorted(HANDLERS) == sorted(KNOWN_TOPICS) == topics
    for topic in topics:
        assert isinstance(payloads.sample(topic), dict), topic


@pytest.mark.parametrize("topic", subscribed_topics())
def test_the_emulator_sends_no_key_shopify_does_not_send(topic):
    reference = reference_shape(topic)
    for name, payload in emulator_payloads(topic):
        assert keys_shopify_does_not_send(payload, reference) == [], f"{topic}: {name}"


TEST_BUILDERS: dict[str, Callable[[], tuple[str, dict[str, Any]]]] = {
    "paid_order": lambda: ("orders/paid", paid_order(
        5001, customer_id=9001, email="ada@example.com", name="#5001",
        lines=[line("60.00", 2, discount="5.00", tax="6.00", title="Tea"),
               line("25.00", gift_card=True, line_id=2)])),
    "cancelled_order": lambda: ("orders/cancelled", cancelled_order(
        5001, updated_at=datetime(2026, 11, 2, 15, 0))),
    "refund": lambda: ("refunds/create", refund(
        77, 5001, subtotals=["30.00", "5.00"], adjustments=["-2.50"], store_credit=True,
        created_at=datetime(2026, 11, 2, 15, 0))),
    "fixture_payload": lambda: ("customers/create", fixture_payload("customers/create")),
}


@pytest.mark.parametrize("builder", sorted(TEST_BUILDERS))
def test_the_tests_own_payload_builders_send_no_key_shopify_does_not_send(builder):
    topic, payload = TEST_BUILDERS[builder]()
    assert keys_shopify_does_not_send(payload, reference_shape(topic)) == [], builder


def test_the_checker_catches_a_key_shopify_dropped_from_customers():
    """The 2025-01 change: customers/create carries neither consent nor tags any more."""
    payload = {**payloads.customer_payload(9001),
               "email_marketing_consent": {"state": "subscribed"}, "tags": "vip"}
    assert keys_shopify_does_not_send(payload, reference_shape("customers/create")) == [
        "email_marketing_consent", "tags"]
    order = payloads.order_payload()
    order["customer"]["accepts_marketing"] = True
    order["line_items"][0]["made_up"] = 1
    assert keys_shopify_does_not_send(order, reference_shape("orders/paid")) == [
        "customer.accepts_marketing", "line_items[].made_up"]


# The keys the app reads, per topic: app/loyalty/orders.py (parse_order with its products and
# fulfilment, order_amounts, parse_refund), app/loyalty/events.py, app/loyalty/consent.py and
# app/loyalty/privacy.py.
ORDER_READS = [
    "id", "admin_graphql_api_id", "name", "email", "contact_email", "currency", "test",
    "browser_ip", "landing_site", "cancelled_at", "updated_at",
    "taxes_included", "fulfillment_status", "total_tip_received",
    "total_price_set.shop_money.amount",
    "fulfillments[].created_at", "fulfillments[].status",
    "customer.id", "customer.email", "customer.first_name", "customer.last_name",
    "note_attributes[].name", "note_attributes[].value", "discount_codes[].code",
    "shipping_address.address1", "shipping_address.address2", "shipping_address.city",
    "shipping_address.province_code", "shipping_address.zip", "shipping_address.country_code",
    "line_items[].title", "line_items[].name", "line_items[].product_id",
    "line_items[].variant_id", "line_items[].requires_shipping", "line_items[].quantity",
    "line_items[].gift_card", "line_items[].price_set.shop_money.amount",
    "line_items[].discount_allocations[].amount_set.shop_money.amount",
    "line_items[].total_discount_set.shop_money.amount",
    "line_items[].tax_lines[].price_set.shop_money.amount",
    "shipping_lines[].discounted_price_set.shop_money.amount",
    "shipping_lines[].is_removed", "shipping_lines[].price_set.shop_money.amount",
    "shipping_lines[].discount_allocations[].amount_set.shop_money.amount",
    "shipping_lines[].tax_lines[].price_set.shop_money.amount",
]
APP_READS: dict[str, list[str]] = {
    **{topic: ORDER_READS for topic in ("orders/paid", "orders/cancelled", "orders/updated",
                                        "orders/fulfilled")},
    "refunds/create": [
        "id", "order_id", "created_at", "processed_at",
        "refund_line_items[].line_item.title", "refund_line_items[].line_item.product_id",
        "refund_line_items[].line_item.variant_id",
        "refund_line_items[].line_item.requires_shipping",
        "refund_line_items[].line_item.gift_card",
        "refund_line_items[].subtotal_set.shop_money.amount",
        "refund_line_items[].subtotal_set.presentment_money.amount",
        "refund_line_items[].total_tax_set.shop_money.amount",
        "refund_shipping_lines[].subtotal_amount_set.shop_money.amount",
        "order_adjustments[].amount_set.shop_money.amount", "order_adjustments[].kind",
        "transactions[].kind", "transactions[].status", "transactions[].amount",
        "transactions[].gateway", "transactions[].currency"],
    "customers/create": ["id", "email", "first_name", "last_name"],
    "customers/update": ["id", "email", "first_name", "last_name"],
    "customers_email_marketing_consent/update": [
        "customer_id", "email_address", "email_marketing_consent.state",
        "email_marketing_consent.consent_updated_at"],
    "customers/data_request": ["customer.id", "customer.email", "orders_requested",
                               "data_request.id"],
    "customers/redact": ["customer.id", "customer.email", "orders_to_redact"],
    "shop/redact": ["shop_domain"],
    # The Shop resource: the webhook trust checks read its id and domains.
    "app/uninstalled": ["id", "domain", "myshopify_domain"],
    "shop/update": ["id", "domain", "myshopify_domain", "name", "email", "currency",
                    "iana_timezone"],
    "app_subscriptions/update": ["app_subscription.admin_graphql_api_id",
                                 "app_subscription.status"],
}


def test_every_topic_the_app_handles_lists_the_keys_it_reads():
    assert sorted(APP_READS) == subscribed_topics()


# Reads no published 2026-07 payload shows, because every sample has those lists empty and
# the schema has no item for them. Each is a fallback or an optional part of the refund:
# - a shipping line's discount allocations are read only when it has no discounted_price,
#   which every 2026-07 shipping line has;
# - a refunded shipping line is Admin GraphQL's RefundShippingLine (subtotalAmountSet),
#   https://shopify.dev/docs/api/admin-graphql/2026-07/objects/RefundShippingLine; a refund
#   without one reports shipping as a `shipping_refund` order adjustment, which is read too.
UNPUBLISHED_READS = {
    **{topic: ["shipping_lines[].discount_allocations[].amount_set.shop_money.amount"]
       for topic in ("orders/paid", "orders/cancelled", "orders/updated", "orders/fulfilled")},
    "refunds/create": ["refund_shipping_lines[].subtotal_amount_set.shop_money.amount"],
}


@pytest.mark.parametrize("topic", sorted(APP_READS))
def test_every_key_the_app_reads_is_one_shopify_sends(topic):
    reference = reference_shape(topic)
    missing = [path for path in APP_READS[topic] if not has_path(reference, path)]
    assert missing == UNPUBLISHED_READS.get(topic, [])


def test_the_refund_builder_keeps_its_money_in_the_orders_currency():
    order = payloads.order_payload(currency="EUR")
    built = payloads.refund_payload(order, line_items=[(order["line_items"][0]["id"], 1)])
    assert built["transactions"][0]["currency"] == "EUR"
    assert Decimal(built["transactions"][0]["amount"]) == Decimal(
        built["refund_line_items"][0]["subtotal_set"]["presentment_money"]["amount"])
