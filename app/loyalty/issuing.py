"""The Shopify port of redemption: what issuing a reward asks of Shopify, and with what.

app/shopify/discounts.py implements `DiscountIssuer` for real; each reward kind
(app/loyalty/reward_kinds.py) says which of its calls makes that kind. Plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class CombinesWith:
    """Shopify's DiscountCombinesWithInput: which other discount classes may stack with it."""

    order_discounts: bool
    product_discounts: bool
    shipping_discounts: bool


class DiscountIssuer(Protocol):
    """What redemption needs from Shopify; app/shopify/discounts.py implements it for real.

    Every method raises on failure (transport error, throttling given up, userErrors).
    Reference: https://shopify.dev/docs/api/admin-graphql/latest/mutations/discountCodeBasicCreate,
    .../discountCodeFreeShippingCreate, .../storeCreditAccountCredit.
    """

    def create_basic_discount(
            self, *, title: str, code: str, customer_gid: str | None, starts_at: datetime,
            ends_at: datetime | None, amount: Decimal | None, percentage: Decimal | None,
            min_subtotal: Decimal | None, combines_with: CombinesWith, usage_limit: int | None,
            applies_once_per_customer: bool) -> str:
        """discountCodeBasicCreate; `percentage` is a fraction (0.1 = 10 %). Returns the node id.

        customer_gid None means any customer (context `all`), else `customers: {add: [gid]}`.
        """
        ...

    def create_free_shipping_discount(
            self, *, title: str, code: str, customer_gid: str | None, starts_at: datetime,
            ends_at: datetime | None, min_subtotal: Decimal | None,
            combines_with: CombinesWith, usage_limit: int | None,
            applies_once_per_customer: bool) -> str:
        """discountCodeFreeShippingCreate; returns the discount node id."""
        ...

    def credit_store_credit(self, *, customer_gid: str, amount: Decimal, currency: str) -> str:
        """storeCreditAccountCredit; returns the credit transaction id."""
        ...

    def find_discount(self, code: str) -> str | None:
        """codeDiscountNodeByCode: the id of the discount holding this code, if it exists."""
        ...

    def find_store_credit(self, *, customer_gid: str, amount: Decimal, currency: str,
                          since: datetime) -> str | None:
        """A credit of exactly this amount to this customer made at or after `since`, if any.

        storeCreditAccountCredit takes no idempotency key, so this lookup is how a retry
        learns whether a credit whose answer was lost actually happened.
        """
        ...

    def void_discount(self, discount_id: str) -> None:
        """discountCodeDelete; a discount that is already gone counts as deleted."""
        ...


@dataclass(frozen=True)
class IssueRequest:
    """Everything the issue step needs, read inside transaction 1 so step 2 touches no DB."""

    redemption_id: int
    kind: str
    code: str
    title: str
    customer_gid: str
    value: Decimal
    min_subtotal: Decimal | None
    combines: bool
    currency: str
    created_at: datetime


def customer_gid(customer_id: int) -> str:
    """The Admin API global id of a customer."""
    return f"gid://shopify/Customer/{customer_id}"
