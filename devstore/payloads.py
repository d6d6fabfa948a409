"""Webhook payloads built from Shopify's published samples, with coherent variants.

The samples live in `devstore/samples/webhooks/<version>/<topic with / as __>.json`
(their source is in the README beside them; SHOPIFY_FIXTURES_DIR overrides). The four
orders/* samples are one order; the builders here give it a customer (or none), line items,
discount codes, note attributes, a browser IP, an address, and recompute every total so the
variant stays self-consistent.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from devstore.state import gid, next_id

SAMPLES = Path(__file__).resolve().parent / "samples" / "webhooks"
CENT = Decimal("0.01")
ORDER_TOPICS = ("orders/create", "orders/paid", "orders/updated", "orders/cancelled",
                "orders/fulfilled", "orders/partially_fulfilled")
_FINANCIAL_STATUS = {"orders/create": "paid", "orders/paid": "paid", "orders/updated": "paid",
                     "orders/fulfilled": "paid", "orders/partially_fulfilled": "paid",
                     "orders/cancelled": "refunded"}
_FULFILLMENT_STATUS = {"orders/fulfilled": "fulfilled", "orders/partially_fulfilled": "partial"}


def fixtures_dir(api_version: str = "2026-07") -> Path:
    """Where the sample payloads are: $SHOPIFY_FIXTURES_DIR, else the emulator's own samples."""
    override = os.environ.get("SHOPIFY_FIXTURES_DIR")
    if override:
        base = Path(override)
        return base / api_version if (base / api_version).is_dir() else base
    return SAMPLES / api_version


@lru_cache(maxsize=64)
def _sample_text(path: str) -> str:
    """A sample file's text, read once."""
    return Path(path).read_text()


def sample(topic: str, api_version: str = "2026-07") -> dict[str, Any]:
    """A fresh copy of Shopify's sample payload for a topic."""
    path = fixtures_dir(api_version) / f"{topic.replace('/', '__')}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no sample payload for {topic!r} at {path}")
    return json.loads(_sample_text(str(path)))


def cents(value: Decimal | str | float | int) -> str:
    """Money as Shopify's REST payloads write it: a string with two decimals."""
    return str(Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP))


def money_set(value: Decimal | str | float | int, currency: str) -> dict[str, Any]:
    """{shop_money, presentment_money} with the same amount."""
    amount = {"amount": cents(value), "currency_code": currency}
    return {"shop_money": dict(amount), "presentment_money": dict(amount)}


def customer_payload(customer_id: int | None = None, *, email: str | None = None,
                     first_name: str | None = None, last_name: str | None = None,
                     api_version: str = "2026-07", **overrides: Any) -> dict[str, Any]:
    """customers/create (and customers/update) for a given customer."""
    body = sample("customers/create", api_version)
    cid = int(customer_id) if customer_id is not None else int(body["id"])
    body.update(id=cid, admin_graphql_api_id=gid("Customer", cid))
    if email is not None:
        body["email"] = email
    if first_name is not None:
        body["first_name"] = first_name
    if last_name is not None:
        body["last_name"] = last_name
    if body.get("default_address"):
        body["default_address"].update(customer_id=cid, first_name=body["first_name"],
                                       last_name=body["last_name"],
                                       name=f"{body['first_name']} {body['last_name']}")
    body.update(overrides)
    return body


def consent_payload(customer_id: int | None = None, *, email: str | None = None,
                    state: str | None = None, opt_in_level: str | None = None,
                    consent_updated_at: str | None = None, api_version: str = "2026-07",
                    **overrides: Any) -> dict[str, Any]:
    """customers_email_marketing_consent/update: a customer's new email marketing state
    (subscribed, not_subscribed, unsubscribed, pending, …) and when they changed it."""
    body = sample("customers_email_marketing_consent/update", api_version)
    consent = body["email_marketing_consent"]
    if customer_id is not None:
        body["customer_id"] = int(customer_id)
    if email is not None:
        body["email_address"] = email
    if state is not None:
        consent["state"] = state
    if opt_in_level is not None:
        consent["opt_in_level"] = opt_in_level
    if consent_updated_at is not None:
        consent["consent_updated_at"] = consent_updated_at
    body.update(overrides)
    return body


