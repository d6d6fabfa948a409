"""The points ledger: append entries once per source key and keep cached balances exact.

Every balance change goes through `post` or `debit_available`. An entry is pending while its
`available_at` is in the future; the member's cached columns (available, pending, lifetime)
always equal the ledger's sums as of the last `release_unlocked` for that member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from app.db import insert_once
from app.errors import DomainError
from app.models import LedgerEntry, Member

# Lifetime points are every point the member earned (orders, bonuses, referrals, adjustments,
# balances imported from the shop's previous loyalty app)
# less all that refunds and cancellations took back, a forgiven shortfall included; spending
# and expiry never lower them. So a refunded order leaves lifetime where it was before the
# order, whether its points were still pending or already spent. `lifetime_change` and
# `_LIFETIME_CHANGE` are that rule for one entry, in Python and in SQL.
LIFETIME_KINDS = frozenset({
    "earn_order", "refund_reversal", "cancel_reversal", "adjust", "bonus_signup",
    "bonus_birthday", "bonus_review", "bonus_nps", "referral_referrer", "referral_referee",
    "import",
})


def lifetime_change(kind: str, points: int, shortfall: int) -> int:
    """How one entry moves lifetime points: a reversal counts what it forgave as taken."""
    return points - shortfall if kind in LIFETIME_KINDS else 0


_LIFETIME_CHANGE = case((LedgerEntry.kind.in_(LIFETIME_KINDS),
                         LedgerEntry.points - LedgerEntry.shortfall), else_=0)


# Kinds that are not the member's own activity: writing them must not restart the
# inactivity clock that expiry is measured on (an expiry would otherwise renew itself).
NOT_ACTIVITY_KINDS = frozenset({"expire"})


class InsufficientPoints(DomainError):
    """The member's available balance cannot cover a debit."""

    code, status = "insufficient_points", 409

    def __init__(self, available: int, needed: int) -> None:
        super().__init__(f"needs {needed} points, {available} available")
        self.available = available
        self.needed = needed
        self.public_message = f"this reward needs {needed} points; you have {available}"


@dataclass(frozen=True)
class Balances:
    """A member's points by status."""

    available: int
    pending: int
    lifetime: int
    next_unlock_at: datetime | None


def _insert_once(session: Session, values: dict) -> LedgerEntry | None:
    """The new entry, or None if its (shop_id, source_key) was applied before."""
    return insert_once(session, LedgerEntry, values, ["shop_id", "source_key"])


def _update_balances(session: Session, member: Member, *where: Any, **values: Any) -> bool:
    """UPDATE the member's cached balances; the member object gets the new values from
    RETURNING (no SELECT to refresh it). False when `where` matched nothing."""
    row = session.execute(
        update(Member).where(Member.id == member.id, *where).values(**values)
        .returning(Member), execution_options={"populate_existing": True,
                                              "synchronize_session": False}).first()
    return row is not None


def post(session: Session, member: Member, *, points: int, kind: str, source_key: str,
         now: datetime, available_at: datetime | None = None, order_id: int | None = None,
         rate: Decimal | None = None, multiplier: Decimal | None = None,
         amount: Decimal | None = None, shortfall: int = 0, actor: str | None = None,
         note: str | None = None) -> LedgerEntry | None:
    """Append one entry unless its source key was applied before; update cached balances.

    Returns the entry, or None for a duplicate (the caller treats that as already done).
    """
    available_at = available_at or now
    entry = _insert_once(session, {
        "shop_id": member.shop_id, "member_id": member.id, "points": points, "kind": kind,
        "source_key": source_key, "available_at": available_at, "order_id": order_id,
        "rate": rate, "multiplier": multiplier, "amount": amount, "shortfall": shortfall,
        "actor": actor, "note": note, "created_at": now,
    })
    if entry is None:
        return None
    pending = available_at > now
    lifetime = lifetime_change(kind, points, shortfall)
    values: dict = {
        "points_pending" if pending else "points_available":
            (Member.points_pending if pending else Member.points_available) + points,
        "points_lifetime": Member.points_lifetime + lifetime,
    }
    if kind not in NOT_ACTIVITY_KINDS:
        values["last_activity_at"] = now
    if pending and points > 0:
        values["next_unlock_at"] = case(
            (Member.next_unlock_at.is_(None), available_at),
            (Member.next_unlock_at > available_at, available_at),
            else_=Member.next_unlock_at)
    _update_balances(session, member, **values)
    return entry


def debit_available(session: Session, member: Member, *, points: int, kind: str,
                    source_key: str, now: datetime, note: str | None = None,
                    actor: str | None = None) -> LedgerEntry | None:
    """Take points from the available balance atomically, or raise InsufficientPoints.

    The conditional UPDATE is the guard: two concurrent debits can never both pass it,
    whatever either of them read before. None means this source key was already debited.
    """
    if points <= 0:
        raise ValueError("a debit takes a positive number of points")
    entry = _insert_once(session, {
        "shop_id": member.shop_id, "member_id": member.id, "points": -points, "kind": kind,
        "source_key": source_key, "available_at": now, "note": note, "actor": actor,
        "created_at": now,
    })
    if entry is None:
        return None
    if not _update_balances(session, member, Member.points_available >= points,
                            points_available=Member.points_available - points,
                            last_activity_at=now):
        available = session.execute(
            select(Member.points_available).where(Member.id == member.id)).scalar_one()
        raise InsufficientPoints(available, points)
    return entry


def ledger_balances(session: Session, member_id: int, now: datetime) -> Balances:
    """The balances summed from the ledger itself (for checks and refreshes, not hot reads)."""
    is_pending = LedgerEntry.available_at > now
    row = session.execute(
        select(
            func.coalesce(func.sum(case((is_pending, 0), else_=LedgerEntry.points)), 0),
            func.coalesce(func.sum(case((is_pending, LedgerEntry.points), else_=0)), 0),
            func.coalesce(func.sum(_LIFETIME_CHANGE), 0),
            func.min(case((is_pending & (LedgerEntry.points > 0), LedgerEntry.available_at),
                          else_=None)),
        ).where(LedgerEntry.member_id == member_id)).one()
    return Balances(int(row[0]), int(row[1]), int(row[2]), row[3])


def release_unlocked(session: Session, member: Member, now: datetime) -> bool:
    """Move points whose pending period has passed into the available balance.

    Returns whether anything changed. Cheap to call: it does nothing until next_unlock_at.
    """
    if member.next_unlock_at is None or member.next_unlock_at > now:
        return False
    sums = ledger_balances(session, member.id, now)
    member.points_available = sums.available
    member.points_pending = sums.pending
    member.points_lifetime = sums.lifetime
    member.next_unlock_at = sums.next_unlock_at
    session.flush()
    return True

