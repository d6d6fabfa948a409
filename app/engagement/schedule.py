"""The durable schedule: Message rows written once per natural key, cancelled when facts change.

The pipeline calls the `after_*` hooks inside a business event's transaction, and
`plan_daily_messages` after the daily round. Nothing here sends: a message is a row with
status `scheduled` and its `scheduled_at`, which survives any restart, and
app/messaging/dispatch.py sends it when due. Every function returns the messages it
scheduled; the pipeline asks for their wake-ups after the commit (app/pipeline/enqueue.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import dialect_insert, insert_once
from app.engagement import flows
from app.engagement.flows import flow_enabled, flow_settings
from app.engagement.reorder import quiet_spells
from app.loyalty.experiments import settings_for_member
from app.loyalty.expiry import members_expiring_between
from app.loyalty.orders import OrderFacts
from app.loyalty.program import ProgramSettings
from app.loyalty.tiers import tier_basis_value, tier_named
from app.models import LedgerEntry, Member, Message, Order, OrderRefund, Shop, TierChange
from app.models.review import PurchasedProduct

SCHEDULED, SENT, SUPPRESSED, FAILED, CANCELLED = (
    "scheduled", "sent", "suppressed", "failed", "cancelled")


def ceil_second(moment: datetime) -> datetime:
    """The moment rounded up to a whole second: RQ's scheduler keeps whole seconds (floored),
    so a wake-up for 12:00:00.7 would otherwise arrive before its message is due."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def schedule_message(session: Session, *, shop_id: int, member_id: int | None, kind: str,
                     natural_key: str, at: datetime, now: datetime) -> Message | None:
    """Schedule one message for `at`, once per natural key; None if it was scheduled before."""
    at = ceil_second(at)
    return insert_once(session, Message, {
        "shop_id": shop_id, "member_id": member_id, "kind": kind, "channel": "email",
        "natural_key": natural_key, "scheduled_at": at, "status": SCHEDULED, "created_at": now,
    }, ["shop_id", "natural_key"])


def schedule_messages(session: Session, member: Member,
                      planned: Iterable[tuple[str, str, datetime]], now: datetime
                      ) -> list[Message]:
    """schedule_message for several (kind, natural key, at) of one member, in one INSERT."""
    rows = [{"shop_id": member.shop_id, "member_id": member.id, "kind": kind,
             "channel": "email", "natural_key": key, "scheduled_at": ceil_second(at),
             "status": SCHEDULED, "created_at": now} for kind, key, at in planned]
    if not rows:
        return []
    insert = dialect_insert(session)
    # Rows as parameters (insertmanyvalues), not .values(rows): a VALUES list built into the
    # statement would be compiled afresh for every order.
    return list(session.scalars(
        insert(Message).on_conflict_do_nothing(index_elements=["shop_id", "natural_key"])
        .returning(Message), rows))


def cancel_scheduled(session: Session, shop_id: int, natural_keys: Iterable[str],
                     reason: str) -> int:
    """Cancel messages still waiting for these facts; returns how many."""
    result = session.execute(
        update(Message).where(Message.shop_id == shop_id,
                              Message.natural_key.in_(list(natural_keys)),
                              Message.status == SCHEDULED)
        .values(status=CANCELLED, reason=reason))
    return result.rowcount


def _schedule_flow(session: Session, settings: ProgramSettings, member: Member, kind: str,
                   natural_key: str, at: datetime, now: datetime) -> Message | None:
    """Schedule a shopper's flow message if the shop has that flow switched on."""
    if not flow_enabled(settings, kind):
        return None
    return schedule_message(session, shop_id=member.shop_id, member_id=member.id, kind=kind,
                            natural_key=natural_key, at=at, now=now)


def record_purchased_products(session: Session, order: Order, member_id: int | None,
                              facts: OrderFacts) -> int:
    """Keep which products an order bought (for review forms and reorder intervals)."""
    quantities: dict[int, int] = {}
    titles: dict[int, str | None] = {}
    for line in facts.products:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
        titles.setdefault(line.product_id, line.title)
    if not quantities:
        return 0
    rows = [{"shop_id": order.shop_id, "member_id": member_id,
             "order_id": order.shopify_order_id, "product_id": product_id,
             "title": titles[product_id][:255] if titles[product_id] else None,
             "quantity": quantity, "purchased_at": order.paid_at or order.created_at,
             "created_at": order.created_at} for product_id, quantity in quantities.items()]
    # Every product of the order in one statement.
    insert = dialect_insert(session)
    return len(session.scalars(
        insert(PurchasedProduct)
        .on_conflict_do_nothing(index_elements=["shop_id", "order_id", "product_id"])
        .returning(PurchasedProduct.id), rows).all())