def _line_item(template: dict[str, Any], spec: Mapping[str, Any], currency: str
               ) -> dict[str, Any]:
    """A line item from the sample's template and a spec."""
    line = copy.deepcopy(template)
    line_id = int(spec.get("id") or next_id())
    price = Decimal(str(spec.get("price", line["price"])))
    quantity = int(spec.get("quantity", 1))
    title = spec.get("title", line["title"])
    line.update(
        id=line_id, admin_graphql_api_id=gid("LineItem", line_id), title=title, name=title,
        price=cents(price), price_set=money_set(price, currency), quantity=quantity,
        current_quantity=quantity, fulfillable_quantity=quantity,
        gift_card=bool(spec.get("gift_card", False)),
        product_id=spec.get("product_id", line.get("product_id")),
        variant_id=spec.get("variant_id", line.get("variant_id")),
        sku=spec.get("sku", line.get("sku")), total_discount="0.00",
        total_discount_set=money_set(0, currency), discount_allocations=[],
        requires_shipping=not spec.get("gift_card", False))
    return line


def _discount_codes(codes: Iterable[Any]) -> list[dict[str, Any]]:
    """discount_codes entries from codes or {code, amount, type}."""
    found = []
    for code in codes:
        if isinstance(code, str):
            found.append({"code": code, "amount": "0.00", "type": "fixed_amount"})
        else:
            found.append({"code": code["code"], "amount": cents(code.get("amount", 0)),
                          "type": code.get("type", "fixed_amount")})
    return found


def _allocate(lines: list[dict[str, Any]], total: Decimal, index: int, currency: str) -> None:
    """Spread an order-level discount over the line items in proportion, cent-exact."""
    base = [Decimal(li["price"]) * li["quantity"] for li in lines]
    gross = sum(base, Decimal("0"))
    if gross <= 0 or total <= 0:
        return
    left = total
    for i, (line, amount) in enumerate(zip(lines, base, strict=True)):
        share = left if i == len(lines) - 1 else (total * amount / gross).quantize(CENT)
        left -= share
        line["discount_allocations"].append({
            "amount": cents(share), "amount_set": money_set(share, currency),
            "discount_application_index": index})


def order_status_url(sample_url: str, shop: str, shop_id: int, token: str) -> str:
    """The order's status page as Shopify writes it, `https://{shop}/{shop id}/orders/{order
    token}/authenticate?key=…`, keeping the sample's key."""
    key = sample_url.partition("?")[2] or "key=abcdefg"
    return f"https://{shop}/{shop_id}/orders/{token}/authenticate?{key}"


