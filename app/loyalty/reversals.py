"""Taking back points for refunds and cancellations, exactly and visibly.

Competitors deduct at today's rate, skip store-credit refunds, go negative silently or never
tell the shopper (features.md, pain point 1). Here a refund reverses its share of the order's
eligible amount at the rate and multiplier recorded on the order's earn entry, floored once;
an order's reversals never exceed what it earned; points still pending are taken from
pending, otherwise from available; when available would go below zero and the shop forbids
it, the entry takes what there is and records the rest as its shortfall. Every entry has a
note the shopper can read.

A refund that arrives before its orders/paid is added to the order row's refunded amount
(the row waits in status awaiting_payment) and `record_paid_order` nets it out in an entry
keyed `order:{id}:refunds-before-paid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.loyalty.earning import (
    AWAITING_PAYMENT,
    CANCELLED,
    PAID,
    copy_order_details,
    earn_entry,
    lock_order,
    order_ref,
    points_for,
)
from app.loyalty.ledger import post, release_unlocked
from app.loyalty.orders import OrderFacts, RefundFacts
from app.loyalty.program import ProgramSettings
from app.loyalty.tiers import evaluate_tier
from app.models import LedgerEntry, Member, Order, Shop, TierChange

REVERSAL_KINDS = ("refund_reversal", "cancel_reversal")


@dataclass(frozen=True)
class ReversalResult:
    """What applying a refund or cancellation did.

    outcome: reversed, duplicate, recorded_before_paid, nothing_earned, cancelled_before_paid.
    points is what the entry took (a positive number); shortfall what it could not take.
    """

    outcome: str
    order: Order
    entry: LedgerEntry | None = None
    points: int = 0
    shortfall: int = 0
    tier_change: TierChange | None = None


def reversed_points(session: Session, order: Order) -> int:
    """Points already reversed for an order, counting shortfalls (they were owed, then forgiven)."""
    total = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.shortfall - LedgerEntry.points), 0))
        .where(LedgerEntry.shop_id == order.shop_id,
               LedgerEntry.order_id == order.shopify_order_id,
               LedgerEntry.kind.in_(REVERSAL_KINDS))).scalar_one()
    return int(total)


def _lock_member(session: Session, member_id: int) -> Member:
    """The member row, locked so a balance read and the entry written from it stay true."""
    return session.execute(select(Member).where(Member.id == member_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def _take_back(session: Session, earn: LedgerEntry, points: int, *, kind: str,
               source_key: str, note: str, settings: ProgramSettings,
               now: datetime) -> LedgerEntry | None:
    """Post one reversal of `points` against an earn lot; None if this key was applied before."""
    member = _lock_member(session, earn.member_id)
    release_unlocked(session, member, now)
    if earn.available_at > now:
        # The lot is still pending: take from pending, unlocking at the same moment as the
        # earn, so the two net out and nothing spendable is touched.
        return post(session, member, points=-points, kind=kind, source_key=source_key,
                    now=now, available_at=earn.available_at, order_id=earn.order_id,
                    rate=earn.rate, multiplier=earn.multiplier, note=note)
    taken = points
    if not settings.allow_negative_balance:
        taken = min(points, max(member.points_available, 0))
    return post(session, member, points=-taken, kind=kind, source_key=source_key, now=now,
                order_id=earn.order_id, rate=earn.rate, multiplier=earn.multiplier,
                shortfall=points - taken, note=note)


def _result(outcome: str, order: Order, entry: LedgerEntry | None,
            tier_change: TierChange | None = None) -> ReversalResult:
    """A result describing the entry posted (or nothing, for a duplicate)."""
    if entry is None:
        return ReversalResult(outcome, order)
    return ReversalResult(outcome, order, entry, -entry.points, entry.shortfall, tier_change)


def net_refunds_before_paid(session: Session, order: Order, earn: LedgerEntry,
                            settings: ProgramSettings, now: datetime) -> LedgerEntry | None:
    """Reverse refunds recorded before the order's payment was processed (one entry)."""
    if order.refunded_amount >= order.eligible_amount:
        points = earn.points
    else:
        points = min(points_for(order.refunded_amount, earn.rate, earn.multiplier), earn.points)
    return _take_back(session, earn, points, kind="refund_reversal",
                      source_key=f"order:{order.shopify_order_id}:refunds-before-paid",
                      note=f"Refund on order {order_ref(order)}", settings=settings, now=now)


def reverse_refund(session: Session, shop: Shop, refund: RefundFacts,
                   settings: ProgramSettings, now: datetime) -> ReversalResult:
    """Apply refunds/create: reverse the refunded share of what the order earned.

    Store-credit refunds reverse points like any other: the shopper got the value back.
    """
    order = lock_order(session, shop.id, refund.shopify_order_id, now)
    if order.status == AWAITING_PAYMENT:
        order.refunded_amount += refund.eligible_amount
        return ReversalResult("recorded_before_paid", order)
    earn = earn_entry(session, shop.id, order.shopify_order_id)
    if earn is None:
        # Paid without points (a test order, no email) or cancelled before payment.
        order.refunded_amount += refund.eligible_amount
        return ReversalResult("nothing_earned", order)
    remaining = earn.points - reversed_points(session, order)
    if order.refunded_amount + refund.eligible_amount >= order.eligible_amount:
        # Fully refunded: everything left goes, so per-refund flooring never strands a point.
        points = remaining
    else:
        points = min(points_for(refund.eligible_amount, earn.rate, earn.multiplier), remaining)
    how = " (store credit)" if refund.paid_as_store_credit else ""
    entry = _take_back(session, earn, max(points, 0), kind="refund_reversal",
                       source_key=f"refund:{refund.refund_id}",
                       note=f"Refund{how} on order {order_ref(order)}", settings=settings, now=now)
    if entry is None:
        return ReversalResult("duplicate", order)
    order.refunded_amount += refund.eligible_amount
    member = session.get(Member, earn.member_id)
    tier_change = evaluate_tier(session, member, settings, now, "refund")
    return _result("reversed", order, entry, tier_change)


def void_cancelled_order(session: Session, shop: Shop, facts: OrderFacts,
                         settings: ProgramSettings, now: datetime) -> ReversalResult:
    """Apply orders/cancelled: reverse whatever the order's earn still holds.

    A cancellation that arrives before orders/paid marks the order cancelled, so the late
    payment event earns nothing.
    """
    order = lock_order(session, shop.id, facts.shopify_order_id, now)
    was = order.status
    copy_order_details(order, facts)
    order.status = CANCELLED
    order.cancelled_at = order.cancelled_at or facts.cancelled_at or now
    if was != PAID and was != CANCELLED:
        return ReversalResult("cancelled_before_paid", order)
    earn = earn_entry(session, shop.id, order.shopify_order_id)
    if earn is None:
        return ReversalResult("nothing_earned", order)
    remaining = max(earn.points - reversed_points(session, order), 0)
    entry = _take_back(session, earn, remaining, kind="cancel_reversal",
                       source_key=f"order:{order.shopify_order_id}:cancel",
                       note=f"Order {order_ref(order)} cancelled", settings=settings,
                       now=now)
    if entry is None:
        return ReversalResult("duplicate", order)
    member = session.get(Member, earn.member_id)
    tier_change = evaluate_tier(session, member, settings, now, "cancel")
    return _result("reversed", order, entry, tier_change)