def is_upgrade(settings: ProgramSettings, change: TierChange) -> bool:
    """Whether a tier change moved the member up (reaching the entry tier is no upgrade)."""
    names = [tier.name for tier in settings.tiers]
    to_rank = names.index(change.to_tier) if change.to_tier in names else -1
    from_rank = names.index(change.from_tier) if change.from_tier in names else 0
    return to_rank > from_rank


def _first_earning_order(session: Session, member: Member, now: datetime) -> bool:
    """Whether the member has exactly one order that earned points."""
    if member.created_at == now:
        # Enrolled by this very event: its earn is the only one there can be.
        return True
    count = session.execute(select(LedgerEntry.id).where(
        LedgerEntry.member_id == member.id, LedgerEntry.kind == "earn_order").limit(2)).all()
    return len(count) == 1


def after_order_paid(session: Session, shop: Shop, settings: ProgramSettings,
                     facts: OrderFacts, *, outcome: str, order: Order,
                     member: Member | None, entry: LedgerEntry | None,
                     tier_change: TierChange | None, now: datetime) -> list[Message]:
    """orders/paid: welcome on the first earning order, unlock notice, survey, tier upgrade."""
    if member is None or outcome not in ("earned", "nothing_eligible"):
        return []
    record_purchased_products(session, order, member.id, facts)
    planned: list[tuple[str, str, datetime]] = []
    if entry is not None:
        if _first_earning_order(session, member, now):
            planned.append(("welcome", flows.welcome_key(member.id), now))
        planned.append(("points_unlocked", flows.points_unlocked_key(order.shopify_order_id),
                        entry.available_at))
    paid_at = order.paid_at or now
    days = int(settings.engagement["nps_request_days"])
    planned.append(("nps_request", flows.nps_request_key(order.shopify_order_id),
                    paid_at + timedelta(days=days)))
    if tier_change is not None and is_upgrade(settings, tier_change):
        planned.append(("tier_upgraded", flows.tier_upgraded_key(tier_change.id), now))
    # One INSERT for all of them.
    scheduled = schedule_messages(
        session, member, [p for p in planned if flow_enabled(settings, p[0])], now)
    scheduled.extend(after_order_fulfilled(session, shop, settings, facts, now))
    return scheduled


def order_refunded(session: Session, order: Order) -> bool:
    """Whether any refund of the order has been recorded."""
    return order.refunded_amount > 0 or session.execute(select(OrderRefund.id).where(
        OrderRefund.shop_id == order.shop_id,
        OrderRefund.shopify_order_id == order.shopify_order_id).limit(1)).first() is not None


def after_order_fulfilled(session: Session, shop: Shop, settings: ProgramSettings,
                          facts: OrderFacts, now: datetime) -> list[Message]:
    """A fully fulfilled order (orders/fulfilled, or an update saying so): ask for a review."""
    if facts.fulfillment_status != "fulfilled":
        return []
    order = session.execute(select(Order).where(
        Order.shop_id == shop.id, Order.shopify_order_id == facts.shopify_order_id)
    ).scalar_one_or_none()
    if order is None or order.status != "paid" or order.member_id is None:
        return []
    if order_refunded(session, order):
        return []
    member = session.get(Member, order.member_id)
    record_purchased_products(session, order, member.id, facts)
    moment = min(facts.fulfilled_at or now, now)
    # A member in an A/B test of the review request's delay waits their arm's days.
    days = int(settings_for_member(session, member, settings, now)
               .engagement["review_request_days"])
    message = _schedule_flow(session, settings, member, "review_request",
                             flows.review_request_key(order.shopify_order_id),
                             moment + timedelta(days=days), now)
    return [message] if message is not None else []


def after_refund(session: Session, order: Order | None) -> int:
    """A refund: the order's pending review request is cancelled (nobody reviews a return)."""
    if order is None:
        return 0
    return cancel_scheduled(session, order.shop_id,
                            [flows.review_request_key(order.shopify_order_id)],
                            "order_refunded")


def after_cancel(session: Session, order: Order | None) -> int:
    """A cancellation: nothing about that order is sent any more."""
    if order is None:
        return 0
    oid = order.shopify_order_id
    return cancel_scheduled(session, order.shop_id, [
        flows.review_request_key(oid), flows.nps_request_key(oid),
        flows.points_unlocked_key(oid)], "order_cancelled")


