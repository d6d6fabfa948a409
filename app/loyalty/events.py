"""What each Shopify event means for the program, composed from the rules.

One function per business event; the pipeline calls them inside its transaction. Each
returns what happened (the members whose balances changed, the order, its facts, the earn or
reversal), which the pipeline hands to engagement and turns into jobs after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.bonuses import award_signup
from app.loyalty.consent import parse_consent_update, record_consent
from app.loyalty.earning import EarnResult, record_order_update, record_paid_order
from app.loyalty.experiments import settings_for_member
from app.loyalty.holdout import is_held_out
from app.loyalty.members import enrol
from app.loyalty.orders import OrderFacts, parse_order, parse_refund
from app.loyalty.program import ProgramSettings, current_settings
from app.loyalty.redemption import mark_redemptions_used
from app.loyalty.referrals import attribute_order
from app.loyalty.reversals import ReversalResult, reverse_refund, void_cancelled_order
from app.models import Member, Order, Shop


@dataclass
class EventOutcome:
    """What an event did: a short description for the inbox, the members whose balances
    changed, and for order events the facts the follow-ups (engagement) are decided from."""

    note: str
    changed_member_ids: set[int] = field(default_factory=set)
    # Members who joined with this event: their referral code becomes a friend discount.
    new_member_ids: set[int] = field(default_factory=set)
    settings: ProgramSettings | None = None
    facts: OrderFacts | None = None
    # orders/paid: the earn (its member, entry and tier change).
    earned: EarnResult | None = None
    # orders/cancelled and refunds/create: the reversal; orders/updated: None.
    reversal: ReversalResult | None = None
    # The order the event is about, when the program knows it.
    order: Order | None = None


def _reversal_outcome(what: str, result: ReversalResult, settings: ProgramSettings
                      ) -> EventOutcome:
    order = result.order
    changed = {order.member_id} if order is not None and order.member_id else set()
    return EventOutcome(f"{what}: {result.outcome}", changed, settings=settings,
                        reversal=result, order=order)


def order_paid(session: Session, shop: Shop, payload: dict[str, Any],
               now: datetime) -> EventOutcome:
    """orders/paid: earn pending points, attribute a referral, re-evaluate the tier."""
    settings = current_settings(session, shop.id)
    facts = parse_order(payload, settings, address_salt=shop.domain)
    result = record_paid_order(session, shop, facts, settings, now)
    outcome = EventOutcome(result.outcome, settings=settings, facts=facts, earned=result,
                           order=result.order)
    if result.member is not None:
        outcome.changed_member_ids.add(result.member.id)
        if result.member.created_at == now:
            outcome.new_member_ids.add(result.member.id)
    mark_redemptions_used(session, shop.id, facts.discount_codes, facts.shopify_order_id, now)
    # A test order proves nothing about a friend: it never pays a referrer. A held-out
    # friend's order does: their advocate is in the program.
    if result.outcome in ("earned", "nothing_eligible", "already_earned", "held_out"):
        referral = attribute_order(
            session, shop, settings, shopify_order_id=facts.shopify_order_id,
            customer_id=facts.customer_id, email=facts.shopper_email,
            browser_ip=facts.browser_ip, address_digest=facts.address_digest,
            discount_codes=facts.discount_codes, note_attributes=facts.note_attributes,
            landing_site=facts.landing_site, paid_at=result.order.paid_at, now=now)
        if referral is not None:
            outcome.note += f"; referral {referral.status}"
            if referral.reason:
                outcome.note += f" ({referral.reason})"
    return outcome


def order_cancelled(session: Session, shop: Shop, payload: dict[str, Any],
                    now: datetime) -> EventOutcome:
    """orders/cancelled: void what the order earned."""
    settings = current_settings(session, shop.id)
    facts = parse_order(payload, settings, address_salt=shop.domain)
    result = void_cancelled_order(session, shop, facts, settings, now)
    outcome = _reversal_outcome("cancel", result, settings)
    outcome.facts = facts
    return outcome


def order_updated(session: Session, shop: Shop, payload: dict[str, Any],
                  now: datetime) -> EventOutcome:
    """orders/updated: keep the newest order details (never earns by itself)."""
    settings = current_settings(session, shop.id)
    facts = parse_order(payload, settings, address_salt=shop.domain)
    outcome = EventOutcome(f"update: {record_order_update(session, shop, facts, settings, now)}",
                           settings=settings, facts=facts)
    if facts.cancelled_at is not None:
        outcome.order = _known_order(session, shop, facts.shopify_order_id)
    return outcome


def _known_order(session: Session, shop: Shop, shopify_order_id: int) -> Order | None:
    """The shop's order row for a Shopify order, if the program knows it."""
    return session.execute(select(Order).where(
        Order.shop_id == shop.id, Order.shopify_order_id == shopify_order_id)
    ).scalar_one_or_none()


def refund_created(session: Session, shop: Shop, payload: dict[str, Any],
                   now: datetime) -> EventOutcome:
    """refunds/create: reverse exactly the refunded share of the order's points."""
    settings = current_settings(session, shop.id)
    refund = parse_refund(payload, settings)
    result = reverse_refund(session, shop, refund, settings, now)
    return _reversal_outcome("refund", result, settings)


def customer_joined(session: Session, shop: Shop, payload: dict[str, Any],
                    now: datetime, *, welcome: bool) -> EventOutcome:
    """customers/create (welcome bonus) and customers/update: enrol, claiming guest points.

A customer who signs up while the program is a draft is enrolled without the bonus.

    These payloads carry no marketing consent (app.loyalty.consent says where it comes from).
    """
    member: Member = enrol(
        session, shop, now=now, customer_id=int(payload["id"]), email=payload.get("email"),
        first_name=payload.get("first_name"), last_name=payload.get("last_name"))
    if welcome and shop.is_live and not is_held_out(member):
        # A member who joins while an A/B test runs gets their arm's value.
        settings = settings_for_member(session, member, current_settings(session, shop.id), now,
                                       enter=True)
        award_signup(session, member, settings, now)
    joined = {member.id} if member.created_at == now else set()
    return EventOutcome("enrolled", {member.id}, joined)


def marketing_consent_updated(session: Session, shop: Shop, payload: dict[str, Any],
                              now: datetime, *, sent_at: datetime | None = None
                              ) -> EventOutcome:
    """customers_email_marketing_consent/update: the customer's consent, the newest winning.

    A customer the program has not met yet is enrolled now, as customers/update enrols them,
    so the consent is there when their sign-up or first order arrives.
    """
    update = parse_consent_update(payload, sent_at)
    member = enrol(session, shop, now=now, customer_id=update.customer_id, email=update.email)
    joined = {member.id} if member.created_at == now else set()
    if not record_consent(session, member, update.subscribed, update.updated_at):
        return EventOutcome("consent: a newer state is kept", joined, joined)
    return EventOutcome(f"consent: {'subscribed' if update.subscribed else 'not subscribed'}",
                        joined, joined)
