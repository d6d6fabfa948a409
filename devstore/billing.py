"""App subscriptions and usage records as Shopify's Billing API keeps them.

- `appSubscriptionCreate` stores a PENDING subscription and answers a `confirmationUrl` on the
  emulator; the merchant's page there approves (ACTIVE) or declines (DECLINED) it, sends
  `app_subscriptions/update`, and redirects to the subscription's `returnUrl` with
  `charge_id` (a return URL on the shop's admin, `https://{shop}/admin/apps/…`, is the
  emulator's own admin, so it is served here).
- `appUsageRecordCreate` charges a usage line item of an ACTIVE subscription, refusing what
  would pass its capped amount, once per `idempotencyKey`.
- `currentAppInstallation.activeSubscriptions` lists the ACTIVE ones.
https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/appSubscriptionCreate,
https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/appUsageRecordCreate
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from devstore.state import ShopState, gid, gid_number, next_id

if TYPE_CHECKING:
    from devstore.admin_api import ApiContext

PERIOD = timedelta(days=30)
# The AppSubscription fields the emulator answers (an empty list still checks a selection).
SUBSCRIPTION_FIELDS = frozenset({"id", "name", "status", "test", "returnUrl", "createdAt",
                                 "currentPeriodEnd", "trialDays", "lineItems"})


@dataclass
class UsageRecord:
    """A usage charge."""

    id: int
    price: Decimal
    description: str
    idempotency_key: str | None
    created_at: str


@dataclass
class SubscriptionLineItem:
    """One pricing line of a subscription: recurring (price, interval) or usage (cap, terms)."""

    id: int
    kind: str
    currency: str
    price: Decimal = Decimal(0)
    interval: str = "EVERY_30_DAYS"
    capped_amount: Decimal = Decimal(0)
    terms: str = ""
    usage: list[UsageRecord] = field(default_factory=list)

    @property
    def balance_used(self) -> Decimal:
        """What its usage records add up to."""
        return sum((u.price for u in self.usage), Decimal(0))


@dataclass
class AppSubscription:
    """An app subscription of the shop."""

    id: int
    name: str
    return_url: str
    test: bool
    created_at: str
    line_items: list[SubscriptionLineItem]
    status: str = "PENDING"
    current_period_end: str | None = None

    @property
    def gid(self) -> str:
        """Its GraphQL id."""
        return gid("AppSubscription", self.id)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    from devstore.admin_api import money

    return money(amount, currency)


def line_item_node(item: SubscriptionLineItem) -> dict[str, Any]:
    """AppSubscriptionLineItem"""
    if item.kind == "usage":
        details: dict[str, Any] = {
            "__typename": "AppUsagePricing", "terms": item.terms, "interval": "EVERY_30_DAYS",
            "cappedAmount": _money(item.capped_amount, item.currency),
            "balanceUsed": _money(item.balance_used, item.currency)}
    else:
        details = {"__typename": "AppRecurringPricing", "interval": item.interval,
                   "price": _money(item.price, item.currency), "discount": None,
                   "planHandle": None}
    return {"__typename": "AppSubscriptionLineItem",
            "id": gid("AppSubscriptionLineItem", item.id),
            "plan": {"__typename": "AppPlanV2", "pricingDetails": details}}


def subscription_node(sub: AppSubscription) -> dict[str, Any]:
    """AppSubscription"""
    return {"__typename": "AppSubscription", "id": sub.gid, "name": sub.name,
            "status": sub.status, "test": sub.test, "returnUrl": sub.return_url,
            "createdAt": sub.created_at, "currentPeriodEnd": sub.current_period_end,
            "trialDays": 0, "lineItems": [line_item_node(i) for i in sub.line_items]}


def active_subscriptions(shop: ShopState) -> list[dict[str, Any]]:
    """AppInstallation.activeSubscriptions"""
    return [subscription_node(s) for s in shop.app_subscriptions.values()
            if s.status == "ACTIVE"]


def _user_errors(errors: list[tuple[list[str], str]]) -> Any:
    from devstore.admin_api import Items

    return Items([{"field": f, "message": m} for f, m in errors], "UserError",
                 frozenset({"field", "message"}))


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str((value or {}).get("amount")))
    except (InvalidOperation, AttributeError):
        return None
    return amount if amount.is_finite() else None


def mutation_subscription_create(ctx: ApiContext, args: dict[str, Any]
                                 ) -> tuple[dict[str, Any], Any]:
    """appSubscriptionCreate(name:, returnUrl:, test:, lineItems:)"""
    errors: list[tuple[list[str], str]] = []
    return_url = str(args.get("returnUrl") or "")
    if urlsplit(return_url).scheme not in ("http", "https"):
        errors.append((["returnUrl"], "Return url is invalid"))
    items: list[SubscriptionLineItem] = []
    for index, raw in enumerate(args.get("lineItems") or []):
        plan = (raw or {}).get("plan") or {}
        recurring, usage = plan.get("appRecurringPricingDetails"), plan.get(
            "appUsagePricingDetails")
        if recurring:
            price = _amount(recurring.get("price"))
            if price is None or price <= 0:
                errors.append((["lineItems", str(index), "plan"], "Price must be positive"))
                continue
            items.append(SubscriptionLineItem(next_id(), "recurring",
                                              recurring["price"]["currencyCode"], price=price,
                                              interval=recurring.get("interval")
                                              or "EVERY_30_DAYS"))
        elif usage:
            cap = _amount(usage.get("cappedAmount"))
            if cap is None or cap <= 0:
                errors.append((["lineItems", str(index), "plan"],
                               "Capped amount must be positive"))
                continue
            items.append(SubscriptionLineItem(next_id(), "usage",
                                              usage["cappedAmount"]["currencyCode"],
                                              capped_amount=cap, terms=str(usage.get("terms"))))
    if not items and not errors:
        errors.append((["lineItems"], "Line items can't be blank"))
    if errors:
        return {"appSubscription": None, "confirmationUrl": None,
                "userErrors": _user_errors(errors)}, None
    sub = AppSubscription(next_id(), str(args.get("name") or ""), return_url,
                          bool(args.get("test")), ctx.iso_now, items)
    confirmation = (f"{ctx.base_url}/{ctx.shop.domain}/admin/charges/{ctx.app_id}/{sub.id}"
                    f"/RecurringApplicationCharge/confirm_recurring_application_charge")

    def commit() -> None:
        """Store the pending subscription."""
        ctx.shop.app_subscriptions[sub.id] = sub

    return {"appSubscription": subscription_node(sub), "confirmationUrl": confirmation,
            "userErrors": _user_errors([])}, commit


def usage_record_node(item: SubscriptionLineItem, record: UsageRecord) -> dict[str, Any]:
    """AppUsageRecord"""
    return {"__typename": "AppUsageRecord", "id": gid("AppUsageRecord", record.id),
            "description": record.description, "idempotencyKey": record.idempotency_key,
            "createdAt": record.created_at, "price": _money(record.price, item.currency),
            "subscriptionLineItem": line_item_node(item)}


def mutation_usage_record_create(ctx: ApiContext, args: dict[str, Any]
                                 ) -> tuple[dict[str, Any], Any]:
    """appUsageRecordCreate(subscriptionLineItemId:, price:, description:, idempotencyKey:)"""
    number = gid_number(args.get("subscriptionLineItemId"), "AppSubscriptionLineItem")
    found = next(((s, i) for s in ctx.shop.app_subscriptions.values() for i in s.line_items
                  if i.id == number), None)
    price = _amount(args.get("price"))
    key = args.get("idempotencyKey")

    def refuse(path: list[str], message: str) -> tuple[dict[str, Any], Any]:
        return {"appUsageRecord": None, "userErrors": _user_errors([(path, message)])}, None

    if found is None or found[1].kind != "usage":
        return refuse(["subscriptionLineItemId"], "Subscription line item not found")
    sub, item = found
    if sub.status != "ACTIVE":
        return refuse(["subscriptionLineItemId"], "Subscription is not active")
    earlier = next((u for u in item.usage if key is not None and u.idempotency_key == key), None)
    if earlier is not None:
        return {"appUsageRecord": usage_record_node(item, earlier),
                "userErrors": _user_errors([])}, None
    if price is None or price <= 0:
        return refuse(["price"], "Price must be greater than 0")
    if item.balance_used + price > item.capped_amount:
        return refuse(["price"], "Total price exceeds balance remaining")
    record = UsageRecord(next_id(), price, str(args.get("description") or ""), key,
                         ctx.iso_now)

    def commit() -> None:
        """Store the usage record."""
        item.usage.append(record)

    return {"appUsageRecord": usage_record_node(item, record),
            "userErrors": _user_errors([])}, commit


def decide(shop: ShopState, sub: AppSubscription, approve: bool, now: float) -> None:
    """The merchant's answer on the confirmation page."""
    sub.status = "ACTIVE" if approve else "DECLINED"
    if approve:
        sub.current_period_end = _iso(datetime.fromtimestamp(now, UTC) + PERIOD)


