"""The DiscountIssuer port of app/loyalty/redemption.py, spoken to Shopify's Admin GraphQL API.

Redemption decides what to create; this adapter only translates: the domain's CombinesWith and
customer gid into AdminClient's arguments, AdminClient's results into the bare ids the port
returns. Every failure is AdminClient's typed ShopifyError, which redemption turns into a
refund. Operations: shopify.dev/docs/api/admin-graphql/2026-07/mutations/discountCodeBasicCreate,
…/discountCodeFreeShippingCreate, …/discountCodeDelete, …/storeCreditAccountCredit,
…/queries/codeDiscountNodeByCode, …/objects/StoreCreditAccount (transactions).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

from app.config import Settings
from app.db import Database
from app.loyalty.issuing import CombinesWith
from app.models import Shop
from app.shopify import graphql
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, ShopifyUserError
from app.shopify.tokens import TokenUnavailable, access_token_for

# Our clock and Shopify's are not the same clock: a credit Shopify stamps a little before the
# redemption's own timestamp is still that redemption's credit. Wider would risk claiming an
# earlier credit of the same amount to the same customer.
CLOCK_SKEW = timedelta(minutes=2)


def _combinations(combines_with: CombinesWith) -> graphql.CombinesWith:
    """The domain's stacking rule as AdminClient's DiscountCombinesWithInput value."""
    return graphql.CombinesWith(order_discounts=combines_with.order_discounts,
                                product_discounts=combines_with.product_discounts,
                                shipping_discounts=combines_with.shipping_discounts)


class ShopifyDiscountIssuer:
    """Creates, finds and deletes reward codes and store credit in one shop."""

    def __init__(self, client: AdminClient) -> None:
        """Issue through `client`, which holds the shop and a valid access token."""
        self.client = client

    def __repr__(self) -> str:
        """The shop only (the client never shows its token either)."""
        return f"ShopifyDiscountIssuer({self.client.shop!r})"

    def create_basic_discount(
            self, *, title: str, code: str, customer_gid: str | None, starts_at: datetime,
            ends_at: datetime | None, amount: Decimal | None, percentage: Decimal | None,
            min_subtotal: Decimal | None, combines_with: CombinesWith, usage_limit: int | None,
            applies_once_per_customer: bool) -> str:
        """discountCodeBasicCreate; the DiscountCodeNode id."""
        return self.client.create_basic_discount(
            code=code, title=title, customer_id=customer_gid, starts_at=starts_at,
            ends_at=ends_at, amount=amount, percentage=percentage,
            minimum_subtotal=min_subtotal, combines_with=_combinations(combines_with),
            usage_limit=usage_limit, applies_once_per_customer=applies_once_per_customer).id

    def create_free_shipping_discount(
            self, *, title: str, code: str, customer_gid: str | None, starts_at: datetime,
            ends_at: datetime | None, min_subtotal: Decimal | None,
            combines_with: CombinesWith, usage_limit: int | None,
            applies_once_per_customer: bool) -> str:
        """discountCodeFreeShippingCreate; the DiscountCodeNode id."""
        return self.client.create_free_shipping_discount(
            code=code, title=title, customer_id=customer_gid, starts_at=starts_at,
            ends_at=ends_at, minimum_subtotal=min_subtotal,
            combines_with=_combinations(combines_with), usage_limit=usage_limit,
            applies_once_per_customer=applies_once_per_customer).id

    def credit_store_credit(self, *, customer_gid: str, amount: Decimal, currency: str) -> str:
        """storeCreditAccountCredit; the credit transaction's id."""
        credit = self.client.credit_store_credit(customer_gid, amount, currency)
        if credit.id is None:
            # A credit we cannot name could never be found again by recovery: treat as failed.
            raise graphql.ShopifyError("missing_transaction_id",
                                       "storeCreditAccountCredit returned no transaction id")
        return credit.id

    def find_discount(self, code: str) -> str | None:
        """codeDiscountNodeByCode: the id of the discount holding this code, if any."""
        return self.client.find_discount(code)

    def find_store_credit(self, *, customer_gid: str, amount: Decimal, currency: str,
                          since: datetime) -> str | None:
        """A credit of exactly this amount to this customer since `since` (less CLOCK_SKEW)."""
        found = self.client.find_store_credit(customer_gid, amount, currency,
                                              since - CLOCK_SKEW)
        return found.id if found is not None else None

    def void_discount(self, discount_id: str) -> None:
        """discountCodeDelete; a discount that is already gone counts as deleted.

        Shopify documents no error code for "no such discount", so a refusal is checked
        against the discount itself before it is believed.
        """
        try:
            self.client.delete_discount(discount_id)
        except ShopifyUserError:
            if self.client.discount_exists(discount_id):
                raise


@contextmanager
def discount_issuer_for(db: Database, shop_id: int, settings: Settings,
                        now: datetime) -> Iterator[ShopifyDiscountIssuer]:
    """An issuer for one installed shop, with a fresh access token; closes its HTTP client.

    Raises TokenUnavailable when the shop is unknown, uninstalled or must open the app again.
    Runs its own short transaction to refresh the token: call it with no transaction open.
    """
    with db.sessions() as session:
        with session.begin():
            shop = session.get(Shop, shop_id)
            if shop is None:
                raise TokenUnavailable("unknown_shop")
            domain = shop.domain
        with shop_http_client(settings) as http:
            token = access_token_for(session, domain, now, settings=settings, http=http)
            yield ShopifyDiscountIssuer(AdminClient(domain, token, settings=settings, http=http))
