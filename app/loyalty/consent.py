"""Email marketing consent as Shopify keeps it, the newest state winning.

Since API 2025-01, customers/create and customers/update carry no `email_marketing_consent`:
the state arrives on customers_email_marketing_consent/update
(https://shopify.dev/changelog/new-customer-s-webhook-and-changes-to-existing-customer-s-webhooks-payload),
and a customer who consented before the program first met them is read from Admin GraphQL
(`Customer.defaultEmailAddress { marketingState marketingUpdatedAt }`, app/pipeline/consent.py).
Both can arrive in any order, so each state carries the time the customer last changed it and
an older one never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from app.loyalty.orders import parse_shopify_time
from app.models import Member

# The webhook's `email_marketing_consent.state` values are lowercase
# (subscribed, not_subscribed, pending, unsubscribed, redacted, invalid); GraphQL's
# CustomerEmailAddressMarketingState is the same in capitals. Only a confirmed subscription
# is consent: `pending` is a double opt-in not confirmed yet.
SUBSCRIBED = "subscribed"


@dataclass(frozen=True)
class ConsentUpdate:
    """What a customers_email_marketing_consent/update delivery says."""

    customer_id: int
    email: str | None
    subscribed: bool
    # When the customer changed it; Shopify leaves consent_updated_at null for some states,
    # then the delivery's X-Shopify-Triggered-At stands for it.
    updated_at: datetime | None


def is_subscribed(state: Any) -> bool:
    """Whether a marketing state (webhook or GraphQL spelling) is a confirmed subscription."""
    return str(state or "").strip().lower() == SUBSCRIBED


def parse_consent_update(payload: Mapping[str, Any],
                         sent_at: datetime | None = None) -> ConsentUpdate:
    """ConsentUpdate from the topic's payload (customer_id, email_address,
    email_marketing_consent {state, opt_in_level, consent_updated_at})."""
    consent = payload.get("email_marketing_consent") or {}
    email = str(payload.get("email_address") or "").strip() or None
    return ConsentUpdate(
        customer_id=int(payload["customer_id"]), email=email,
        subscribed=is_subscribed(consent.get("state")),
        updated_at=parse_shopify_time(consent.get("consent_updated_at")) or sent_at)


def record_consent(session: Session, member: Member, subscribed: bool,
                   updated_at: datetime | None) -> bool:
    """Give the member this consent unless they hold a newer one; True when it was applied.

    One conditional UPDATE, so two workers applying two states of one member at once keep the
    newer whichever commits last. A state without a time (Shopify never recorded a change) only
    fills in a member who holds no dated state.
    """
    held = Member.marketing_consent_updated_at
    newer = held.is_(None) if updated_at is None else or_(held.is_(None), held <= updated_at)
    values: dict[str, Any] = {"accepts_marketing": subscribed}
    if updated_at is not None:
        values["marketing_consent_updated_at"] = updated_at
    result = session.execute(
        update(Member).where(Member.id == member.id, newer).values(**values)
        .execution_options(synchronize_session="fetch"))
    return bool(result.rowcount)