def order_payload(topic: str = "orders/paid", *, order_id: int | None = None,
                  customer_id: int | None | bool = True, email: str | None = None,
                  first_name: str | None = None, last_name: str | None = None,
                  line_items: list[Mapping[str, Any]] | None = None,
                  discount_codes: Iterable[Any] | None = None,
                  note_attributes: Mapping[str, str] | list[dict[str, str]] | None = None,
                  browser_ip: str | None = None,
                  shipping_address: Mapping[str, Any] | None = None,
                  billing_address: Mapping[str, Any] | None = None,
                  shipping: Decimal | str | None = None, total: Decimal | str | None = None,
                  currency: str | None = None, shop: str | None = None,
                  shop_id: int | None = None, api_version: str = "2026-07",
                  **overrides: Any) -> dict[str, Any]:
    """An order webhook body with totals that add up.

    shop and shop_id: the shop the order belongs to, named in its `order_status_url` as
    Shopify does (without them the sample's shop 548380009 stays).

    customer_id=True keeps the sample's customer, None/False makes a guest order, an int sets
    the customer's id. line_items take {title, price, quantity, gift_card, product_id, id}.
    discount_codes take codes or {code, amount, type}; their amounts are allocated over the
    lines. Totals: subtotal = lines - discounts; total = subtotal + shipping (sample: 10.00);
    `total` overrides the final total only. Anything else in overrides replaces a top-level key.
    """
    try:
        body = sample(topic, api_version)
    except FileNotFoundError:
        # Every orders/* sample is the same order; topics without one reuse orders/paid.
        body = sample("orders/paid", api_version)
    currency = currency or body.get("currency") or "USD"
    oid = int(order_id) if order_id is not None else int(body["id"])
    body.update(id=oid, admin_graphql_api_id=gid("Order", oid), currency=currency,
                presentment_currency=currency,
                financial_status=_FINANCIAL_STATUS.get(topic, "paid"),
                fulfillment_status=_FULFILLMENT_STATUS.get(topic))
    if topic != "orders/cancelled":
        body.update(cancelled_at=None, cancel_reason=None)
    if order_id is not None:
        number = 1000 + oid % 100000
        body.update(name=f"#{number}", order_number=number, number=number - 1000)

    template = body["line_items"][0]
    specs = line_items if line_items is not None else [
        {"id": li["id"], "title": li["title"], "price": li["price"], "quantity": li["quantity"],
         "gift_card": li["gift_card"], "product_id": li["product_id"]}
        for li in body["line_items"]]
    lines = [_line_item(template, spec, currency) for spec in specs]

    codes = _discount_codes(discount_codes or [])
    applications = []
    for index, code in enumerate(codes):
        applications.append({"target_type": "line_item", "type": "discount_code",
                             "value": code["amount"], "value_type": code["type"],
                             "allocation_method": "across", "target_selection": "all",
                             "code": code["code"]})
        _allocate(lines, Decimal(code["amount"]), index, currency)
    discounts = sum((Decimal(c["amount"]) for c in codes), Decimal("0"))
    line_total = sum((Decimal(li["price"]) * li["quantity"] for li in lines), Decimal("0"))
    shipping_price = Decimal(str(shipping)) if shipping is not None else Decimal(
        body["shipping_lines"][0]["price"] if body.get("shipping_lines") else "0")
    subtotal = line_total - discounts
    grand_total = Decimal(str(total)) if total is not None else subtotal + shipping_price
    for line in body.get("shipping_lines") or []:
        line.update(price=cents(shipping_price), price_set=money_set(shipping_price, currency),
                    discounted_price=cents(shipping_price),
                    discounted_price_set=money_set(shipping_price, currency))
    body.update(
        line_items=lines, discount_codes=codes, discount_applications=applications,
        total_line_items_price=cents(line_total),
        total_line_items_price_set=money_set(line_total, currency),
        total_discounts=cents(discounts), total_discounts_set=money_set(discounts, currency),
        current_total_discounts=cents(discounts),
        current_total_discounts_set=money_set(discounts, currency),
        subtotal_price=cents(subtotal), subtotal_price_set=money_set(subtotal, currency),
        current_subtotal_price=cents(subtotal),
        current_subtotal_price_set=money_set(subtotal, currency),
        total_shipping_price_set=money_set(shipping_price, currency),
        current_shipping_price_set=money_set(shipping_price, currency),
        total_tax="0.00", total_tax_set=money_set(0, currency), current_total_tax="0.00",
        current_total_tax_set=money_set(0, currency),
        total_price=cents(grand_total), total_price_set=money_set(grand_total, currency),
        current_total_price=cents(grand_total),
        current_total_price_set=money_set(grand_total, currency),
        total_outstanding="0.00" if body["financial_status"] == "paid" else cents(grand_total))

    customer = body.get("customer")
    if customer_id is None or customer_id is False:
        body["customer"] = None
    elif customer is not None:
        if customer_id is not True:
            cid = int(customer_id)
            customer.update(id=cid, admin_graphql_api_id=gid("Customer", cid))
            if customer.get("default_address"):
                customer["default_address"]["customer_id"] = cid
        if email is not None:
            customer["email"] = email
        if first_name is not None:
            customer["first_name"] = first_name
        if last_name is not None:
            customer["last_name"] = last_name
    if email is not None:
        body.update(email=email, contact_email=email)
    if note_attributes is not None:
        body["note_attributes"] = (
            [{"name": k, "value": v} for k, v in note_attributes.items()]
            if isinstance(note_attributes, Mapping) else list(note_attributes))
    if browser_ip is not None:
        body["browser_ip"] = browser_ip
        body["client_details"] = {"browser_ip": browser_ip, "accept_language": "en",
                                  "user_agent": "Mozilla/5.0", "session_hash": None,
                                  "browser_width": None, "browser_height": None}
    if shop_id is not None:
        body["order_status_url"] = order_status_url(body["order_status_url"],
                                                    shop or "jsmith.myshopify.com", shop_id,
                                                    body["token"])
    if shipping_address is not None:
        body["shipping_address"] = {**(body.get("shipping_address") or {}), **shipping_address}
    if billing_address is not None:
        body["billing_address"] = {**(body.get("billing_address") or {}), **billing_address}
    body.update(overrides)
    return body


