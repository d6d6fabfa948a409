"""Shopify Flow triggers: what the program tells Flow when it happens.

A trigger is sent only for a change that committed, and once. `record_trigger` writes its
`flow_triggers` row in the transaction of the change (the outbox: the row commits or rolls
back with it, so a queue that is down at commit loses nothing), unique per shop and event key
(the same event reported twice is one row), and notes the row on the session; when the
transaction commits, the pipeline enqueues one job per new row (app/pipeline/enqueue.py),
which claims and sends it with flowTriggerReceive. The inbox sweep re-enqueues rows a lost
job left unsent (app/pipeline/flow_triggers.py). The statement costs the change one INSERT
per trigger, and only when one happens. The handles and fields are those of the trigger
extensions (extensions/flow-*/shopify.extension.toml); the payload carries the customer
reference as `customer_id` and each field under its TOML key
(https://shopify.dev/docs/apps/build/flow/triggers/reference).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.db import insert_once, utcnow
from app.loyalty.program import ProgramSettings
from app.models import FlowTrigger, Member, Redemption, Referral, Shop, TierChange

POINTS_AVAILABLE = "loyalty-points-available"
POINTS_EXPIRING = "loyalty-points-expiring"
TIER_CHANGED = "loyalty-tier-changed"
REWARD_REDEEMED = "loyalty-reward-redeemed"
REFERRAL_COMPLETED = "loyalty-referral-completed"
REFERRAL_FLAGGED = "loyalty-referral-flagged"
NPS_DETRACTOR = "loyalty-nps-detractor"

# handle -> the payload keys besides customer_id: the TOML's field keys (letters and spaces
# only, as the CLI requires) and `order_id` for an order reference field.
TRIGGER_FIELDS: dict[str, tuple[str, ...]] = {
    POINTS_AVAILABLE: ("points", "points available"),
    POINTS_EXPIRING: ("points", "expires on", "days left"),
    TIER_CHANGED: ("previous tier", "new tier", "reason"),
    REWARD_REDEEMED: ("reward", "points", "code"),
    REFERRAL_COMPLETED: ("friend order", "points"),
    REFERRAL_FLAGGED: ("friend order", "reason"),
    # order_id: the order reference field (the order the answer is about).
    NPS_DETRACTOR: ("order_id", "score", "comment"),
}

# The ids of the rows a session's transaction wrote: app/pipeline/enqueue.py enqueues one job
# per row when it commits, and forgets them when it rolls back (the rows go with it).
PENDING_TRIGGERS = "flow_triggers"


def record_trigger(session: Session, member: Member, handle: str, event_key: str,
                   fields: dict[str, Any]) -> bool:
    """Write the trigger's row in this transaction, to be sent once it commits; False for a
    member without a customer id (a guest), who is no customer Flow could act on, and for an
    event already recorded."""
    if member.customer_id is None:
        return False
    if set(fields) != set(TRIGGER_FIELDS[handle]):
        raise ValueError(f"{handle} takes {TRIGGER_FIELDS[handle]}, not {sorted(fields)}")
    row = insert_once(session, FlowTrigger, {
        "shop_id": member.shop_id, "member_id": member.id, "handle": handle,
        "event_key": f"{handle}:{event_key}"[:200],
        "payload": {"customer_id": member.customer_id, **fields}, "status": "pending",
        "attempts": 0, "created_at": utcnow()}, ["shop_id", "event_key"])
    if row is None:
        return False
    session.info.setdefault(PENDING_TRIGGERS, []).append(row.id)
    return True


# One function per event, called where the change happens ----------------------------------

def points_available(session: Session, member: Member, released: int, unlocked_at: datetime,
                     now: datetime) -> None:
    """Pending points became spendable (the return window of their orders closed)."""
    if released > 0:
        record_trigger(session, member, POINTS_AVAILABLE,
                       f"{member.id}:{unlocked_at:%Y%m%dT%H%M%S}",
                       {"points": released, "points available": member.points_available})


def points_expiring(session: Session, member: Member, points: int, expires_at: datetime,
                    now: datetime) -> None:
    """Points will expire on `expires_at` (sent once per member and expiry date)."""
    record_trigger(session, member, POINTS_EXPIRING, f"{member.id}:{expires_at:%Y%m%d}",
                   {"points": points, "expires on": expires_at.date().isoformat(),
                    "days left": max((expires_at - now).days, 0)})


def points_expiring_soon(session: Session, shop: Shop, settings: ProgramSettings,
                         now: datetime) -> int:
    """The daily round's look ahead: members whose points expire within the expiry warning's
    days (the merchant's setting, 30 by default), each told once per expiry date."""
    from app.loyalty.expiry import members_expiring_between

    days = int(settings.engagement["flows"]["expiry_warning"]["days_before"])
    warnings = members_expiring_between(session, shop, settings, now, now + timedelta(days=days))
    for warning in warnings:
        points_expiring(session, session.get(Member, warning.member_id), warning.points,
                        warning.expires_at, now)
    return len(warnings)


def tier_changed(session: Session, member: Member, change: TierChange, now: datetime) -> None:
    """The member moved between tiers (a new member's first tier is no change)."""
    if change.from_tier is None:
        return
    record_trigger(session, member, TIER_CHANGED, str(change.id),
                   {"previous tier": change.from_tier or "", "new tier": change.to_tier or "",
                    "reason": change.reason})


def reward_redeemed(session: Session, member: Member, redemption: Redemption, title: str,
                    now: datetime) -> None:
    """A reward's code was issued for the member's points."""
    record_trigger(session, member, REWARD_REDEEMED, str(redemption.id),
                   {"reward": title, "points": redemption.points,
                    "code": redemption.code or ""})


def referral_completed(session: Session, referrer: Member, referral: Referral, points: int,
                       now: datetime) -> None:
    """A friend's order outlived its return window and the referrer was paid."""
    record_trigger(session, referrer, REFERRAL_COMPLETED, str(referral.id),
                   {"friend order": str(referral.order_id), "points": points})


def referral_flagged(session: Session, referrer: Member, referral: Referral,
                     now: datetime) -> None:
    """A referral waits for the merchant's review (a fraud rule matched)."""
    record_trigger(session, referrer, REFERRAL_FLAGGED, str(referral.id),
                   {"friend order": str(referral.order_id),
                    "reason": referral.reason or ""})


def nps_detractor(session: Session, member: Member, order_id: int, score: int,
                  comment: str | None, now: datetime) -> None:
    """A customer answered 0-6 to the NPS question for an order (once per order)."""
    record_trigger(session, member, NPS_DETRACTOR, f"{order_id}",
                   {"order_id": order_id, "score": score, "comment": comment or ""})
