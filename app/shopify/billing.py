"""Shopify's Billing API: ask for an app subscription, learn it was approved, charge usage.

- `appSubscriptionCreate` answers a `confirmationUrl` where the merchant approves the plan and
  its capped amount; Shopify then sends them to `returnUrl` with `charge_id`
  (shopify.dev/docs/api/admin-graphql/2026-07/mutations/appSubscriptionCreate). `test: true`
  outside production: a test charge is never billed
  (shopify.dev/docs/apps/launch/billing/subscription-billing/create-usage-based-subscriptions).
- `currentAppInstallation.activeSubscriptions` says which subscription is active; the
  `app_subscriptions/update` webhook says when a status changes later.
- `appUsageRecordCreate` charges usage on the usage line item, within the capped amount, once
  per `idempotencyKey` (shopify.dev/docs/api/admin-graphql/2026-07/mutations/
  appUsageRecordCreate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.shopify.graphql import MUTATION_COST, AdminClient, ShopifyUserError, UserError

APP_SUBSCRIPTION_CREATE_MUTATION = """mutation LoyaltyAppSubscriptionCreate(
  $name: String!, $returnUrl: URL!, $test: Boolean, $lineItems: [AppSubscriptionLineItemInput!]!
) {
  appSubscriptionCreate(name: $name, returnUrl: $returnUrl, test: $test, lineItems: $lineItems) {
    appSubscription {
      id status
      lineItems { id plan { pricingDetails { __typename } } }
    }
    confirmationUrl
    userErrors { field message }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/objects/AppInstallation#field-activeSubscriptions
ACTIVE_SUBSCRIPTIONS_QUERY = """query LoyaltyActiveSubscriptions {
  currentAppInstallation {
    activeSubscriptions { id name status test createdAt currentPeriodEnd }
  }
}"""

APP_USAGE_RECORD_CREATE_MUTATION = """mutation LoyaltyAppUsageRecordCreate(
  $subscriptionLineItemId: ID!, $price: MoneyInput!, $description: String!,
  $idempotencyKey: String
) {
  appUsageRecordCreate(subscriptionLineItemId: $subscriptionLineItemId, price: $price,
                       description: $description, idempotencyKey: $idempotencyKey) {
    appUsageRecord { id idempotencyKey price { amount currencyCode } }
    userErrors { field message }
  }
}"""


def _refused(payload: Mapping[str, Any]) -> None:
    errors = [UserError(field=tuple(e.get("field") or ()), code=None,
                        message=str(e.get("message") or ""))
              for e in payload.get("userErrors") or []]
    if errors:
        raise ShopifyUserError(errors)


@dataclass(frozen=True)
class CreatedSubscription:
    """What appSubscriptionCreate answered."""

    id: str
    status: str
    confirmation_url: str
    usage_line_item_id: str | None


def subscription_input(*, name: str, monthly_price: Decimal, capped_amount: Decimal,
                       terms: str, currency: str, return_url: str, test: bool
                       ) -> dict[str, Any]:
    """appSubscriptionCreate's variables: a 30-day recurring price (when there is one) and a
    usage line with its capped amount and terms."""
    items: list[dict[str, Any]] = []
    if monthly_price > 0:
        items.append({"plan": {"appRecurringPricingDetails": {
            "price": {"amount": str(monthly_price), "currencyCode": currency},
            "interval": "EVERY_30_DAYS"}}})
    items.append({"plan": {"appUsagePricingDetails": {
        "cappedAmount": {"amount": str(capped_amount), "currencyCode": currency},
        "terms": terms}}})
    return {"name": name, "returnUrl": return_url, "test": test, "lineItems": items}


def create_subscription(client: AdminClient, variables: Mapping[str, Any]
                        ) -> CreatedSubscription:
    """Ask Shopify for the subscription; the merchant approves it at the confirmation URL."""
    data = client.execute(APP_SUBSCRIPTION_CREATE_MUTATION, variables,
                          operation="appSubscriptionCreate", cost=MUTATION_COST)
    payload = data.get("appSubscriptionCreate") or {}
    _refused(payload)
    subscription = payload["appSubscription"]
    usage = next((item["id"] for item in subscription.get("lineItems") or []
                  if ((item.get("plan") or {}).get("pricingDetails") or {}).get("__typename")
                  == "AppUsagePricing"), None)
    return CreatedSubscription(subscription["id"], subscription["status"],
                               payload["confirmationUrl"], usage)


def active_subscription_ids(client: AdminClient) -> set[str]:
    """The ids of the app's active subscriptions on the shop."""
    data = client.execute(ACTIVE_SUBSCRIPTIONS_QUERY, operation="currentAppInstallation")
    found = (data.get("currentAppInstallation") or {}).get("activeSubscriptions") or []
    return {s["id"] for s in found if s.get("status") == "ACTIVE"}


def create_usage_record(client: AdminClient, line_item_id: str, amount: Decimal,
                        currency: str, description: str, key: str) -> str:
    """Charge `amount` on the usage line item once per `key`; the usage record's id."""
    data = client.execute(APP_USAGE_RECORD_CREATE_MUTATION, {
        "subscriptionLineItemId": line_item_id,
        "price": {"amount": str(amount), "currencyCode": currency},
        "description": description, "idempotencyKey": key},
        operation="appUsageRecordCreate", cost=MUTATION_COST)
    payload = data.get("appUsageRecordCreate") or {}
    _refused(payload)
    return payload["appUsageRecord"]["id"]
