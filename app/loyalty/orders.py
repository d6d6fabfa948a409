"""Shopify order and refund payloads (REST webhook shape) as plain, frozen values.

Nothing here touches the database: a payload goes in, an OrderFacts or RefundFacts comes out,
so the rules downstream never read raw JSON. Amounts are in the shop's currency (`shop_money`),
never the presentment currency, and ids stay Python ints (they exceed 2^53, so a JavaScript
number would already have lost digits).
Payload reference: https://shopify.dev/docs/api/admin-rest/latest/resources/order and
https://shopify.dev/docs/api/admin-rest/latest/resources/refund
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings

ZERO = Decimal("0")

# Refunds paid back as Shopify store credit carry this gateway on their transactions.
STORE_CREDIT_GATEWAY = "shopify_store_credit"

# Folded so "12 Main Street, Apt. 4" and "12 main st apt 4" give the same digest.
_ADDRESS_WORDS = {
    "street": "st", "avenue": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr",
    "lane": "ln", "apartment": "apt", "suite": "ste", "floor": "fl", "north": "n",
    "south": "s", "east": "e", "west": "w",
}
_ADDRESS_FIELDS = ("address1", "address2", "city", "province_code", "zip", "country_code")


@dataclass(frozen=True)
class OrderAmounts:
    """An order's money split the way earning rules need it (shop currency)."""

    goods: Decimal          # line items after their discounts, gift cards and tips left out
    goods_tax: Decimal      # tax on those lines (inside `goods` when taxes are included)
    gift_cards: Decimal     # gift-card line items after discounts
    shipping: Decimal       # shipping lines after shipping discounts
    shipping_tax: Decimal
    tips: Decimal
    taxes_included: bool

    def eligible(self, earning: Mapping[str, Any]) -> Decimal:
        """The amount that earns points under a shop's exclusion settings, never negative."""
        amount = self.goods
        if self.taxes_included and earning["exclude_taxes"]:
            amount -= self.goods_tax
        if not self.taxes_included and not earning["exclude_taxes"]:
            amount += self.goods_tax
        if not earning["exclude_gift_cards"]:
            amount += self.gift_cards
        if not earning["exclude_shipping"]:
            amount += self.shipping
            if not self.taxes_included and not earning["exclude_taxes"]:
                amount += self.shipping_tax
            if self.taxes_included and earning["exclude_taxes"]:
                amount -= self.shipping_tax
        if not earning["exclude_tips"]:
            amount += self.tips
        return max(amount, ZERO)


@dataclass(frozen=True)
class OrderFacts:
    """What the program needs from an orders/paid, orders/cancelled or orders/updated payload."""

    shopify_order_id: int
    admin_graphql_id: str | None
    name: str | None
    email: str | None
    customer_id: int | None
    customer_email: str | None
    customer_first_name: str | None
    customer_last_name: str | None
    currency: str
    test: bool
    browser_ip: str | None
    note_attributes: Mapping[str, str]
    discount_codes: tuple[str, ...]
    landing_site: str | None
    address_digest: str | None
    amounts: OrderAmounts
    eligible_amount: Decimal
    total_price: Decimal
    financial_status: str | None
    cancelled_at: datetime | None
    updated_at: datetime | None

    @property
    def shopper_email(self) -> str | None:
        """The email points accrue to: the customer's, else the order's (guest checkout)."""
        return self.customer_email or self.email


