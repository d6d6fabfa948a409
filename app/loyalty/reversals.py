"""Taking back points for refunds and cancellations, exactly and visibly.

Competitors deduct at today's rate, skip store-credit refunds, go negative silently or never
tell the shopper (features.md, pain point 1). Here a refund reverses its share of the order's
eligible amount at the rate and multiplier recorded on the order's earn entry, floored once;
an order's reversals never exceed what it earned; points still pending are taken from
pending, otherwise from available; when available would go below zero and the shop forbids
it, the entry takes what there is and records the rest as its shortfall. Every entry has a
note the shopper can read.

Every refund is recorded once in order_refunds by its Shopify refund id, before anything else
is done with it, so a redelivery (under any webhook id) changes nothing, before or after the
order's payment. A refund that arrives before its orders/paid waits there unapplied (the order
row waits in status awaiting_payment) and `record_paid_order` reverses it when the payment
arrives, under the same `refund:{id}` key it would have had, its eligible amount read again
with the order's own `taxes_included` (a refund payload does not carry it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.loyalty.ledger import post, release_unlocked
from app.loyalty.order_records import (
    AWAITING_PAYMENT,
    CANCELLED,
    PAID,
    copy_order_details,
    earn_entry,
    lock_order,
    order_ref,
    points_for,
)
from app.loyalty.orders import OrderFacts, RefundFacts
from app.loyalty.program import ProgramSettings
from app.loyalty.rollup import mark_stale
from app.loyalty.tiers import evaluate_tier
from app.models import LedgerEntry, Member, Order, OrderRefund, Shop, TierChange

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


def _prices_include_tax(session: Session, order: Order) -> bool:
    """Whether the order's prices include tax, which its refund payloads do not say.

    Known once an order payload has been applied to the row. A refund that arrives before any
    is read provisionally with the flag of the shop's latest paid order (shops mostly price
    one way throughout); `settle_refunds_before_paid` reads it again with the order's own.
    """
    if order.status != AWAITING_PAYMENT or order.shopify_updated_at is not None:
        return order.taxes_included
    latest = session.execute(
        select(Order.taxes_included)
        .where(Order.shop_id == order.shop_id, Order.paid_at.is_not(None))
        .order_by(Order.paid_at.desc(), Order.id.desc()).limit(1)).scalar_one_or_none()
    return bool(latest)


def _record_refund(session: Session, order: Order, refund: RefundFacts,
                   now: datetime) -> bool:
    """INSERT the refund once by its Shopify id; False when it was recorded before.

    ON CONFLICT DO NOTHING on (shop_id, shopify_refund_id): of two deliveries racing, one
    inserts and the other finds the row, whichever webhook id each came with. A refund of an
    order already paid is settled now (applied); one of an unpaid order waits for the payment.
    """
    insert = dialect_insert(session)
    row_id = session.execute(
        insert(OrderRefund).values(
            shop_id=order.shop_id, shopify_refund_id=refund.refund_id,
            shopify_order_id=order.shopify_order_id, eligible_amount=refund.eligible_amount,
            line_amount=refund.line_subtotal, line_tax=refund.line_tax,
            adjustments=refund.adjustments, taxes_included=refund.taxes_included,
            store_credit_amount=refund.store_credit_amount, refunded_at=refund.created_at,
            applied_at=now if order.paid_at is not None else None, created_at=now)
        .on_conflict_do_nothing(index_elements=["shop_id", "shopify_refund_id"])
        .returning(OrderRefund.id)).scalar_one_or_none()
    return row_id is not None


def _reverse_share(session: Session, order: Order, earn: LedgerEntry, *, refund_id: int,
                   amount: Decimal, store_credit: bool, refunded_before: Decimal,
                   settings: ProgramSettings, now: datetime) -> LedgerEntry | None:
    """Post one refund's reversal: its share of the earn at the order's rate, floored once.

    The refund that brings the order's refunds up to its eligible amount takes everything left,
    so per-refund flooring never strands a point; none takes more than is left.
    """
    remaining = earn.points - reversed_points(session, order)
    if refunded_before + amount >= order.eligible_amount:
        points = remaining
    else:
        points = min(points_for(amount, earn.rate, earn.multiplier), remaining)
    how = " (store credit)" if store_credit else ""
    return _take_back(session, earn, max(points, 0), kind="refund_reversal",
                      source_key=f"refund:{refund_id}",
                      note=f"Refund{how} on order {order_ref(order)}", settings=settings, now=now)


def _read_with_orders_flag(row: OrderRefund, order: Order) -> None:
    """Re-read a refund recorded before its order with the order's own taxes_included.

    Whatever the exclusion settings, a refunded line counts exactly its tax less when prices
    include it (RefundFacts.with_taxes_included); the row keeps the amounts it settles with.
    """
    if row.taxes_included == order.taxes_included:
        return
    facts = RefundFacts(
        refund_id=row.shopify_refund_id, shopify_order_id=row.shopify_order_id,
        eligible_amount=row.eligible_amount, line_subtotal=row.line_amount,
        adjustments=row.adjustments, store_credit_amount=row.store_credit_amount,
        created_at=row.refunded_at, line_tax=row.line_tax, taxes_included=row.taxes_included,
        # Not kept on the row, and eligibility does not depend on it.
        refunded_total=Decimal(0),
    ).with_taxes_included(order.taxes_included)
    row.eligible_amount, row.line_amount = facts.eligible_amount, facts.line_subtotal
    row.taxes_included = facts.taxes_included


def settle_refunds_before_paid(session: Session, order: Order, settings: ProgramSettings,
                               now: datetime) -> list[LedgerEntry]:
    """Reverse the refunds recorded before the order was paid, oldest first; mark them applied.

    One entry per refund rather than one netting entry: each is keyed `refund:{id}` and reads
    "Refund on order #1042" exactly as if it had arrived after the payment, so the shopper sees
    the refunds Shopify shows them, and a refund takes the same points whichever event came
    first (the same flooring, in the same arrival order). Each is read again with the order's
    own taxes_included first, and the order's refunded amount (its tier spend) follows. Called
    with the order locked and just paid; with no earn (a test order, no member) the refunds
    are only marked applied.
    """
    waiting = session.execute(
        select(OrderRefund).where(OrderRefund.shop_id == order.shop_id,
                                  OrderRefund.shopify_order_id == order.shopify_order_id,
                                  OrderRefund.applied_at.is_(None))
        .order_by(OrderRefund.id)).scalars().all()
    if not waiting:
        return []
    earn = earn_entry(session, order.shop_id, order.shopify_order_id)
    # The order's refunded amount counts these as they were read when recorded.
    refunded_before = order.refunded_amount - sum((r.eligible_amount for r in waiting),
                                                  Decimal(0))
    entries = []
    for row in waiting:
        _read_with_orders_flag(row, order)
        row.applied_at = now
        if earn is not None:
            entry = _reverse_share(session, order, earn, refund_id=row.shopify_refund_id,
                                   amount=row.eligible_amount,
                                   store_credit=row.store_credit_amount > 0,
                                   refunded_before=refunded_before, settings=settings, now=now)
            if entry is not None:
                entries.append(entry)
        refunded_before += row.eligible_amount
    order.refunded_amount = refunded_before
    return entries


def reverse_refund(session: Session, shop: Shop, refund: RefundFacts,
                   settings: ProgramSettings, now: datetime) -> ReversalResult:
    """Apply refunds/create: record the refund once, reverse its share of what the order earned.

    The eligible amount follows the stored order's taxes_included flag, whatever flag `refund`
    was parsed with. Store-credit refunds reverse points like any other: the shopper got the
    value back.
    """
    order = lock_order(session, shop.id, refund.shopify_order_id, now)
    refund = refund.with_taxes_included(_prices_include_tax(session, order))
    if not _record_refund(session, order, refund, now):
        return ReversalResult("duplicate", order)
    if order.status == AWAITING_PAYMENT:
        order.refunded_amount += refund.eligible_amount
        return ReversalResult("recorded_before_paid", order)
    earn = earn_entry(session, shop.id, order.shopify_order_id)
    if earn is None:
        # Paid without points (a test order, no email) or cancelled before payment.
        order.refunded_amount += refund.eligible_amount
        return ReversalResult("nothing_earned", order)
    entry = _reverse_share(session, order, earn, refund_id=refund.refund_id,
                           amount=refund.eligible_amount,
                           store_credit=refund.paid_as_store_credit,
                           refunded_before=order.refunded_amount, settings=settings, now=now)
    if entry is None:
        # The ledger already holds this refund's reversal (posted before refunds were recorded).
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
    if was == PAID:
        # A paid order leaves its day's sales: the dashboard reads that day live again.
        mark_stale(session, shop.id, order.paid_at)
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