def refund_payload(order: Mapping[str, Any], *,
                   line_items: Iterable[Any] | None = None,
                   amount: Decimal | str | None = None, refund_id: int | None = None,
                   note: str | None = None, restock: bool = False,
                   created_at: str | None = None, api_version: str = "2026-07",
                   **overrides: Any) -> dict[str, Any]:
    """refunds/create for an order: given line items ((line_item_id, qty) or {id, quantity}).

    Each refunded line's subtotal is its price times quantity less its share of the order's
    discount allocations. The refund transaction is `amount`, or the sum of the subtotals.
    """
    body = sample("refunds/create", api_version)
    # A refunded line carries the order's line as refunds/create shows it, which has fewer
    # keys than the orders/* line item (no attributed_staffs, current_quantity, …).
    line_keys = set(body["refund_line_items"][0]["line_item"])
    currency = order.get("currency") or "USD"
    rid = int(refund_id) if refund_id is not None else next_id()
    by_id = {int(li["id"]): li for li in order.get("line_items") or []}
    refunded = []
    for item in line_items or []:
        line_id, quantity = ((item[0], item[1]) if isinstance(item, tuple | list)
                             else (item["id"], item.get("quantity", 1)))
        line = by_id[int(line_id)]
        allocated = sum((Decimal(a["amount"]) for a in line.get("discount_allocations") or []),
                        Decimal("0"))
        per_unit = Decimal(line["price"]) - allocated / line["quantity"]
        subtotal = (per_unit * int(quantity)).quantize(CENT)
        refunded.append({
            "id": next_id(), "quantity": int(quantity), "line_item_id": int(line_id),
            "location_id": None, "restock_type": "return" if restock else "no_restock",
            "subtotal": float(subtotal), "total_tax": 0.0,
            "subtotal_set": money_set(subtotal, currency), "total_tax_set": money_set(0, currency),
            "line_item": {k: copy.deepcopy(v) for k, v in line.items() if k in line_keys}})
    value = (Decimal(str(amount)) if amount is not None
             else sum((Decimal(str(r["subtotal"])) for r in refunded), Decimal("0")))
    transaction = copy.deepcopy(body["transactions"][0])
    transaction_id = next_id()
    when = created_at or body["created_at"]
    transaction.update(id=transaction_id, order_id=order["id"], amount=cents(value),
                       currency=currency, created_at=when, processed_at=when, message=None,
                       test=bool(order.get("test")),
                       admin_graphql_api_id=gid("OrderTransaction", transaction_id))
    body.update(id=rid, admin_graphql_api_id=gid("Refund", rid), order_id=order["id"],
                note=note, restock=restock, created_at=when, processed_at=when,
                refund_line_items=refunded, transactions=[transaction] if value > 0 else [],
                order_adjustments=[])
    body.update(overrides)
    return body


def shop_payload(shop: str, *, topic: str = "app/uninstalled", name: str | None = None,
                 currency: str = "USD", shop_id: int | None = None,
                 api_version: str = "2026-07", **overrides: Any) -> dict[str, Any]:
    """app/uninstalled and shop/update: the Shop resource."""
    body = sample(topic, api_version)
    body.update(domain=shop, myshopify_domain=shop, currency=currency)
    if name is not None:
        body["name"] = name
    if shop_id is not None:
        body["id"] = shop_id
    body.update(overrides)
    return body


def compliance_payload(topic: str, shop: str, *, shop_id: int | None = None,
                       customer_id: int | None = None, email: str | None = None,
                       orders: list[int] | None = None, api_version: str = "2026-07",
                       **overrides: Any) -> dict[str, Any]:
    """customers/data_request, customers/redact and shop/redact for a shop (and customer)."""
    body = sample(topic, api_version)
    body["shop_domain"] = shop
    if shop_id is not None:
        body["shop_id"] = shop_id
    if "customer" in body:
        if customer_id is not None:
            body["customer"]["id"] = customer_id
        if email is not None:
            body["customer"]["email"] = email
    if orders is not None:
        for key in ("orders_requested", "orders_to_redact"):
            if key in body:
                body[key] = list(orders)
    body.update(overrides)
    return body
