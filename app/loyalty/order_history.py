"""Past orders as a bulk query's JSONL lines describe them, as plain HistoricOrder values.

Lines come from app/shopify/order_history's document: one line per order, then its line
items, each naming the order in `__parentId` (grouped under it: `groupObjects: true`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.loyalty.orders import ZERO, OrderAmounts, parse_shopify_time

# OrderDisplayFinancialStatus values of an order whose money was taken (refunds are
# subtracted from its spend separately).
PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})


@dataclass(frozen=True)
class HistoricOrder:
    """What the backfill needs from one past order (amounts in the shop's currency)."""

    shopify_order_id: int
    admin_graphql_id: str
    name: str | None
    email: str | None
    customer_id: int | None
    customer_email: str | None
    first_name: str | None
    last_name: str | None
    currency: str
    test: bool
    financial_status: str | None
    created_at: datetime | None
    processed_at: datetime | None
    updated_at: datetime | None
    cancelled_at: datetime | None
    amounts: OrderAmounts
    total_price: Decimal
    refunded: Decimal
    # Where it was placed (`sourceName`: "web", "pos", …), as orders/paid's `source_name`.
    source_name: str | None = None

    @property
    def in_store(self) -> bool:
        """Whether it was rung up in Shopify POS."""
        return self.source_name == "pos"

    @property
    def paid(self) -> bool:
        """Paid (in part refunded or not) and never cancelled."""
        return self.cancelled_at is None and self.financial_status in PAID_STATUSES

    @property
    def shopper_email(self) -> str | None:
        """The customer's email, else the order's (a guest checkout)."""
        return self.customer_email or self.email


def _money(obj: Mapping[str, Any] | None) -> Decimal:
    """A MoneyBag's shop amount."""
    amount = ((obj or {}).get("shopMoney") or {}).get("amount")
    return Decimal(str(amount)) if amount not in (None, "") else ZERO


def _number(gid: Any, kind: str) -> int | None:
    """The numeric id of a `gid://shopify/<kind>/<n>`, else None."""
    prefix = f"gid://shopify/{kind}/"
    if isinstance(gid, str) and gid.startswith(prefix) and gid[len(prefix):].isdigit():
        return int(gid[len(prefix):])
    return None


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def historic_order(line: Mapping[str, Any], items: Iterable[Mapping[str, Any]]
                   ) -> HistoricOrder | None:
    """An order line with its line-item lines as a HistoricOrder; None when it is not one.

    The subtotal is after every discount and holds tax when `taxesIncluded`; gift cards are
    taken out of it as their own amount so the shop's exclusion settings apply as for a live
    order. Shopify's order total tax is counted as the goods' tax (a past order's shipping tax
    is not told apart).
    """
    number = _number(line.get("id"), "Order")
    if number is None:
        return None
    gift_cards = sum((_money(i.get("discountedTotalSet")) for i in items if i.get("isGiftCard")),
                     ZERO)
    customer = line.get("customer") or {}
    amounts = OrderAmounts(
        goods=max(_money(line.get("subtotalPriceSet")) - gift_cards, ZERO),
        goods_tax=_money(line.get("totalTaxSet")), gift_cards=gift_cards,
        shipping=_money(line.get("totalShippingPriceSet")), shipping_tax=ZERO,
        tips=_money(line.get("totalTipReceivedSet")),
        taxes_included=bool(line.get("taxesIncluded")))
    return HistoricOrder(
        shopify_order_id=number, admin_graphql_id=str(line["id"]), name=_text(line.get("name")),
        email=_text(line.get("email")), customer_id=_number(customer.get("id"), "Customer"),
        customer_email=_text((customer.get("defaultEmailAddress") or {}).get("emailAddress")),
        first_name=_text(customer.get("firstName")), last_name=_text(customer.get("lastName")),
        currency=str(line.get("currencyCode") or "USD"), test=bool(line.get("test")),
        financial_status=_text(line.get("displayFinancialStatus")),
        created_at=parse_shopify_time(line.get("createdAt")),
        processed_at=parse_shopify_time(line.get("processedAt")),
        updated_at=parse_shopify_time(line.get("updatedAt")),
        cancelled_at=parse_shopify_time(line.get("cancelledAt")), amounts=amounts,
        total_price=_money(line.get("totalPriceSet")),
        refunded=_money(line.get("totalRefundedSet")),
        source_name=_text(line.get("sourceName")))


def grouped_orders(lines: Iterable[tuple[int, Mapping[str, Any]]]
                   ) -> Iterator[tuple[int, HistoricOrder | None]]:
    """(number of the order's last line, order) for each order line and the line items
    grouped after it; a line whose parent is not the order before it is not one of ours."""
    current: Mapping[str, Any] | None = None
    items: list[Mapping[str, Any]] = []
    last = 0
    for number, line in lines:
        parent = line.get("__parentId")
        if parent is not None:
            if current is not None and parent == current.get("id"):
                items.append(line)
            last = number
            continue
        if current is not None:
            yield last, historic_order(current, items)
        current, items, last = line, [], number
    if current is not None:
        yield last, historic_order(current, items)