def return_location(base_url: str, shop: ShopState, sub: AppSubscription) -> str:
    """The subscription's return URL with `charge_id`; one on the shop's admin is served here."""
    parts = urlsplit(sub.return_url)
    separator = "&" if parts.query else "?"
    target = f"{sub.return_url}{separator}{urlencode({'charge_id': sub.id})}"
    if parts.hostname == shop.domain:
        target = f"{base_url}/{shop.domain}{target.split(shop.domain, 1)[1]}"
    return target


def update_payload(shop: ShopState, sub: AppSubscription, now: float) -> dict[str, Any]:
    """app_subscriptions/update, with the sample's keys."""
    usage = next((i for i in sub.line_items if i.kind == "usage"), None)
    recurring = next((i for i in sub.line_items if i.kind == "recurring"), None)
    currency = (usage or recurring or SubscriptionLineItem(0, "usage", shop.currency)).currency
    return {"app_subscription": {
        "admin_graphql_api_id": sub.gid, "name": sub.name, "status": sub.status,
        "admin_graphql_api_shop_id": shop.gid, "created_at": sub.created_at,
        "updated_at": _iso(datetime.fromtimestamp(now, UTC)), "currency": currency,
        "capped_amount": str(usage.capped_amount) if usage else None,
        "price": str(recurring.price) if recurring else "0.00",
        "interval": "every_30_days", "plan_handle": None}}


def confirmation_page(shop: ShopState, sub: AppSubscription) -> str:
    """The merchant's approval page: what the plan costs, Approve or Decline."""
    from html import escape

    lines = "".join(
        f"<li>{escape(i.currency)} {i.price} every 30 days</li>" if i.kind == "recurring" else
        f"<li>Usage charges up to {escape(i.currency)} {i.capped_amount} every 30 days: "
        f"{escape(i.terms)}</li>" for i in sub.line_items)
    test = "<p><strong>Test charge:</strong> you will not be billed.</p>" if sub.test else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Approve subscription · {escape(shop.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a}}button{{font:inherit;padding:.5rem 1rem;margin-right:.5rem;border-radius:.5rem;
border:1px solid #1a1a1a;background:#fff;color:#1a1a1a}}
button.primary{{background:#1a1a1a;color:#fff}}</style></head>
<body><main><h1>Approve subscription</h1>
<p>{escape(sub.name)} for {escape(shop.name)}</p><ul>{lines}</ul>{test}
<form method="post">
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="decline">Decline</button>
</form></main></body></html>"""
