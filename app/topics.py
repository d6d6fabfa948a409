"""What each webhook topic does: a plain map from topic to the business function it triggers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.loyalty import events
from app.loyalty.orders import parse_shopify_time
from app.models import Shop, WebhookEvent
from app.queueing import JobQueue, enqueue_or_leave_to_sweep
from app.shopify import billing, compliance
from app.shopify.shops import record_shop_update

EXPORT_DIR = Path("instance") / "exports"


@dataclass
class FollowUps:
    """Jobs a handler asks for, enqueued only after its transaction commits."""

    jobs: list[tuple[str, tuple[Any, ...], str, str]] = field(default_factory=list)

    def add(self, func: str, *args: Any, job_id: str, queue: str = "default") -> None:
        """Ask for func(*args) after commit."""
        self.jobs.append((func, args, job_id, queue))

    def enqueue(self, queue: JobQueue) -> None:
        """Enqueue every requested job (called after the commit)."""
        for func, args, job_id, queue_name in self.jobs:
            enqueue_or_leave_to_sweep(queue, func, *args, job_id=job_id, queue_name=queue_name)


Apply = Callable[[Session, WebhookEvent, Shop | None, dict[str, Any], datetime, FollowUps],
                 str | None]


@dataclass(frozen=True)
class TopicHandler:
    """How to apply one topic; most need a shop that is still installed."""

    apply: Apply
    needs_installed_shop: bool = True


def _follow_up(outcome: events.EventOutcome, event: WebhookEvent, shop: Shop,
               followups: FollowUps) -> str:
    """Ask for the jobs an outcome needs: metafield syncs, and for new members their friend
    discount and the marketing consent Shopify already holds for them."""
    for member_id in sorted(outcome.changed_member_ids):
        followups.add("app.jobs.sync_member_metafields", shop.id, member_id,
                      job_id=f"metafields-{shop.id}-{member_id}-{event.id}")
    for member_id in sorted(outcome.new_member_ids):
        followups.add("app.jobs.ensure_friend_discount", shop.id, member_id,
                      job_id=f"friend-discount-{shop.id}-{member_id}")
        followups.add("app.jobs.learn_marketing_consent", shop.id, member_id,
                      job_id=f"marketing-consent-{shop.id}-{member_id}")
    return outcome.note


def _loyalty(business_event: Callable[..., events.EventOutcome], **kwargs: Any) -> Apply:
    """Adapt a loyalty event to a topic handler that also syncs changed members' metafields."""

    def apply(session: Session, event: WebhookEvent, shop: Shop | None,
              payload: dict[str, Any], now: datetime, followups: FollowUps) -> str | None:
        return _follow_up(business_event(session, shop, payload, now, **kwargs), event, shop,
                          followups)

    return apply


def _marketing_consent(session: Session, event: WebhookEvent, shop: Shop | None,
                       payload: dict[str, Any], now: datetime,
                       followups: FollowUps) -> str | None:
    outcome = events.marketing_consent_updated(
        session, shop, payload, now, sent_at=parse_shopify_time(event.triggered_at))
    return _follow_up(outcome, event, shop, followups)


def _uninstalled(session: Session, event: WebhookEvent, shop: Shop | None,
                 payload: dict[str, Any], now: datetime, followups: FollowUps) -> str | None:
    changed = compliance.mark_uninstalled(session, event.shop_domain, now,
                                          occurred_at=parse_shopify_time(event.triggered_at))
    return "uninstalled" if changed else "already uninstalled"


def _shop_updated(session: Session, event: WebhookEvent, shop: Shop | None,
                  payload: dict[str, Any], now: datetime, followups: FollowUps) -> str | None:
    return record_shop_update(session, shop, payload)


def _data_request(session: Session, event: WebhookEvent, shop: Shop | None,
                  payload: dict[str, Any], now: datetime, followups: FollowUps) -> str | None:
    path = compliance.export_customer_data(session, event.shop_domain, payload, now, EXPORT_DIR)
    return f"exported to {path}"


def _customer_redact(session: Session, event: WebhookEvent, shop: Shop | None,
                     payload: dict[str, Any], now: datetime, followups: FollowUps) -> str | None:
    return compliance.redact_customer(session, event.shop_domain, payload, now).code


def _shop_redact(session: Session, event: WebhookEvent, shop: Shop | None,
                 payload: dict[str, Any], now: datetime, followups: FollowUps) -> str | None:
    return compliance.redact_shop(session, event.shop_domain, now).code


HANDLERS: dict[str, TopicHandler] = {
    "orders/paid": TopicHandler(_loyalty(events.order_paid)),
    "orders/cancelled": TopicHandler(_loyalty(events.order_cancelled)),
    "orders/updated": TopicHandler(_loyalty(events.order_updated)),
    "orders/fulfilled": TopicHandler(_loyalty(events.order_fulfilled)),
    "refunds/create": TopicHandler(_loyalty(events.refund_created)),
    "customers/create": TopicHandler(_loyalty(events.customer_joined, welcome=True)),
    "customers/update": TopicHandler(_loyalty(events.customer_joined, welcome=False)),
    "customers_email_marketing_consent/update": TopicHandler(_marketing_consent),
    # The shop's currency and name as they change (reward titles follow the currency).
    "shop/update": TopicHandler(_shop_updated),
    # These arrive after an uninstall too, and need no live token.
    "app/uninstalled": TopicHandler(_uninstalled, needs_installed_shop=False),
    "app_subscriptions/update": TopicHandler(billing.subscription_updated),
    "customers/data_request": TopicHandler(_data_request, needs_installed_shop=False),
    "customers/redact": TopicHandler(_customer_redact, needs_installed_shop=False),
    "shop/redact": TopicHandler(_shop_redact, needs_installed_shop=False),
}


def handler_for(topic: str) -> TopicHandler | None:
    """The handler of a topic, or None for topics we acknowledge and ignore."""
    return HANDLERS.get(topic)
