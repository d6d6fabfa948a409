"""Billing's jobs and webhook: charging closed periods' usage through Shopify, and the
app_subscriptions/update topic (rules in app/loyalty/billing.py, calls in
app/shopify/billing.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.loyalty.billing import PERIOD, PLANS, billable_orders, record_status
from app.models import BillingSubscription, Shop, UsageCharge
from app.pipeline.runtime import Runtime
from app.shopify.billing import create_usage_record
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient
from app.shopify.tokens import access_token_for


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
