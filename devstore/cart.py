"""The storefront's cart, as far as the Cart AJAX API shows it: `GET /cart.js` and
`POST /cart/update.js` with `discount` (https://shopify.dev/docs/api/ajax/reference/cart; the
`discount` parameter since May 2025:
https://shopify.dev/changelog/cart-ajax-api-discounts-support-on-cartupdatejs).

`discount` is the whole set of codes the cart should hold, comma separated: it replaces the
codes already there, and an empty string removes them all. Every code stays in
`discount_codes` with `applicable` saying whether the cart took it; a code it took also shows in
`cart_level_discount_applications` (a `discount_application`, whose `title` is the code for
code discounts: https://shopify.dev/docs/api/liquid/objects/discount_application). Prices are in
the currency's subunit, as the AJAX API gives them.

Whether a code applies is decided from the emulator's discounts as Shopify decides it: it
exists and is active, the logged-in customer may use it, the cart reaches its minimum
subtotal, the cart is not empty, and it combines with every code taken before it (two codes
stack only when each combines with the other's class:
https://help.shopify.com/en/manual/discounts/combining-discounts). Line items cannot be changed
here: a new cart holds one demo line, enough for a discount to have something to reduce.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from devstore.state import Discount, ShopState, gid

# A discount's class, by the emulator's kind, and the combinesWith flag that admits it.
_CLASS = {"basic": "order", "free_shipping": "shipping"}
_COMBINES_FLAG = {"order": "orderDiscounts", "product": "productDiscounts",
                  "shipping": "shippingDiscounts"}
# The demo line a new cart holds (cents).
DEMO_LINE = {"id": 40_000_000_001, "variant_id": 40_000_000_001, "product_id": 7_000_000_001,
             "title": "Linen shirt - M", "product_title": "Linen shirt", "quantity": 1,
             "price": 6000}
# Codes a cart holds at most (the Storefront API's cartDiscountCodesUpdate limit).
MAX_CODES = 250


@dataclass
class Cart:
    """One storefront session's cart: its token, lines and the codes the shopper entered."""

    token: str = field(default_factory=lambda: secrets.token_hex(16))
    lines: list[dict[str, Any]] = field(default_factory=lambda: [dict(DEMO_LINE)])
    codes: list[str] = field(default_factory=list)


def parse_discount(raw: Any) -> list[str] | None:
    """The codes a `discount` parameter names, in order, without blanks or repeats (codes are
    case-insensitive); None when it is not a string or names too many."""
    if not isinstance(raw, str):
        return None
    codes: list[str] = []
    for part in raw.split(","):
        code = part.strip()
        if code and code.upper() not in (c.upper() for c in codes):
            codes.append(code)
    return codes if len(codes) <= MAX_CODES else None


def _combines(first: Discount, second: Discount) -> bool:
    """Each allows the other's class."""
    return (first.combines_with.get(_COMBINES_FLAG[_CLASS[second.kind]], False)
            and second.combines_with.get(_COMBINES_FLAG[_CLASS[first.kind]], False))


def _eligible(discount: Discount | None, customer_id: int | None, subtotal: int) -> bool:
    """The code alone could apply to this cart for this customer."""
    if discount is None or discount.status != "ACTIVE" or subtotal <= 0:
        return False
    if discount.customer_ids is not None and (
            customer_id is None or gid("Customer", customer_id) not in discount.customer_ids):
        return False
    minimum = discount.minimum_subtotal
    return minimum is None or Decimal(minimum) * 100 <= subtotal


def _amount_off(discount: Discount, subtotal: int) -> tuple[str, str, int]:
    """(value, value_type, cents off the cart) of an order discount."""
    value = discount.value or {}
    if value.get("percentage") is not None:
        percent = Decimal(str(value["percentage"])) * 100
        return str(percent), "percentage", int(subtotal * percent / 100)
    amount = Decimal(str(value.get("amount") or 0))
    return str(amount), "fixed_amount", min(subtotal, int(amount * 100))


def _application(discount: Discount, subtotal: int) -> dict[str, Any]:
    """The code's cart-level discount application."""
    if discount.kind == "free_shipping":
        # Shipping is not chosen in the cart: nothing is allocated yet.
        value, value_type, cents, target = "100.0", "percentage", 0, "shipping_line"
    else:
        (value, value_type, cents), target = _amount_off(discount, subtotal), "line_item"
    return {"type": "discount_code", "key": discount.code, "title": discount.code,
            "description": discount.title, "value": value, "value_type": value_type,
            "allocation_method": "across", "target_selection": "all", "target_type": target,
            "total_allocated_amount": cents}


def cart_json(cart: Cart, shop: ShopState, customer_id: int | None) -> dict[str, Any]:
    """`GET /cart.js` for this cart as this customer sees it."""
    subtotal = sum(line["price"] * line["quantity"] for line in cart.lines)
    taken: list[Discount] = []
    codes = []
    for code in cart.codes:
        discount = shop.discount(code)
        applicable = (_eligible(discount, customer_id, subtotal)
                      and all(_combines(discount, other) for other in taken))
        if applicable and discount is not None:
            taken.append(discount)
        codes.append({"code": code, "applicable": applicable})
    applications = [_application(d, subtotal) for d in taken]
    off = sum(a["total_allocated_amount"] for a in applications)
    items = [{**line, "key": f"{line['variant_id']}:{cart.token[:8]}",
              "original_price": line["price"], "final_price": line["price"],
              "line_price": line["price"] * line["quantity"],
              "original_line_price": line["price"] * line["quantity"],
              "final_line_price": line["price"] * line["quantity"],
              "discounts": [], "line_level_discount_allocations": []} for line in cart.lines]
    return {
        "token": cart.token, "note": "", "attributes": {},
        "original_total_price": subtotal, "total_price": subtotal - off,
        "total_discount": off, "total_weight": 0,
        "item_count": sum(line["quantity"] for line in cart.lines), "items": items,
        "requires_shipping": True, "currency": shop.currency,
        "items_subtotal_price": subtotal,
        "cart_level_discount_applications": applications, "discount_codes": codes,
    }
