"""Plans and what a billing period counts: orders that earned points, were paid and were
neither refunded nor cancelled.

An order counts in the period it was paid in. A refund or a cancellation, whenever it comes
before the period is charged, takes the order out of the count, because usage is charged once
per period after it closes (app/shopify/billing.py). Passing a plan's limit never stops the
program: the merchant gets a grace period and a banner, and the program keeps earning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import DomainError
from app.models import BillingSubscription, Order, Shop

PERIOD = timedelta(days=30)
GRACE = timedelta(days=14)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Plan:
    """A plan the merchant can choose."""

    key: str
    name: str
    monthly_price: Decimal
    included_orders: int
    price_per_order: Decimal
    default_cap: Decimal

    @property
    def paid(self) -> bool:
        """Whether the plan is an app subscription the merchant approves in Shopify."""
        return self.monthly_price > 0 or self.price_per_order > 0

    def terms(self, currency: str) -> str:
        """The usage terms Shopify shows the merchant on the confirmation page."""
        return (f"{self.included_orders:,} orders that earn points included every 30 days, then "
                f"{self.price_per_order} {currency} per order; refunded and cancelled orders "
                f"are never counted")


PLANS = {
    "free": Plan("free", "Free", Decimal("0"), 100, Decimal("0"), Decimal("0")),
    "growth": Plan("growth", "Growth", Decimal("19.00"), 1000, Decimal("0.02"),
                   Decimal("50.00")),
}
FREE = PLANS["free"]
MIN_CAP, MAX_CAP = Decimal("1.00"), Decimal("1000.00")


class BillingRefused(DomainError):
    """A plan choice that cannot be asked for; `field` names what to change."""

    code = "invalid_plan"
    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.fields = {field: message}


def choose(plan_key: object, capped_amount: object) -> tuple[Plan, Decimal]:
    """The paid plan and the capped amount the merchant asked for, or BillingRefused."""
    plan = PLANS.get(plan_key) if isinstance(plan_key, str) else None
    if plan is None or not plan.paid:
        raise BillingRefused("plan", "choose a paid plan")
    raw = plan.default_cap if capped_amount in (None, "") else capped_amount
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise BillingRefused("capped_amount", "an amount like 50.00")
    try:
        cap = Decimal(str(raw).strip())
        if not cap.is_finite():
            raise ArithmeticError(raw)
        cap = cap.quantize(CENT, rounding=ROUND_HALF_UP)
    except ArithmeticError:
        raise BillingRefused("capped_amount", "an amount like 50.00") from None
    if not MIN_CAP <= cap <= MAX_CAP:
        raise BillingRefused("capped_amount", f"an amount from {MIN_CAP} to {MAX_CAP}")
    return plan, cap


def billable_orders(session: Session, shop_id: int, start: datetime, end: datetime) -> int:
    """Orders paid in [start, end) that earned points, with no refund and no cancellation."""
    return session.execute(select(func.count(Order.id)).where(
        Order.shop_id == shop_id, Order.status == "paid", Order.paid_at >= start,
        Order.paid_at < end, Order.points_awarded > 0, Order.refunded_amount == 0,
        Order.test.is_(False))).scalar_one()


def active_subscription(session: Session, shop_id: int) -> BillingSubscription | None:
    """The shop's newest active app subscription, if any."""
    return session.execute(select(BillingSubscription).where(
        BillingSubscription.shop_id == shop_id, BillingSubscription.status == "ACTIVE")
        .order_by(BillingSubscription.id.desc()).limit(1)).scalar_one_or_none()


def period_containing(anchor: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The 30-day period, counted from `anchor`, that `now` falls in."""
    periods = max(0, (now - anchor) // PERIOD)
    start = anchor + periods * PERIOD
    return start, start + PERIOD


@dataclass(frozen=True)
class BillingStatus:
    """The plan and this period as the admin shows them."""

    plan: Plan
    subscription: BillingSubscription | None
    period_start: datetime
    period_end: datetime
    orders: int
    over_by: int
    # When the free plan's limit was passed this period (the first order over it), and the
    # end of the grace period that started then.
    over_since: datetime | None
    grace_until: datetime | None
    in_grace: bool
    # Usage beyond the included orders at the plan's price, within the approved cap.
    charge_so_far: Decimal
    cap_reached: bool

    @property
    def banner(self) -> str | None:
        """warning during the grace period, critical after it (the program still runs);
        warning too when a paid plan's usage reaches its cap; None otherwise."""
        if self.plan.paid:
            return "warning" if self.cap_reached else None
        if self.over_by <= 0:
            return None
        return "warning" if self.in_grace else "critical"


def _nth_billable_paid_at(session: Session, shop_id: int, start: datetime, end: datetime,
                          n: int) -> datetime | None:
    """When the n-th billable order of the period was paid (the moment a limit was passed)."""
    return session.execute(select(Order.paid_at).where(
        Order.shop_id == shop_id, Order.status == "paid", Order.paid_at >= start,
        Order.paid_at < end, Order.points_awarded > 0, Order.refunded_amount == 0,
        Order.test.is_(False)).order_by(Order.paid_at, Order.id).offset(n - 1).limit(1)
    ).scalar_one_or_none()


def billing_status(session: Session, shop: Shop, now: datetime) -> BillingStatus:
    """The shop's plan, this period's count and what passing the limit means now."""
    subscription = active_subscription(session, shop.id)
    plan = PLANS.get(subscription.plan, FREE) if subscription else FREE
    anchor = (subscription.activated_at if subscription and subscription.activated_at
              else shop.installed_at or shop.created_at)
    start, end = period_containing(anchor, now)
    orders = billable_orders(session, shop.id, start, end)
    over_by = max(0, orders - plan.included_orders)
    over_since = grace_until = None
    if over_by > 0:
        over_since = _nth_billable_paid_at(session, shop.id, start, end,
                                           plan.included_orders + 1)
        grace_until = over_since + GRACE if over_since else None
    charge = (Decimal(over_by) * plan.price_per_order).quantize(CENT)
    cap_reached = False
    if subscription is not None and plan.paid:
        cap_reached = charge >= subscription.capped_amount > 0
        charge = min(charge, subscription.capped_amount)
    return BillingStatus(plan, subscription, start, end, orders, over_by, over_since,
                         grace_until, bool(grace_until and now < grace_until), charge,
                         cap_reached)


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
