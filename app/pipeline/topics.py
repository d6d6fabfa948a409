"""The topic registry: every webhook topic the app subscribes to, once, with what it does.

A topic here is known to the inbox (anything else is stored as ignored) and must be
subscribed in shopify.app.toml (tests/unit/pipeline/test_topics.py holds the two equal).
Order topics apply the loyalty rules first, then hand what happened to engagement (the
message schedule, whose wake-ups `jobs` enqueues after the commit); their handlers then ask
for the metafield syncs and new members' jobs (`follow_up`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.engagement import schedule as engagement
from app.loyalty import events, privacy
from app.loyalty.orders import parse_order, parse_shopify_time
from app.loyalty.program import current_settings
from app.models import Shop, WebhookEvent
from app.pipeline import billing, enqueue
from app.pipeline.enqueue import AfterCommit
from app.pipeline.shop_details import record_shop_update

EXPORT_DIR = Path("instance") / "exports"

Apply = Callable[[Session, WebhookEvent, Shop | None, dict[str, Any], datetime, AfterCommit],
                 str | None]


@dataclass(frozen=True)
class TopicHandler:
    """How to apply one topic; most need a shop that is still installed."""

    apply: Apply
    needs_installed_shop: bool = True


def follow_up(outcome: events.EventOutcome, shop: Shop, jobs: AfterCommit,
              cause: int | str) -> str:
    """Ask for the jobs an outcome needs: metafield syncs (once per `cause`, the event), and
    for new members their friend discount and the marketing consent Shopify already holds."""
    for member_id in sorted(outcome.changed_member_ids):
        jobs.add(enqueue.sync_member_metafields(shop.id, member_id, cause))
    for member_id in sorted(outcome.new_member_ids):
        jobs.add(enqueue.ensure_friend_discount(shop.id, member_id))
        jobs.add(enqueue.learn_marketing_consent(shop.id, member_id))
    return outcome.note


def order_paid(session: Session, shop: Shop, payload: dict[str, Any], now: datetime,
               jobs: AfterCommit) -> events.EventOutcome:
    """orders/paid: earn, then schedule the welcome, unlock notice, survey and upgrade."""
    outcome = events.order_paid(session, shop, payload, now)
    earned = outcome.earned
    jobs.wake(engagement.after_order_paid(
        session, shop, outcome.settings, outcome.facts, outcome=earned.outcome,
        order=earned.order, member=earned.member, entry=earned.entry,
        tier_change=earned.tier_change, now=now))
    return outcome


def order_cancelled(session: Session, shop: Shop, payload: dict[str, Any], now: datetime,
                    jobs: AfterCommit) -> events.EventOutcome:
    """orders/cancelled: void the earn; nothing about the order is sent any more."""
    outcome = events.order_cancelled(session, shop, payload, now)
    engagement.after_cancel(session, outcome.order)
    return outcome


def order_updated(session: Session, shop: Shop, payload: dict[str, Any], now: datetime,
                  jobs: AfterCommit) -> events.EventOutcome:
    """orders/updated: newest details; a cancellation or a fulfilment shows here too."""
    outcome = events.order_updated(session, shop, payload, now)
    if outcome.facts.cancelled_at is not None:
        engagement.after_cancel(session, outcome.order)
    else:
        scheduled = engagement.after_order_fulfilled(session, shop, outcome.settings,
                                                     outcome.facts, now)
        if scheduled:
            outcome.note += "; review request scheduled"
        jobs.wake(scheduled)
    return outcome


def order_fulfilled(session: Session, shop: Shop, payload: dict[str, Any], now: datetime,
                    jobs: AfterCommit) -> events.EventOutcome:
    """orders/fulfilled: ask for a review some days after the order reached the shopper."""
    settings = current_settings(session, shop.id)
    facts = parse_order(payload, settings, address_salt=shop.domain)
    scheduled = engagement.after_order_fulfilled(session, shop, settings, facts, now)
    jobs.wake(scheduled)
    return events.EventOutcome("fulfilled: review request scheduled" if scheduled
                               else "fulfilled: nothing to ask")


def refund_created(session: Session, shop: Shop, payload: dict[str, Any], now: datetime,
                   jobs: AfterCommit) -> events.EventOutcome:
    """refunds/create: reverse the refunded share; nobody is asked to review a return."""
    outcome = events.refund_created(session, shop, payload, now)
    if outcome.reversal.outcome != "duplicate":
        engagement.after_refund(session, outcome.order)
    return outcome


OrderEvent = Callable[[Session, Shop, dict[str, Any], datetime, AfterCommit],
                      events.EventOutcome]


def _order(order_event: OrderEvent) -> Apply:
    """An order topic's handler: its event, followed up under the inbox event's id."""

    def apply(session: Session, event: WebhookEvent, shop: Shop | None,
              payload: dict[str, Any], now: datetime, jobs: AfterCommit) -> str | None:
        return follow_up(order_event(session, shop, payload, now, jobs), shop, jobs, event.id)

    return apply


def _customer(welcome: bool) -> Apply:
    """customers/create (with the sign-up bonus) and customers/update."""

    def apply(session: Session, event: WebhookEvent, shop: Shop | None,
              payload: dict[str, Any], now: datetime, jobs: AfterCommit) -> str | None:
        return follow_up(events.customer_joined(session, shop, payload, now, welcome=welcome),
                         shop, jobs, event.id)

    return apply


def _marketing_consent(session: Session, event: WebhookEvent, shop: Shop | None,
                       payload: dict[str, Any], now: datetime, jobs: AfterCommit) -> str | None:
    outcome = events.marketing_consent_updated(
        session, shop, payload, now, sent_at=parse_shopify_time(event.triggered_at))
    return follow_up(outcome, shop, jobs, event.id)


def _uninstalled(session: Session, event: WebhookEvent, shop: Shop | None,
                 payload: dict[str, Any], now: datetime, jobs: AfterCommit) -> str | None:
    changed = privacy.mark_uninstalled(session, event.shop_domain, now,
                                          occurred_at=parse_shopify_time(event.triggered_at))
    return "uninstalled" if changed else "already uninstalled"


def _shop_updated(session: Session, event: WebhookEvent, shop: Shop | None,
                  payload: dict[str, Any], now: datetime, jobs: AfterCommit) -> str | None:
    return record_shop_update(session, shop, payload)


def _data_request(session: Session, event: WebhookEvent, shop: Shop | None,
                  payload: dict[str, Any], now: datetime, jobs: AfterCommit) -> str | None:
    path = privacy.export_customer_data(session, event.shop_domain, payload, now, EXPORT_DIR)
    return f"exported to {path}"


def _customer_redact(session: Session, event: WebhookEvent, shop: Shop | None,
                     payload: dict[str, Any], now: datetime, jobs: AfterCommit) -> str | None:
    return privacy.redact_customer(session, event.shop_domain, payload, now).code


def _shop_redact(session: Session, event: WebhookEvent, shop: Shop | None,
                 payload: dict[str, Any], now: datetime, jobs: AfterCommit) -> str | None:
    return privacy.redact_shop(session, event.shop_domain, now).code


HANDLERS: dict[str, TopicHandler] = {
    "orders/paid": TopicHandler(_order(order_paid)),
    "orders/cancelled": TopicHandler(_order(order_cancelled)),
    "orders/updated": TopicHandler(_order(order_updated)),
    "orders/fulfilled": TopicHandler(_order(order_fulfilled)),
    "refunds/create": TopicHandler(_order(refund_created)),
    "customers/create": TopicHandler(_customer(welcome=True)),
    "customers/update": TopicHandler(_customer(welcome=False)),
    "customers_email_marketing_consent/update": TopicHandler(_marketing_consent),
    # The shop's currency and name as they change (reward titles follow the currency).
    "shop/update": TopicHandler(_shop_updated),
    # These arrive after an uninstall too, and need no live token.
    "app/uninstalled": TopicHandler(_uninstalled, needs_installed_shop=False),
    # The merchant approved, declined or cancelled the app subscription.
    "app_subscriptions/update": TopicHandler(billing.subscription_updated),
    "customers/data_request": TopicHandler(_data_request, needs_installed_shop=False),
    "customers/redact": TopicHandler(_customer_redact, needs_installed_shop=False),
    "shop/redact": TopicHandler(_shop_redact, needs_installed_shop=False),
}

# What the inbox stores as known; any other topic is acknowledged, recorded and ignored.
KNOWN_TOPICS = frozenset(HANDLERS)


def handler_for(topic: str) -> TopicHandler | None:
    """The handler of a topic, or None for topics we acknowledge and ignore."""
    return HANDLERS.get(topic)