def plan_daily_messages(session: Session, shop: Shop, settings: ProgramSettings,
                        now: datetime, *, tier_changes: Iterable[TierChange] = (),
                        birthday_entries: Iterable[LedgerEntry] = ()) -> list[Message]:
    """The daily round's messages: upgrades and birthdays it made, then each flow's own daily
    planning (expiry and tier warnings, replenishment reminders and win-back offers)."""
    scheduled: list[Message | None] = []
    for change in tier_changes:
        if is_upgrade(settings, change):
            member = session.get(Member, change.member_id)
            scheduled.append(_schedule_flow(session, settings, member, "tier_upgraded",
                                            flows.tier_upgraded_key(change.id), now, now))
    for entry in birthday_entries:
        member = session.get(Member, entry.member_id)
        scheduled.append(_schedule_flow(session, settings, member, "birthday",
                                        flows.birthday_key(member.id, entry.created_at.year),
                                        now, now))
    for plan in daily_planners():
        scheduled.extend(plan(session, shop, settings, now))
    return [m for m in scheduled if m is not None]


def daily_planners() -> list[Callable[..., list[Message | None]]]:
    """Each flow's daily planning (`Flow.plan_daily`) once, in the registry's order."""
    return list(dict.fromkeys(flow.plan_daily for flow in flows.FLOWS.values()
                              if flow.plan_daily is not None))


def plan_expiry_warnings(session: Session, shop: Shop, settings: ProgramSettings,
                          now: datetime) -> list[Message | None]:
    """Warn members whose points expire within the flow's days_before."""
    if not flow_enabled(settings, "expiry_warning"):
        return []
    days = int(flow_settings(settings, "expiry_warning")["days_before"])
    planned: list[Message | None] = []
    for warning in members_expiring_between(session, shop, settings, now,
                                            now + timedelta(days=days)):
        member = session.get(Member, warning.member_id)
        planned.append(_schedule_flow(
            session, settings, member, "expiry_warning",
            flows.expiry_warning_key(member.id, warning.expires_at), now, now))
    return planned


def tier_at_risk(session: Session, member: Member, settings: ProgramSettings,
                 now: datetime) -> tuple[datetime, Any] | None:
    """(review date, shortfall) when the member would lose their tier at its review.

    A tier is reviewed once the member has held it for the retention period; the member is at
    risk when that review is within days_before and their basis, as it will stand on that day
    (rolling spend loses the orders older than a year by then), is below the tier's threshold.
    """
    tier = tier_named(settings, member.tier)
    if tier is None or tier.threshold <= 0 or member.tier_since is None:
        return None
    review = member.tier_since + timedelta(days=settings.tier_retention_days)
    days = int(flow_settings(settings, "tier_at_risk")["days_before"])
    if not review - timedelta(days=days) <= now < review:
        return None
    value = tier_basis_value(session, member, settings, review)
    if value >= tier.threshold:
        return None
    return review, tier.threshold - value


def plan_tier_at_risk(session: Session, shop: Shop, settings: ProgramSettings,
                       now: datetime) -> list[Message | None]:
    """Warn members whose tier review is near and who have not yet earned to keep the tier."""
    if not flow_enabled(settings, "tier_at_risk"):
        return []
    entry = settings.tiers[0].name
    members = session.execute(select(Member).where(
        Member.shop_id == shop.id, Member.tier.is_not(None), Member.tier != entry,
        Member.redacted_at.is_(None)).order_by(Member.id)).scalars().all()
    planned: list[Message | None] = []
    for member in members:
        if tier_at_risk(session, member, settings, now) is not None:
            planned.append(_schedule_flow(
                session, settings, member, "tier_at_risk",
                flows.tier_at_risk_key(member.id, member.tier_since), now, now))
    return planned


def plan_quiet_spells(session: Session, shop: Shop, settings: ProgramSettings,
                       now: datetime) -> list[Message | None]:
    """Replenishment once the reorder interval has passed; win-back at twice the interval."""
    replenish = flow_enabled(settings, "replenishment")
    win_back = flow_enabled(settings, "win_back")
    if not (replenish or win_back):
        return []
    planned: list[Message | None] = []
    for spell in quiet_spells(session, shop.id, settings, now):
        member = session.get(Member, spell.member_id)
        quiet_for = now - spell.last_order_at
        # Past twice the interval only the win-back is sent: two emails at once would nag.
        if quiet_for >= 2 * spell.interval:
            if win_back:
                planned.append(_schedule_flow(
                    session, settings, member, "win_back",
                    flows.win_back_key(member.id, spell.last_order_id), now, now))
        elif quiet_for >= spell.interval and replenish:
            planned.append(_schedule_flow(
                session, settings, member, "replenishment",
                flows.replenishment_key(member.id, spell.last_order_id), now, now))
    return planned
