"""Order and refund payloads for loyalty tests, built from Shopify's webhook samples.

The samples are the project's own copy in devstore/samples/webhooks/2026-07 (source in the
README beside them; SHOPIFY_FIXTURES_DIR overrides). Shopify's own orders/paid sample is a
cancelled test order, so `paid_order` turns it into a real paid one unless told otherwise.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from devstore.payloads import fixtures_dir, order_status_url

FIXTURES = fixtures_dir("2026-07")

# The sample's five line items: 89.99 + 19.99 + 24.99 + 159.99 + 119.99, no discounts.
SAMPLE_GOODS = Decimal("414.95")


@cache
def _sample(topic: str) -> str:
    """The sample's text, read once."""
    return (FIXTURES / f"{topic.replace('/', '__')}.json").read_text()


def sample(topic: str) -> dict[str, Any]:
    """A fresh copy of Shopify's sample payload for a topic."""
    return json.loads(_sample(topic))


def iso(moment: datetime) -> str:
    """A naive UTC datetime as Shopify writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def money(amount: str | Decimal) -> dict[str, Any]:
    """A `*_set` money bag in USD."""
    return {"shop_money": {"amount": str(amount), "currency_code": "USD"},
            "presentment_money": {"amount": str(amount), "currency_code": "USD"}}


def line(price: str, quantity: int = 1, *, discount: str | None = None, tax: str | None = None,
         gift_card: bool = False, line_id: int = 1, title: str = "Thing") -> dict[str, Any]:
    """A line item in the REST shape."""
    return {
        "id": line_id, "title": title, "name": title, "price": price,
        "price_set": money(price), "quantity": quantity, "gift_card": gift_card,
        "product_id": 7_000_000_000_000_000_001, "variant_id": 7_000_000_000_000_000_002,
        "requires_shipping": not gift_card, "total_discount": "0.00",
        "discount_allocations": [{"amount": discount, "amount_set": money(discount),
                                  "discount_application_index": 0}] if discount else [],
        "tax_lines": [{"price": tax, "price_set": money(tax), "rate": 0.1,
                       "title": "VAT"}] if tax else [],
    }


def paid_order(order_id: int = 820982911946154500, *, updated_at: datetime | None = None,
               customer_id: int | None = 115310627314723950,
               email: str = "john@example.com", lines: list[dict[str, Any]] | None = None,
               name: str | None = None, test: bool = False, shop: str | None = None,
               shop_id: int | None = None, **overrides: Any) -> dict[str, Any]:
    """Shopify's orders/paid sample as a paid, non-test order, with the given changes.

    shop and shop_id: the shop the order belongs to, named in its `order_status_url` as Shopify
    does; without them the sample's shop 548380009 stays."""
    payload = sample("orders/paid")
    if shop_id is not None:
        payload["order_status_url"] = order_status_url(
            payload["order_status_url"], shop or "jsmith.myshopify.com", shop_id,
            payload["token"])
    payload.update({"id": order_id, "test": test, "cancelled_at": None, "cancel_reason": None,
                    "financial_status": "paid", "email": email, "contact_email": email,
                    "admin_graphql_api_id": f"gid://shopify/Order/{order_id}"})
    if name is not None:
        payload["name"] = name
    if updated_at is not None:
        payload["updated_at"] = payload["processed_at"] = iso(updated_at)
    if customer_id is None:
        payload["customer"] = None
    else:
        payload["customer"] = {**payload["customer"], "id": customer_id, "email": email}
    if lines is not None:
        payload["line_items"] = lines
    payload.update(overrides)
    return payload


def cancelled_order(order_id: int = 820982911946154500, *, updated_at: datetime,
                    **overrides: Any) -> dict[str, Any]:
    """The orders/cancelled sample for an order, cancelled at `updated_at`."""
    payload = paid_order(order_id, updated_at=updated_at, **overrides)
    payload.update({"cancelled_at": iso(updated_at), "cancel_reason": "customer",
                    "financial_status": "voided"})
    return payload


def refund(refund_id: int, order_id: int = 820982911946154500, *,
           subtotals: Sequence[str] = (), adjustments: Sequence[str] = (),
           store_credit: bool = False, created_at: datetime | None = None) -> dict[str, Any]:
    """A refunds/create payload refunding line subtotals and adjustments (negative = money back)."""
    payload = copy.deepcopy(sample("refunds/create"))
    template = payload["refund_line_items"][0]
    items = []
    for n, subtotal in enumerate(subtotals):
        item = copy.deepcopy(template)
        item.update({"id": refund_id * 10 + n, "subtotal": float(subtotal),
                     "subtotal_set": money(subtotal), "total_tax": 0,
                     "total_tax_set": money("0.00")})
        items.append(item)
    total = sum((Decimal(s) for s in subtotals), Decimal(0)) - sum(
        (Decimal(a) for a in adjustments), Decimal(0))
    transaction = copy.deepcopy(payload["transactions"][0])
    transaction.update({"amount": str(total), "order_id": order_id,
                        "gateway": "shopify_store_credit" if store_credit else "bogus"})
    payload.update({
        "id": refund_id, "order_id": order_id, "refund_line_items": items,
        "order_adjustments": [{"id": refund_id * 100 + n, "amount": a, "tax_amount": "0.00",
                               "kind": "refund_discrepancy", "reason": "Refund discrepancy"}
                              for n, a in enumerate(adjustments)],
        "transactions": [transaction],
    })
    if created_at is not None:
        payload["created_at"] = payload["processed_at"] = iso(created_at)
    return payload

