"""Sample payload variants: built from Shopify's samples, with totals that add up."""

from decimal import Decimal
from pathlib import Path

import pytest

from devstore import payloads


def _d(value):
    """A Decimal from any number or string."""
    return Decimal(str(value))


def test_the_samples_are_the_projects_own_copy_inside_the_repository():
    repo = Path(__file__).resolve().parents[2]
    folder = payloads.fixtures_dir()
    assert folder.is_relative_to(repo)
    assert (folder / "orders__paid.json").is_file()


def test_the_fixtures_folder_can_be_overridden(monkeypatch, tmp_path):
    (tmp_path / "2026-07").mkdir()
    (tmp_path / "2026-07" / "shop__redact.json").write_text('{"shop_id": 1, "shop_domain": "x"}')
    monkeypatch.setenv("SHOPIFY_FIXTURES_DIR", str(tmp_path))
    assert payloads.sample("shop/redact") == {"shop_id": 1, "shop_domain": "x"}


def test_an_order_for_a_customer_with_line_items_and_a_discount_adds_up(emulator):
    order = emulator.sample_payload(
        "orders/paid", order_id=42, customer_id=9, email="ada@example.com",
        line_items=[{"title": "Mug", "price": "12.50", "quantity": 2},
                    {"title": "Gift card", "price": "25.00", "gift_card": True}],
        discount_codes=[{"code": "WELCOME10", "amount": "10.00"}], shipping="4.99",
        note_attributes={"loyalty_ref": "ADA-7K3Q"}, browser_ip="203.0.113.9",
        shipping_address={"address1": "1 Main St"})
    assert (order["id"], order["admin_graphql_api_id"], order["name"]) == (
        42, "gid://shopify/Order/42", "#1042")
    assert (order["financial_status"], order["cancelled_at"]) == ("paid", None)
    assert order["customer"]["id"] == 9
    assert order["customer"]["admin_graphql_api_id"] == "gid://shopify/Customer/9"
    assert order["email"] == order["customer"]["email"] == "ada@example.com"
    assert order["total_line_items_price"] == "50.00"
    assert order["total_discounts"] == "10.00"
    assert order["subtotal_price"] == order["current_subtotal_price"] == "40.00"
    assert order["total_price"] == "44.99"
    allocations = [sum(_d(a["amount"]) for a in li["discount_allocations"])
                   for li in order["line_items"]]
    assert allocations == [_d("5.00"), _d("5.00")]
    assert order["line_items"][1]["gift_card"] is True
    assert order["discount_codes"] == [{"code": "WELCOME10", "amount": "10.00",
                                        "type": "fixed_amount"}]
    assert order["note_attributes"] == [{"name": "loyalty_ref", "value": "ADA-7K3Q"}]
    assert order["browser_ip"] == "203.0.113.9"
    assert order["shipping_address"]["address1"] == "1 Main St"
    assert order["shipping_address"]["city"] == "Shippington"


def test_the_default_order_is_the_sample_with_coherent_totals(emulator):
    order = emulator.sample_payload("orders/paid")
    assert order["id"] == 820982911946154500
    assert order["subtotal_price"] == "414.95"
    assert order["total_price"] == "424.95"


def test_a_guest_order_has_no_customer(emulator):
    assert emulator.sample_payload("orders/create", customer_id=None)["customer"] is None


def test_a_cancelled_order_keeps_its_cancellation(emulator):
    order = emulator.sample_payload("orders/cancelled", order_id=5)
    assert order["cancelled_at"] is not None and order["cancel_reason"] == "customer"


def test_a_refund_of_half_the_units_refunds_their_discounted_price(emulator):
    order = emulator.sample_payload(
        "orders/paid", order_id=8, line_items=[{"id": 1, "title": "Mug", "price": "10.00",
                                               "quantity": 4}],
        discount_codes=[{"code": "OFF8", "amount": "8.00"}])
    refund = emulator.sample_payload("refunds/create", order=order, line_items=[(1, 2)],
                                     refund_id=99)
    assert (refund["id"], refund["order_id"]) == (99, 8)
    [line] = refund["refund_line_items"]
    assert (line["line_item_id"], line["quantity"], line["subtotal"]) == (1, 2, 16.0)
    assert [t["amount"] for t in refund["transactions"]] == ["16.00"]
    assert refund["transactions"][0]["kind"] == "refund"


def test_a_refund_of_an_amount_alone_has_no_line_items(emulator):
    order = emulator.sample_payload("orders/paid", order_id=8)
    refund = emulator.sample_payload("refunds/create", order=order, amount="12.34")
    assert refund["refund_line_items"] == []
    assert refund["transactions"][0]["amount"] == "12.34"


def test_customers_create_for_a_given_customer(emulator):
    customer = emulator.sample_payload("customers/create", customer_id=31, email="bo@x.io",
                                       first_name="Bo")
    assert (customer["id"], customer["email"], customer["first_name"]) == (31, "bo@x.io", "Bo")
    assert customer["admin_graphql_api_id"] == "gid://shopify/Customer/31"
    assert customer["default_address"]["customer_id"] == 31


@pytest.mark.parametrize("topic", ["customers/data_request", "customers/redact", "shop/redact"])
def test_compliance_payloads_name_the_shop(emulator, topic):
    assert emulator.sample_payload(topic, shop="x.myshopify.com")["shop_domain"] == (
        "x.myshopify.com")


def test_app_uninstalled_describes_the_shop(emulator):
    body = emulator.sample_payload("app/uninstalled", shop="x.myshopify.com")
    assert body["myshopify_domain"] == body["domain"] == "x.myshopify.com"


def test_an_order_of_a_known_shop_names_that_shops_id_in_its_status_url(emulator):
    emulator.add_shop("tea-room.myshopify.com")
    shop_id = emulator.shop("tea-room.myshopify.com").shop_id
    order = emulator.sample_payload("orders/paid", shop="tea-room.myshopify.com", order_id=7)
    # The sample's shape: https://jsmith.myshopify.com/548380009/orders/123456abcd/authenticate
    # ?key=abcdefg, on this shop's domain and with its id.
    assert order["order_status_url"] == (
        f"https://tea-room.myshopify.com/{shop_id}/orders/{order['token']}"
        "/authenticate?key=abcdefg")
    assert "shop" not in order and "shop_id" not in order
    assert emulator.sample_payload("orders/paid")["order_status_url"] == (
        payloads.sample("orders/paid")["order_status_url"])
