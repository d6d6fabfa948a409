"""Manual points adjustments by the merchant's staff: always with a reason, always signed.

The reason is the ledger entry's note, which the shopper sees in their activity (features.md:
"every adjustment is visible to the shopper with a reason"); the actor is the staff user from
the admin session token. A negative adjustment takes available points only, and never takes the
balance below zero unless the program allows negative balances.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldErrors
from app.inputs import NUL_MESSAGE, has_nul
from app.loyalty.ledger import InsufficientPoints, post, release_unlocked
from app.loyalty.program import ProgramSettings
from app.models import LedgerEntry, Member

MAX_POINTS = 1_000_000
REASON_MAX = 500
# A key the admin page generates once per form, so a double click adjusts once.
_REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


class AdjustmentError(FieldErrors, ValueError):
    """An adjustment that cannot be made; `errors` maps a field to a message."""

    code = "invalid_adjustment"


class AdjustmentShortfall(InsufficientPoints):
    """A negative adjustment larger than the available balance, told next to the points field."""

    def __init__(self, available: int, needed: int) -> None:
        super().__init__(available, needed)
        self.public_message = f"Only {available:,} points are available."
        self.fields = {"points": f"cannot take more than the {available:,} available points"}


def staff_actor(user_id: str | int) -> str:
    """How a staff user is recorded as the actor of a ledger entry or settings version."""
    return f"staff:{user_id}"


def validate_adjustment(points: object, reason: object, request_key: object) -> dict[str, str]:
    """Field errors of an adjustment; empty when it can be made."""
    errors: dict[str, str] = {}
    if isinstance(points, bool) or not isinstance(points, int):
        errors["points"] = "must be a whole number of points"
    elif points == 0:
        errors["points"] = "cannot be zero"
    elif abs(points) > MAX_POINTS:
        errors["points"] = f"must be between -{MAX_POINTS:,} and {MAX_POINTS:,}"
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "a reason is required; the customer sees it next to the points"
    elif len(reason.strip()) > REASON_MAX:
        errors["reason"] = f"must be at most {REASON_MAX} characters"
    elif has_nul(reason):
        errors["reason"] = NUL_MESSAGE
    if not isinstance(request_key, str) or not _REQUEST_KEY.fullmatch(request_key):
        errors["request_key"] = "missing or malformed; reload the page"
    return errors


def adjust_points(session: Session, member: Member, settings: ProgramSettings, *, points: int,
                  reason: str, actor: str, request_key: str, now: datetime) -> LedgerEntry:
    """Add (or take) points by hand; the same request key adjusts once.

    Raises AdjustmentError for bad input and InsufficientPoints when a negative adjustment
    would take the available balance below zero and the program does not allow that.
    """
    errors = validate_adjustment(points, reason, request_key)
    if errors:
        raise AdjustmentError(errors)
    source_key = f"adjust:{member.id}:{request_key}"
    done = session.execute(select(LedgerEntry).where(
        LedgerEntry.shop_id == member.shop_id, LedgerEntry.source_key == source_key)
    ).scalar_one_or_none()
    if done is not None:
        return done
    # The row lock orders this against concurrent debits: the balance checked is the one taken.
    member = session.execute(select(Member).where(Member.id == member.id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    release_unlocked(session, member, now)
    if points < 0 and member.points_available + points < 0 and \
            not settings.allow_negative_balance:
        raise AdjustmentShortfall(member.points_available, -points)
    entry = post(session, member, points=points, kind="adjust", source_key=source_key, now=now,
                 actor=actor, note=reason.strip())
    if entry is None:
        # A concurrent twin of this request won the insert: its entry is the answer.
        return session.execute(select(LedgerEntry).where(
            LedgerEntry.shop_id == member.shop_id, LedgerEntry.source_key == source_key)
        ).scalar_one()
    return entry
