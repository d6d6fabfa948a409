"""Points expire after months without activity (features.md: 12 months, warned 30 and 7 days
before). Any ledger write by or for the member except an expiry counts as activity.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.loyalty.ledger import ledger_balances, post, release_unlocked
from app.loyalty.program import ProgramSettings
from app.models import LedgerEntry, Member, Shop


@dataclass(frozen=True)
class ExpiryWarning:
    """A member whose points will expire, for the warning emails."""

    member_id: int
    points: int
    expires_at: datetime


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (or earlier), clamped to the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expires_at(member: Member, settings: ProgramSettings) -> datetime | None:
    """When the member's points expire if nothing happens before; None if expiry is off."""
    if settings.expiry_months == 0 or member.last_activity_at is None:
        return None
    return add_months(member.last_activity_at, settings.expiry_months)


def expire_member_points(session: Session, member: Member, settings: ProgramSettings,
                         now: datetime) -> LedgerEntry | None:
    """Expire one member's available balance if they have been inactive long enough.

    The source key names the inactivity period (its last activity), so a period expires once
    however often the sweep runs, and a later period can expire again.
    """
    member = session.execute(select(Member).where(Member.id == member.id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    release_unlocked(session, member, now)
    deadline = expires_at(member, settings)
    if deadline is None or deadline > now or member.points_available <= 0:
        return None
    months = settings.expiry_months
    return post(session, member, points=-member.points_available, kind="expire",
                source_key=f"expire:{member.id}:{member.last_activity_at:%Y%m%dT%H%M%S}",
                now=now,
                note=f"{member.points_available} points expired after {months} months "
                     "without activity")


def expire_inactive_points(session: Session, shop: Shop, settings: ProgramSettings,
                           now: datetime, batch_size: int = 500) -> list[LedgerEntry]:
    """Expire the available points of every member of a shop inactive for expiry_months."""
    if settings.expiry_months == 0:
        return []
    cutoff = add_months(now, -settings.expiry_months)
    entries: list[LedgerEntry] = []
    last_id = 0
    while True:
        members = session.execute(
            select(Member).where(
                Member.shop_id == shop.id, Member.id > last_id,
                Member.last_activity_at <= cutoff + timedelta(days=1),
                or_(Member.points_available > 0, Member.next_unlock_at <= now))
            .order_by(Member.id).limit(batch_size)).scalars().all()
        if not members:
            return entries
        for member in members:
            entry = expire_member_points(session, member, settings, now)
            if entry is not None:
                entries.append(entry)
        last_id = members[-1].id


def members_expiring_between(session: Session, shop: Shop, settings: ProgramSettings,
                             start: datetime, end: datetime) -> list[ExpiryWarning]:
    """Members whose points expire in [start, end) and how many, for 30- and 7-day warnings."""
    if settings.expiry_months == 0:
        return []
    months = settings.expiry_months
    # A day of slack either side: month lengths make add_months only nearly invertible;
    # the exact check below decides.
    low = add_months(start, -months) - timedelta(days=1)
    high = add_months(end, -months) + timedelta(days=1)
    members = session.execute(
        select(Member).where(Member.shop_id == shop.id, Member.last_activity_at >= low,
                             Member.last_activity_at < high)
        .order_by(Member.id)).scalars().all()
    warnings = []
    for member in members:
        deadline = expires_at(member, settings)
        if deadline is None or not start <= deadline < end:
            continue
        points = ledger_balances(session, member.id, deadline).available
        if points > 0:
            warnings.append(ExpiryWarning(member.id, points, deadline))
    return warnings
