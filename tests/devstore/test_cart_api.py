"""The dev storefront's Cart AJAX API (`/cart.js`, `/cart/update.js` with `discount`): Shopify's
documented shapes, and a code applicable only when Shopify would apply it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstore import ShopifyEmulator
from devstore.state import Discount, next_id
from devstore.storefront import PAGE_PATH, create_storefront_app

SHOP = "cart-shop.myshopify.com"
ADA, GRACE = 9001, 9002
CART = f"{PAGE_PATH}/cart"


def add_code(emulator: ShopifyEmulator, code: str, kind: str = "basic", *,
             customer: int | None = None, combines: tuple[str, ...] = (),
             minimum: str | None = None, amount: str = "5.00") -> None:
    """A discount code as discountCodeBasicCreate / discountCodeFreeShippingCreate store it."""
    emulator.shop(SHOP).discounts[code.upper()] = Discount(
        id=next_id(), kind=kind, code=code, title=f"{code} title", starts_at=None, ends_at=None,
        customer_ids=None if customer is None else [f"gid://shopify/Customer/{customer}"],
        value={"amount": amount, "appliesOnEachItem": False} if kind == "basic" else None,
        usage_limit=1, applies_once_per_customer=True,
        combines_with={f"{c}Discounts": c in combines for c in ("order", "product", "shipping")},
        minimum_subtotal=minimum, minimum_quantity=None, created_at="2026-12-01T00:00:00Z")


@pytest.fixture
def shop(emulator: ShopifyEmulator) -> ShopifyEmulator:
    emulator.add_shop(SHOP, name="Cart Tea", currency="USD")
    emulator.shop(SHOP).add_customer(ADA, first_name="Ada")
    emulator.shop(SHOP).add_customer(GRACE, first_name="Grace")
    return emulator


@pytest.fixture
def store(shop: ShopifyEmulator) -> Iterator[Any]:
    """Ada's storefront session: her cart page sets both cookies."""
    with create_storefront_app(shop, SHOP).test_client() as client:
        assert client.get(f"{CART}?customer_id={ADA}").status_code == 200
        yield client


def codes(client: Any, discount: Any) -> list[dict[str, Any]]:
    answer = client.post(f"{CART}/update.js", json={"discount": discount})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["discount_codes"]


def test_a_new_cart_has_the_documented_shape_with_its_demo_line(store):
    cart = store.get(f"{CART}.js").get_json()

    assert {"token", "note", "attributes", "original_total_price", "total_price",
            "total_discount", "total_weight", "item_count", "items", "requires_shipping",
            "currency", "items_subtotal_price", "cart_level_discount_applications",
            "discount_codes"} == set(cart)
    assert (cart["item_count"], cart["total_price"], cart["currency"]) == (1, 6000, "USD")
    assert cart["discount_codes"] == cart["cart_level_discount_applications"] == []
    # The cart page showed this same cart.
    assert store.get(f"{CART}.js").get_json()["token"] == cart["token"]


def test_discount_replaces_the_codes_and_an_applied_code_reduces_the_total(store, shop):
    add_code(shop, "ADA5", customer=ADA)

    assert codes(store, " ada5 , ADA5,") == [{"code": "ada5", "applicable": True}]
    cart = store.get(f"{CART}.js").get_json()
    [application] = cart["cart_level_discount_applications"]
    assert (application["type"], application["title"], application["target_type"],
            application["value_type"], application["total_allocated_amount"]) == (
        "discount_code", "ADA5", "line_item", "fixed_amount", 500)
    assert (cart["total_discount"], cart["total_price"]) == (500, 5500)
    assert codes(store, "") == []


def test_a_code_is_not_applicable_when_shopify_would_refuse_it(store, shop):
    add_code(shop, "GRACE5", customer=GRACE)
    add_code(shop, "BIG", minimum="100.00")

    assert codes(store, "GRACE5,BIG,NOSUCH") == [
        {"code": "GRACE5", "applicable": False}, {"code": "BIG", "applicable": False},
        {"code": "NOSUCH", "applicable": False}]
    assert store.get(f"{CART}.js").get_json()["total_price"] == 6000


def test_two_codes_apply_together_only_when_each_combines_with_the_others_class(store, shop):
    add_code(shop, "SHIP", "free_shipping", combines=("order",))
    add_code(shop, "LOYAL", combines=("shipping",))
    add_code(shop, "SOLO", "free_shipping")

    assert codes(store, "SHIP,LOYAL") == [{"code": "SHIP", "applicable": True},
                                          {"code": "LOYAL", "applicable": True}]
    shipping = store.get(f"{CART}.js").get_json()["cart_level_discount_applications"][0]
    assert (shipping["target_type"], shipping["total_allocated_amount"]) == ("shipping_line", 0)
    assert codes(store, "SOLO,LOYAL") == [{"code": "SOLO", "applicable": True},
                                          {"code": "LOYAL", "applicable": False}]


def test_a_guest_cannot_use_a_customers_code(shop):
    add_code(shop, "ADA5", customer=ADA)
    with create_storefront_app(shop, SHOP).test_client() as guest:
        guest.get(CART)

        assert codes(guest, "ADA5") == [{"code": "ADA5", "applicable": False}]


@pytest.mark.parametrize("body", [{"discount": 5}, {"discount": ["A"]},
                                  {"discount": ",".join(f"C{i}" for i in range(251))}])
def test_a_bad_discount_is_a_400_and_keeps_the_codes(store, shop, body):
    add_code(shop, "ADA5", customer=ADA)
    codes(store, "ADA5")

    answer = store.post(f"{CART}/update.js", json=body)

    assert answer.status_code == 400
    assert set(answer.get_json()) == {"status", "message", "description"}
    assert store.get(f"{CART}.js").get_json()["discount_codes"] == [
        {"code": "ADA5", "applicable": True}]


def test_a_body_that_is_not_json_nor_a_form_is_a_400_never_a_500(store):
    answer = store.post(f"{CART}/update.js", data=b"{not json", content_type="application/json")

    assert answer.status_code == 400
    form = store.post(f"{CART}/update.js", data={"discount": "X"})
    assert form.get_json()["discount_codes"] == [{"code": "X", "applicable": False}]