@dataclass(frozen=True)
class RefundFacts:
    """What the program needs from a refunds/create payload."""

    refund_id: int
    shopify_order_id: int
    # The part of the refund that had earned points, under the shop's exclusion settings.
    eligible_amount: Decimal
    line_subtotal: Decimal
    adjustments: Decimal
    # Money actually returned, and how much of it went back as Shopify store credit, in the
    # shop's currency (see `_transactions_in_shop_money`).
    refunded_total: Decimal
    store_credit_amount: Decimal
    created_at: datetime | None
    # Tax on the refunded lines that count, and the order flag the amounts were parsed with:
    # together they let the eligible amount follow the stored order's flag (a refund payload
    # does not say whether prices included tax).
    line_tax: Decimal = ZERO
    taxes_included: bool = False

    @property
    def paid_as_store_credit(self) -> bool:
        """Whether any of this refund went back as store credit (it still reverses points)."""
        return self.store_credit_amount > 0

    def with_taxes_included(self, taxes_included: bool) -> RefundFacts:
        """These facts as parse_refund gives them for an order with that taxes_included flag.

        Whatever the exclusion settings, a line counts exactly its tax less when the price
        already included it (see `_refund_line_eligible`), so the switch is one subtraction.
        """
        if taxes_included == self.taxes_included:
            return self
        lines = self.line_subtotal + (-self.line_tax if taxes_included else self.line_tax)
        return replace(self, taxes_included=taxes_included, line_subtotal=lines,
                       eligible_amount=max(lines + self.adjustments, ZERO))


def _decimal(raw: Any) -> Decimal:
    """A Decimal from a JSON string or number; floats go through str() to keep their digits."""
    if raw is None or raw == "":
        return ZERO
    return Decimal(str(raw))


def _shop_money(obj: Mapping[str, Any], field: str) -> Decimal:
    """`field` in shop currency: the `_set.shop_money` form when present, else the plain one."""
    money_set = obj.get(f"{field}_set") or {}
    shop_money = money_set.get("shop_money") or {}
    if shop_money.get("amount") is not None:
        return _decimal(shop_money["amount"])
    return _decimal(obj.get(field))


def _int_or_none(raw: Any) -> int | None:
    """An id as int (strings too), or None."""
    if raw is None or raw == "":
        return None
    return int(raw)


def _text(raw: Any) -> str | None:
    """A stripped string, or None when empty."""
    text = str(raw).strip() if raw is not None else ""
    return text or None


def parse_shopify_time(raw: Any) -> datetime | None:
    """An ISO 8601 timestamp with offset as naive UTC (how the database stores time)."""
    if not raw:
        return None
    value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _is_tip_line(line: Mapping[str, Any]) -> bool:
    """Whether a line item is a tip rather than goods.

    Tips are reported in `total_tip_received`; where a channel also lists one as a line item
    it has no product or variant, ships nothing and is titled "Tip".
    """
    title = str(line.get("title") or line.get("name") or "").strip().lower()
    return (title == "tip" and line.get("product_id") is None
            and line.get("variant_id") is None and not line.get("requires_shipping"))


def _line_discounts(line: Mapping[str, Any]) -> Decimal:
    """Discounts on a line: its allocations (line and order level), else `total_discount`."""
    allocations = line.get("discount_allocations") or []
    if allocations:
        return sum((_shop_money(a, "amount") for a in allocations), ZERO)
    # `total_discount` is the legacy field; counting both would discount twice.
    return _shop_money(line, "total_discount")


def _tax(obj: Mapping[str, Any]) -> Decimal:
    """The sum of an order line's or shipping line's tax lines."""
    return sum((_shop_money(t, "price") for t in obj.get("tax_lines") or []), ZERO)


def order_amounts(payload: Mapping[str, Any]) -> OrderAmounts:
    """Split an order's money into goods, gift cards, shipping, taxes and tips."""
    goods = goods_tax = gift_cards = shipping = shipping_tax = ZERO
    for line in payload.get("line_items") or []:
        if _is_tip_line(line):
            continue
        # `quantity`, not `current_quantity`: later removals arrive as refunds and are
        # reversed from there; the discount allocations are for the original quantity.
        net = _shop_money(line, "price") * int(line.get("quantity") or 0) - _line_discounts(line)
        if line.get("gift_card"):
            gift_cards += net
        else:
            goods += net
            goods_tax += _tax(line)
    for line in payload.get("shipping_lines") or []:
        if line.get("is_removed"):
            continue
        if line.get("discounted_price") is not None or line.get("discounted_price_set"):
            shipping += _shop_money(line, "discounted_price")
        else:
            shipping += _shop_money(line, "price") - sum(
                (_shop_money(a, "amount") for a in line.get("discount_allocations") or []), ZERO)
        shipping_tax += _tax(line)
    tips = _shop_money(payload, "total_tip_received")
    return OrderAmounts(goods=goods, goods_tax=goods_tax, gift_cards=gift_cards,
                        shipping=shipping, shipping_tax=shipping_tax, tips=tips,
                        taxes_included=bool(payload.get("taxes_included")))


