"""Shopify Flow actions the merchant's workflows run: adjust points, set a tier until a date.

Each run is applied once: Flow resends a run it got no 200 for with the same `action_run_id`,
and the run's row (`flow_action_runs`, unique per shop and run id) answers the resend with the
first outcome. Points move through the ledger like a staff adjustment (a reason the member
sees, actor `flow`); a tier set here is held until the end of its date, no review moving the
member down before it (app/loyalty/tiers.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import insert_once
from app.inputs import parse_id
from app.loyalty import flow_triggers
from app.loyalty.adjustments import AdjustmentError, adjust_points
from app.loyalty.ledger import InsufficientPoints
from app.loyalty.members import enrol, member_for_customer
from app.loyalty.program import current_settings
from app.models import FlowActionRun, Member, Shop, TierChange

ADJUST_POINTS = "loyalty-adjust-points"
SET_TIER = "loyalty-set-tier"
ACTOR = "flow"
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([0-9]+)")


class FlowActionRefused(ValueError):
    """A run that cannot be applied, with a stable code (answered 422: Flow shows it failed)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ActionResult:
    """What a run did, and whether this request applied it or an earlier one had."""

    outcome: str
    member_id: int
    repeated: bool


def _customer_id(properties: dict[str, Any]) -> int:
    raw = properties.get("customer_id")
    match = _CUSTOMER_GID.fullmatch(raw) if isinstance(raw, str) else None
    customer_id = parse_id(match.group(1) if match else raw)
    if customer_id is None:
        raise FlowActionRefused("invalid_customer", "customer_id is not a customer")
    return customer_id


def _member(session: Session, shop: Shop, customer_id: int, now: datetime) -> Member:
    """The customer's member, enrolled on first sight (Flow names a customer of the shop)."""
    member = member_for_customer(session, shop, customer_id)
    return member or enrol(session, shop, now=now, customer_id=customer_id)


def _adjust(session: Session, shop: Shop, member: Member, run_id: str,
            properties: dict[str, Any], now: datetime) -> str:
    points, reason = properties.get("points"), properties.get("reason")
    if isinstance(points, str) and re.fullmatch(r"-?[0-9]{1,7}", points.strip()):
        points = int(points)
    # The run id, whatever its characters, as the adjustment's request key.
    request_key = hashlib.sha256(run_id.encode()).hexdigest()[:32]
    try:
        entry = adjust_points(session, member, current_settings(session, shop.id),
                              points=points, reason=reason, actor=ACTOR,  # type: ignore[arg-type]
                              request_key=request_key, now=now)
    except AdjustmentError as exc:
        raise FlowActionRefused("invalid_properties", str(exc)) from exc
    except InsufficientPoints as exc:
        raise FlowActionRefused("insufficient_points",
                                f"the member has {exc.available} points") from exc
    return f"adjusted {entry.points:+d}"


def _set_tier(session: Session, shop: Shop, member: Member, properties: dict[str, Any],
              now: datetime) -> str:
    settings = current_settings(session, shop.id)
    names = {tier.name.casefold(): tier.name for tier in settings.tiers}
    raw_tier, raw_until = properties.get("tier"), properties.get("until")
    tier = names.get(raw_tier.strip().casefold()) if isinstance(raw_tier, str) else None
    if tier is None:
        raise FlowActionRefused("unknown_tier", f"tier must be one of {', '.join(names.values())}")
    try:
        until = date.fromisoformat(raw_until.strip()) if isinstance(raw_until, str) else None
    except ValueError:
        until = None
    if until is None or until < now.date():
        raise FlowActionRefused("invalid_until", "until is a date (YYYY-MM-DD), today or later")
    member = session.execute(select(Member).where(Member.id == member.id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    # Held through the whole of its last day.
    member.tier_held_until = datetime.combine(until + timedelta(days=1), datetime.min.time())
    if member.tier != tier:
        change = TierChange(shop_id=shop.id, member_id=member.id, from_tier=member.tier,
                            to_tier=tier, reason=ACTOR, created_at=now)
        member.tier, member.tier_since = tier, now
        session.add(change)
        session.flush()
        flow_triggers.tier_changed(session, member, change, now)
    return f"tier {tier} until {until.isoformat()}"


def run_flow_action(session: Session, shop: Shop, handle: str, run_id: str,
                    properties: dict[str, Any], now: datetime) -> ActionResult:
    """Apply one action run once; a resend of the same run answers the first outcome."""
    if not run_id or len(run_id) > 100:
        raise FlowActionRefused("invalid_action_run_id", "action_run_id is 1-100 characters")
    earlier = session.execute(select(FlowActionRun).where(
        FlowActionRun.shop_id == shop.id, FlowActionRun.action_run_id == run_id)
    ).scalar_one_or_none()
    if earlier is not None:
        return ActionResult(earlier.outcome, earlier.member_id or 0, repeated=True)
    member = _member(session, shop, _customer_id(properties), now)
    if handle == ADJUST_POINTS:
        outcome = _adjust(session, shop, member, run_id, properties, now)
    elif handle == SET_TIER:
        outcome = _set_tier(session, shop, member, properties, now)
    else:
        raise FlowActionRefused("unknown_action", f"no action {handle!r}")
    row = insert_once(session, FlowActionRun, {
        "shop_id": shop.id, "member_id": member.id, "action_run_id": run_id, "handle": handle,
        "outcome": outcome[:64], "created_at": now}, ["shop_id", "action_run_id"])
    return ActionResult(outcome, member.id, repeated=row is None)
