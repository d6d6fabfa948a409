"""A store's past orders, generated in bulk for backfill tests and the bench.

Each order is the REST-shaped dict the emulator keeps for orders it delivered, holding only
keys Shopify's order has (the ones `admin_api.order_node` reads), so 100,000 of them fit in
memory and the Admin API answers them like any other order.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from devstore.state import ShopState, gid, next_id

CENT = Decimal("0.01")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_order_history(shop: ShopState, count: int, *, days: int = 365, customers: int = 1000,
                      now: datetime | None = None, seed: int = 17, guest_share: float = 0.05,
                      first_number: int = 1001) -> list[int]:
    """Add `count` past orders spread over the last `days` days, by `customers` customers
    (registered in the shop) and some guests; returns their ids, oldest first.

    The mix is fixed by `seed`: about 90 % paid, 4 % partly refunded, 1 % refunded, 3 %
    cancelled, 2 % never paid; 1 % test orders; one order in 20 adds a gift card.
    """
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    people = []
    for index in range(customers):
        customer = shop.add_customer(email=f"shopper{index}@example.com",
                                     first_name=f"Shopper{index}", last_name="History")
        people.append(customer)
    span = days * 86400
    moments = sorted(rng.randrange(60, span) for _ in range(count))
    ids = []
    currency = shop.currency
    for offset, number in zip(reversed(moments), range(first_number, first_number + count),
                              strict=True):
        order_id = next_id()
        created = now - timedelta(seconds=offset)
        price = (Decimal(rng.randrange(1000, 20000)) / 100).quantize(CENT)
        quantity = rng.choice((1, 1, 1, 2))
        lines = [{"id": next_id(), "title": "Tea", "name": "Tea", "quantity": quantity,
                  "price": str(price), "total_discount": "0.00", "gift_card": False,
                  "product_id": 7001, "sku": None}]
        subtotal = price * quantity
        if rng.random() < 0.05:
            lines.append({"id": next_id(), "title": "Gift card", "name": "Gift card",
                          "quantity": 1, "price": "25.00", "total_discount": "0.00",
                          "gift_card": True, "product_id": None, "sku": None})
            subtotal += Decimal("25.00")
        roll = rng.random()
        status, cancelled, refunded = "paid", None, Decimal(0)
        if roll < 0.04:
            status, refunded = "partially_refunded", (price / 2).quantize(CENT)
        elif roll < 0.05:
            status, refunded = "refunded", subtotal
        elif roll < 0.08:
            status, cancelled = "voided", _iso(created + timedelta(hours=2))
        elif roll < 0.10:
            status = "pending"
        customer = None if rng.random() < guest_share else rng.choice(people)
        email = customer.email if customer else f"guest{rng.randrange(customers)}@example.com"
        shipping = Decimal("4.99")
        order = {
            "id": order_id, "admin_graphql_api_id": gid("Order", order_id),
            "name": f"#{number}", "email": email, "created_at": _iso(created),
            "processed_at": _iso(created), "updated_at": _iso(created + timedelta(hours=1)),
            "cancelled_at": cancelled, "currency": currency, "financial_status": status,
            "test": rng.random() < 0.01, "taxes_included": False, "source_name": "web",
            "subtotal_price": str(subtotal), "total_tax": "0.00",
            "total_price": str(subtotal + shipping),
            "total_shipping_price_set": {"shop_money": {"amount": str(shipping),
                                                        "currency_code": currency}},
            "line_items": lines,
            "customer": ({"id": customer.id, "email": customer.email,
                          "first_name": customer.first_name,
                          "last_name": customer.last_name} if customer else None),
            "refunds": ([{"id": next_id(), "transactions": [
                {"kind": "refund", "status": "success", "amount": str(refunded)}]}]
                if refunded else []),
        }
        shop.orders[order_id] = order
        ids.append(order_id)
    return ids
