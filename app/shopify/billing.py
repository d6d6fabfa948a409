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
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.loyalty.billing import PERIOD, PLANS, Plan, billable_orders
from app.models import BillingSubscription, Shop, UsageCharge
from app.runtime import Runtime
from app.shopify.domains import shop_http_client
from app.shopify.graphql import MUTATION_COST, AdminClient, ShopifyUserError, UserError
from app.shopify.tokens import access_token_for

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


def subscription_input(plan: Plan, capped_amount: Decimal, currency: str, return_url: str,
                       test: bool) -> dict[str, Any]:
    """appSubscriptionCreate's variables for a plan: its monthly price and its usage terms."""
    items: list[dict[str, Any]] = []
    if plan.monthly_price > 0:
        items.append({"plan": {"appRecurringPricingDetails": {
            "price": {"amount": str(plan.monthly_price), "currencyCode": currency},
            "interval": "EVERY_30_DAYS"}}})
    items.append({"plan": {"appUsagePricingDetails": {
        "cappedAmount": {"amount": str(capped_amount), "currencyCode": currency},
        "terms": plan.terms(currency)}}})
    return {"name": f"Loyalty Loop {plan.name}", "returnUrl": return_url, "test": test,
            "lineItems": items}


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


# --- what happens to our rows -----------------------------------------------------------------

def activate(session: Session, subscription: BillingSubscription, now: datetime) -> None:
    """The subscription is approved: it applies from now, the shop's other ones end."""
    if subscription.status == "ACTIVE":
        return
    subscription.status, subscription.activated_at = "ACTIVE", now
    for other in session.execute(select(BillingSubscription).where(
            BillingSubscription.shop_id == subscription.shop_id,
            BillingSubscription.id != subscription.id,
            BillingSubscription.status.in_(("ACTIVE", "PENDING")))).scalars():
        other.status, other.ended_at = "CANCELLED", now


def record_status(session: Session, shop: Shop, subscription_gid: str, status: str,
                  now: datetime) -> str:
    """app_subscriptions/update: the subscription's new status (ACTIVE, DECLINED, …)."""
    subscription = session.execute(select(BillingSubscription).where(
        BillingSubscription.shop_id == shop.id,
        BillingSubscription.shopify_subscription_id == subscription_gid)
        .with_for_update()).scalar_one_or_none()
    if subscription is None:
        return "subscription: not ours"
    status = status.upper()
    if status == "ACTIVE":
        activate(session, subscription, now)
    elif status in ("DECLINED", "CANCELLED", "FROZEN", "EXPIRED"):
        subscription.status = status
        subscription.ended_at = subscription.ended_at or now
    return f"subscription: {subscription.status.lower()}"


def subscription_updated(session: Session, event: Any, shop: Shop | None,
                         payload: dict[str, Any], now: datetime, followups: Any) -> str:
    """The app_subscriptions/update topic: `app_subscription.admin_graphql_api_id` and its
    `status` (a subscription of another shop is never found under this one)."""
    subscription = payload.get("app_subscription") or {}
    if shop is None or not isinstance(subscription.get("admin_graphql_api_id"), str):
        return "subscription: nothing to apply"
    return record_status(session, shop, subscription["admin_graphql_api_id"],
                         str(subscription.get("status") or ""), now)


def _closed_periods(subscription: BillingSubscription, now: datetime
                    ) -> list[tuple[datetime, datetime]]:
    start = subscription.activated_at
    periods = []
    while start is not None and start + PERIOD <= now:
        periods.append((start, start + PERIOD))
        start += PERIOD
    return periods


def charge_closed_periods(runtime: Runtime, shop_id: int, now: datetime | None = None) -> str:
    """Charge the usage of every closed period of the shop's active subscription, once each.

    A period closes 30 days after it starts; its count then is final (refunds and cancels
    inside it have already taken their orders out). Usage beyond the plan's included orders is
    charged at the plan's price per order, within what remains of the approved cap; the
    idempotency key makes a retried charge the same charge.
    """
    now = now or utcnow()
    settings = runtime.settings
    with runtime.db.sessions() as session:
        shop = session.get(Shop, shop_id)
        subscription = session.execute(select(BillingSubscription).where(
            BillingSubscription.shop_id == shop_id, BillingSubscription.status == "ACTIVE")
            .order_by(BillingSubscription.id.desc()).limit(1)).scalar_one_or_none()
        if shop is None or subscription is None or subscription.usage_line_item_id is None:
            return "nothing to charge"
        plan = PLANS[subscription.plan]
        charged = set(session.execute(select(UsageCharge.period_start).where(
            UsageCharge.subscription_id == subscription.id)).scalars())
        due = []
        for start, end in _closed_periods(subscription, now):
            if start in charged:
                continue
            counted = billable_orders(session, shop_id, start, end)
            due.append((start, end, counted, max(0, counted - plan.included_orders)))
        domain, sub_id, line_item = shop.domain, subscription.id, subscription.usage_line_item_id
        cap, currency = subscription.capped_amount, subscription.currency
    if not due:
        return "nothing to charge"
    notes = []
    with shop_http_client(settings) as http:
        with runtime.db.sessions() as session:
            token = access_token_for(session, domain, now, settings=settings, http=http)
        client = AdminClient(domain, token, settings=settings, http=http)
        for start, end, counted, over in due:
            amount = min(Decimal(over) * plan.price_per_order, cap).quantize(Decimal("0.01"))
            key = f"usage-{sub_id}-{start:%Y%m%d%H%M%S}"
            record_id = None
            if amount > 0:
                record_id = create_usage_record(
                    client, line_item, amount, currency,
                    f"{over:,} orders over the {plan.included_orders:,} included, "
                    f"{start:%Y-%m-%d} to {end:%Y-%m-%d}", key)
            with runtime.db.transaction() as session:
                session.add(UsageCharge(
                    shop_id=shop_id, subscription_id=sub_id, period_start=start,
                    period_end=end, orders_counted=counted, orders_charged=over,
                    amount=amount, idempotency_key=key, shopify_usage_record_id=record_id,
                    created_at=now))
            notes.append(f"{start:%Y-%m-%d}: {counted} orders, {amount} {currency}")
    return "charged " + "; ".join(notes)


def charge_all_shops(runtime: Runtime, now: datetime | None = None
                     ) -> tuple[dict[str, str], dict[str, str]]:
    """charge_closed_periods for every installed shop with an active subscription: (what was
    done by shop, why it failed by shop); one shop's failure never stops the others."""
    with runtime.db.sessions() as session:
        shops = session.execute(
            select(Shop.id, Shop.domain).join(BillingSubscription,
                                              BillingSubscription.shop_id == Shop.id)
            .where(BillingSubscription.status == "ACTIVE", Shop.uninstalled_at.is_(None))
            .distinct()).all()
    done, failed = {}, {}
    for shop_id, domain in shops:
        try:
            done[domain] = charge_closed_periods(runtime, shop_id, now)
        except Exception as exc:  # noqa: BLE001 - reported with the shop, the others go on
            failed[domain] = type(exc).__name__
    return done, failed
