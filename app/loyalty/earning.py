"""Points for paid orders: one pending lot per order, recorded with the rate that applied.

Shopify delivers orders/paid more than once and out of order with orders/cancelled and
refunds/create. The Order row (unique per shop and Shopify id, locked while an event is
applied) carries the order's state; the ledger source key `order:{id}:earn` is the final
guard against earning twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.experiments import settings_for_member
from app.loyalty.holdout import is_held_out
from app.loyalty.ledger import post
from app.loyalty.members import enrol, guest_member, member_for_customer
from app.loyalty.order_records import (
    AWAITING_PAYMENT,
    CANCELLED,
    PAID,
    copy_order_details,
    earn_entry,
    earn_source_key,
    lock_order,
    order_ref,
    points_for,
)
from app.loyalty.orders import OrderFacts
from app.loyalty.program import ProgramSettings
from app.loyalty.reversals import reversed_points, settle_refunds_before_paid, void_cancelled_order
from app.loyalty.tiers import earning_tier, evaluate_tier
from app.models import LedgerEntry, Member, Order, Shop, TierChange


@dataclass(frozen=True)
class EarnResult:
    """What applying an orders/paid event did.

    outcome: earned, already_earned, cancelled, test_order, no_member, nothing_eligible,
    program_not_live (paid while the program was a draft: recorded, never earns),
    held_out (the member is in the holdout's control group: recorded, never earns),
    pos_earning_off (an in-store order while POS earning is off: recorded with 0 points, and
    the customer's member when they already are one).
    """

    outcome: str
    order: Order
    member: Member | None = None
    points: int = 0
    entry: LedgerEntry | None = None
    tier_change: TierChange | None = None


@dataclass(frozen=True)
class PointsPreview:
    """Points an order earns, for the thank-you page (design.md §4 checkout contract).

    status: preview (webhook not processed yet), pending, available, reversed, not_eligible.
    tier is the member's tier now; rate and multiplier are the ones the order earned at.
    """

    points: int
    status: str
    eligible_amount: Decimal
    rate: Decimal
    multiplier: Decimal
    tier: str
    available_at: datetime | None


def _find_or_enrol(session: Session, shop: Shop, facts: OrderFacts, now: datetime
                   ) -> Member | None:
    """The order's member: its customer, else a guest by email (guests earn too)."""
    if facts.customer_id is None and facts.shopper_email is None:
        return None
    return enrol(session, shop, now=now, customer_id=facts.customer_id,
                 email=facts.shopper_email, first_name=facts.customer_first_name,
                 last_name=facts.customer_last_name, locale=facts.customer_locale)


def record_paid_order(session: Session, shop: Shop, facts: OrderFacts,
                      settings: ProgramSettings, now: datetime) -> EarnResult:
    """Apply orders/paid: record the order and give its member one pending earn entry.

    The lot records the rate, multiplier and eligible amount, so refunds reverse at this
    order's rate whatever the shop changes later. Refunds that arrived before this event were
    recorded in order_refunds and are reversed here, one entry each, as if they had come after.
    """
    order = lock_order(session, shop.id, facts.shopify_order_id, now)
    copy_order_details(order, facts)
    if order.status == PAID:
        return EarnResult("already_earned", order, points=order.points_awarded)
    if order.status == CANCELLED or facts.cancelled_at is not None:
        # Cancellation is final in Shopify: whatever order the events arrive in, a cancelled
        # order never earns. updated_at only decides whose details we keep (above).
        order.status = CANCELLED
        order.cancelled_at = order.cancelled_at or facts.cancelled_at or now
        return EarnResult("cancelled", order)
    # The payment moment: the payload's updated_at, never in the future of our clock.
    paid_at = min(facts.updated_at or now, now)
    # Recomputed from the settings this event is applied with, whatever parsed the payload.
    eligible = facts.amounts.eligible(settings.earning)
    order.status, order.paid_at, order.eligible_amount = PAID, paid_at, eligible
    outcome, member, entry = _earn(session, shop, order, facts, settings, now)
    # Whatever the outcome, the order is paid now: its waiting refunds are settled (reversed
    # against the earn, or marked applied when there is nothing to take back).
    settle_refunds_before_paid(session, order, settings, now)
    tier_change = None
    if _counts_toward_tier(outcome, member):
        tier_change = evaluate_tier(session, member, settings, now, "order_paid")
    return EarnResult(outcome, order, member, order.points_awarded, entry, tier_change)


def _counts_toward_tier(outcome: str, member: Member | None) -> bool:
    """Whether the order just paid moves its member's tier now: any order of a member in the
    program, in-store ones that earned nothing included (tiers follow spend, not points)."""
    if outcome in ("earned", "nothing_eligible"):
        return True
    return outcome == "pos_earning_off" and member is not None and not is_held_out(member)


def _existing_member(session: Session, shop: Shop, facts: OrderFacts) -> Member | None:
    """The order's member if there is one already: its customer's, else (no customer) the
    guest's with its email. Nobody is enrolled."""
    if facts.customer_id is not None:
        return member_for_customer(session, shop, facts.customer_id)
    return guest_member(session, shop, facts.shopper_email)


def _earn(session: Session, shop: Shop, order: Order, facts: OrderFacts,
          settings: ProgramSettings, now: datetime
          ) -> tuple[str, Member | None, LedgerEntry | None]:
    """Give a just-paid order's member its pending lot: (outcome, member, entry posted)."""
    if not shop.is_live:
        # A draft program records the order (refunds and cancels find it) and credits nobody;
        # being paid now, the order never earns after the launch either.
        order.points_awarded = 0
        return "program_not_live", None, None
    if facts.test and not settings.earning["test_orders_earn"]:
        return "test_order", None, None
    if facts.in_store and not settings.earning["pos_orders_earn"]:
        # The merchant turned POS earning off: nobody is credited and nobody is enrolled from
        # the counter, but a member's in-store order is theirs (history, tier spend, the
        # holdout comparison), held-out members' too, as their online orders are.
        order.points_awarded = 0
        with session.no_autoflush:
            member = _existing_member(session, shop, facts)
        if member is not None:
            order.member_id = member.id
        return "pos_earning_off", member, None
    # The order's details, member_id and points_awarded reach the database in one UPDATE,
    # after the member and ledger writes, instead of one UPDATE each.
    with session.no_autoflush:
        member = _find_or_enrol(session, shop, facts, now)
    if member is None:
        return "no_member", None, None
    order.member_id = member.id
    if is_held_out(member):
        # The control group: the order is recorded for the comparison, nothing is earned.
        order.points_awarded = 0
        return "held_out", member, None
    # The member's tier before this order counts toward it: the multiplier the shopper was
    # shown at checkout and on the thank-you preview, and one that does not depend on which
    # of two concurrent orders is processed first. The tier is re-evaluated right after.
    tier = earning_tier(member, settings)
    # A member in an A/B test of the earning rate earns at their arm's rate.
    with session.no_autoflush:
        rate = settings_for_member(session, member, settings, now).points_per_unit
    points = points_for(order.eligible_amount, rate, tier.multiplier)
    if points <= 0:
        order.points_awarded = 0
        return "nothing_eligible", member, None
    # The order's member_id and points_awarded reach the database in one UPDATE, later.
    with session.no_autoflush:
        entry = post(session, member, points=points, kind="earn_order",
                     source_key=earn_source_key(facts.shopify_order_id), now=now,
                     available_at=order.paid_at + timedelta(days=settings.pending_days),
                     order_id=facts.shopify_order_id, rate=rate, multiplier=tier.multiplier,
                     amount=order.eligible_amount, note=f"Order {order_ref(order)}")
    if entry is None:
        # The ledger holds this order's earn although the row did not say so:
        # the source key is the last word, nothing is earned twice.
        order.points_awarded = earn_entry(session, shop.id, facts.shopify_order_id).points
        return "already_earned", member, None
    order.points_awarded = points
    return "earned", member, entry


def record_order_update(session: Session, shop: Shop, facts: OrderFacts,
                        settings: ProgramSettings, now: datetime) -> str:
    """Apply orders/updated: a cancellation voids the order, other changes refresh its details.

    Points are earned from orders/paid only; an update never creates an order we do not know.
    """
    if facts.cancelled_at is not None:
        return void_cancelled_order(session, shop, facts, settings, now).outcome
    order = session.execute(select(Order).where(
        Order.shop_id == shop.id, Order.shopify_order_id == facts.shopify_order_id)
        .with_for_update()).scalar_one_or_none()
    if order is None:
        return "unknown_order"
    return "updated" if copy_order_details(order, facts) else "stale"


def preview_order_points(session: Session, shop: Shop, facts: OrderFacts,
                         settings: ProgramSettings, now: datetime) -> PointsPreview:
    """The points an order earns, by the same rules as record_paid_order, writing nothing.

    Once the order has been recorded, its ledger entry is the answer instead.
    """
    order = session.execute(select(Order).where(
        Order.shop_id == shop.id, Order.shopify_order_id == facts.shopify_order_id)
    ).scalar_one_or_none()
    if order is not None and order.status != AWAITING_PAYMENT:
        return _recorded_points(session, order, settings, now)
    # Whom record_paid_order would credit: the customer, or the guest it would claim.
    member = None
    if facts.customer_id is not None:
        member = member_for_customer(session, shop, facts.customer_id)
    member = member or guest_member(session, shop, facts.shopper_email)
    tier = earning_tier(member, settings)
    rate = (settings_for_member(session, member, settings, now).points_per_unit
            if member is not None else settings.points_per_unit)
    eligible = facts.amounts.eligible(settings.earning)
    if (facts.cancelled_at is not None
            or (facts.test and not settings.earning["test_orders_earn"])
            or (facts.in_store and not settings.earning["pos_orders_earn"])):
        return PointsPreview(0, "not_eligible", eligible, rate, tier.multiplier, tier.name, None)
    return PointsPreview(points_for(eligible, rate, tier.multiplier), "preview", eligible, rate,
                         tier.multiplier, tier.name, now + timedelta(days=settings.pending_days))


def _recorded_points(session: Session, order: Order, settings: ProgramSettings,
                     now: datetime) -> PointsPreview:
    """What a recorded order actually earned, and where those points stand now."""
    entry = earn_entry(session, order.shop_id, order.shopify_order_id)
    if entry is None:
        base = settings.tiers[0]
        return PointsPreview(0, "not_eligible", order.eligible_amount,
                             settings.points_per_unit, base.multiplier, base.name, None)
    status = "pending" if entry.available_at > now else "available"
    if reversed_points(session, order) >= entry.points:
        status = "reversed"
    member = session.get(Member, entry.member_id)
    tier = earning_tier(member, settings)
    return PointsPreview(entry.points, status, entry.amount or order.eligible_amount,
                         entry.rate or settings.points_per_unit,
                         entry.multiplier or tier.multiplier, tier.name, entry.available_at)