def _fold_address_part(text: str) -> str:
    """Lowercase ASCII words with punctuation and runs of spaces folded, common words shortened."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).split()
    return " ".join(_ADDRESS_WORDS.get(w, w) for w in words)


def address_digest(address: Mapping[str, Any] | None, salt: str = "") -> str | None:
    """SHA-256 of a normalised shipping address (names left out), or None without one.

    Only the digest is stored: enough to notice a referrer and a "friend" shipping to the same
    door, without keeping the address. The salt (the shop's domain) keeps digests from linking
    shoppers across shops.
    """
    if not address:
        return None
    parts = []
    for field in _ADDRESS_FIELDS:
        folded = _fold_address_part(str(address.get(field) or ""))
        if field == "zip":
            folded = folded.replace(" ", "")
        parts.append(folded)
    if not parts[0]:
        return None
    return hashlib.sha256(f"{salt}|{'|'.join(parts)}".encode()).hexdigest()


def parse_order(payload: Mapping[str, Any], settings: ProgramSettings | None = None, *,
                address_salt: str = "") -> OrderFacts:
    """OrderFacts from an order payload; the eligible amount follows the settings' exclusions."""
    earning = settings.earning if settings is not None else DEFAULT_SETTINGS["earning"]
    customer = payload.get("customer") or {}
    amounts = order_amounts(payload)
    attributes = {str(a.get("name")): str(a.get("value") if a.get("value") is not None else "")
                  for a in payload.get("note_attributes") or [] if a.get("name") is not None}
    codes = tuple(str(c["code"]) for c in payload.get("discount_codes") or [] if c.get("code"))
    return OrderFacts(
        shopify_order_id=int(payload["id"]),
        admin_graphql_id=_text(payload.get("admin_graphql_api_id")),
        name=_text(payload.get("name")),
        email=_text(payload.get("email") or payload.get("contact_email")),
        customer_id=_int_or_none(customer.get("id")),
        customer_email=_text(customer.get("email")),
        customer_first_name=_text(customer.get("first_name")),
        customer_last_name=_text(customer.get("last_name")),
        currency=str(payload.get("currency") or "USD"),
        test=bool(payload.get("test")),
        browser_ip=_text(payload.get("browser_ip")),
        note_attributes=MappingProxyType(attributes),
        discount_codes=codes,
        landing_site=_text(payload.get("landing_site")),
        address_digest=address_digest(payload.get("shipping_address"), address_salt),
        amounts=amounts,
        eligible_amount=amounts.eligible(earning),
        total_price=_shop_money(payload, "total_price"),
        financial_status=_text(payload.get("financial_status")),
        cancelled_at=parse_shopify_time(payload.get("cancelled_at")),
        updated_at=parse_shopify_time(payload.get("updated_at")),
    )


def _refund_line_eligible(item: Mapping[str, Any], earning: Mapping[str, Any],
                          taxes_included: bool) -> tuple[Decimal, Decimal]:
    """The eligible part of one refunded line, by the same exclusions as the order, and its tax.

    The tax is zero for a line that does not count at all (an excluded tip or gift card).
    """
    line = item.get("line_item") or {}
    if _is_tip_line(line) and earning["exclude_tips"]:
        return ZERO, ZERO
    if line.get("gift_card") and earning["exclude_gift_cards"]:
        return ZERO, ZERO
    subtotal = _shop_money(item, "subtotal")
    tax = _shop_money(item, "total_tax")
    if taxes_included and earning["exclude_taxes"]:
        return subtotal - tax, tax
    if not taxes_included and not earning["exclude_taxes"]:
        return subtotal + tax, tax
    return subtotal, tax


def _money_sets(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The refund's {shop_money, presentment_money} bags: lines, tax, adjustments, shipping."""
    found = []
    for item in payload.get("refund_line_items") or []:
        found += [item.get("subtotal_set"), item.get("total_tax_set")]
    for adjustment in payload.get("order_adjustments") or []:
        found.append(adjustment.get("amount_set"))
    for line in payload.get("refund_shipping_lines") or []:
        found.append(line.get("subtotal_amount_set"))
    return [bag for bag in found if isinstance(bag, Mapping)]


def _transactions_in_shop_money(payload: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """(refunded, of which store credit) in the shop's currency.

    A transaction's `amount` is in the transaction's own `currency`, the shopper's presentment
    currency on a multi-currency order, while every `_set` bag of the refund says the same
    money in both currencies. So a transaction in the presentment currency is converted at the
    refund's own rate (its bags' shop total over their presentment total); a refund with no
    bag to take a rate from keeps the amount as Shopify wrote it.
    https://shopify.dev/docs/api/admin-rest/latest/resources/transaction (amount, currency)
    """
    shop_total = presentment_total = ZERO
    shop_currency = presentment_currency = None
    for bag in _money_sets(payload):
        shop, shown = bag.get("shop_money") or {}, bag.get("presentment_money") or {}
        if shop.get("amount") is None or shown.get("amount") is None:
            continue
        shop_currency = shop_currency or shop.get("currency_code")
        presentment_currency = presentment_currency or shown.get("currency_code")
        shop_total += _decimal(shop["amount"])
        presentment_total += _decimal(shown["amount"])
    refunded = store_credit = ZERO
    for transaction in payload.get("transactions") or []:
        if transaction.get("kind") != "refund" or transaction.get("status") != "success":
            continue
        amount = _decimal(transaction.get("amount"))
        currency = transaction.get("currency") or presentment_currency
        if (currency and currency != shop_currency and currency == presentment_currency
                and presentment_total):
            amount = (amount * shop_total / presentment_total).quantize(Decimal("0.01"))
        refunded += amount
        if transaction.get("gateway") == STORE_CREDIT_GATEWAY:
            store_credit += amount
    return refunded, store_credit


def parse_refund(payload: Mapping[str, Any], settings: ProgramSettings | None = None, *,
                 taxes_included: bool = False) -> RefundFacts:
    """RefundFacts from a refunds/create payload.

    The eligible amount is the refunded line subtotals plus order adjustments: a refund typed as
    an amount instead of line items arrives as a `refund_discrepancy` adjustment and counts too.
    Adjustments are signed from the order's side (money back is negative), hence the minus.
    `taxes_included` is the order's flag (a refund payload does not carry it); when the caller
    does not know it, `reverse_refund` re-derives the amounts from the stored order's flag.
    """
    earning = settings.earning if settings is not None else DEFAULT_SETTINGS["earning"]
    lines = line_tax = ZERO
    for item in payload.get("refund_line_items") or []:
        eligible, tax = _refund_line_eligible(item, earning, taxes_included)
        lines += eligible
        line_tax += tax
    adjustments = ZERO
    shipping_lines = payload.get("refund_shipping_lines") or []
    for adjustment in payload.get("order_adjustments") or []:
        amount = -_shop_money(adjustment, "amount")
        if adjustment.get("kind") == "shipping_refund":
            # Newer payloads list shipping in refund_shipping_lines; never count it twice.
            if not earning["exclude_shipping"] and not shipping_lines:
                adjustments += amount
        else:
            adjustments += amount
    if not earning["exclude_shipping"]:
        adjustments += sum((_shop_money(s, "subtotal_amount") for s in shipping_lines), ZERO)
    refunded, store_credit = _transactions_in_shop_money(payload)
    return RefundFacts(
        refund_id=int(payload["id"]),
        shopify_order_id=int(payload["order_id"]),
        eligible_amount=max(lines + adjustments, ZERO),
        line_subtotal=lines,
        adjustments=adjustments,
        refunded_total=refunded,
        store_credit_amount=store_credit,
        created_at=parse_shopify_time(payload.get("created_at") or payload.get("processed_at")),
        line_tax=line_tax,
        taxes_included=taxes_included,
    )
