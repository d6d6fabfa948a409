"""The customers pages' reads: member search and one member's record (no Flask here).

Searches are prefix matches (`ada`, `ada love`, `ada@ex`), which an index can serve at a
million members; every query is scoped by shop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.db import get_for_shop
from app.inputs import parse_id
from app.models import LedgerEntry, Member, Redemption, Referral, Reward

SEARCH_LIMIT = 50
LEDGER_PAGE = 100


def _prefix(text: str) -> str:
    """A LIKE pattern matching values that start with `text` (its wildcards taken literally)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search_members(session: Session, shop_id: int, query: str,
                   limit: int = SEARCH_LIMIT) -> list[Member]:
    """Members whose email, first or last name (or 'first last') start with the query.

    An empty query lists the newest members; digits also match a Shopify customer id, and a
    code like ADA-7K3Q a referral code.
    """
    query = " ".join(query.split()).lower()
    base = select(Member).where(Member.shop_id == shop_id, Member.redacted_at.is_(None))
    if not query:
        return list(session.execute(base.order_by(Member.id.desc()).limit(limit)).scalars())
    pattern = _prefix(query)
    conditions = [func.lower(Member.email).like(pattern, escape="\\")]
    if "@" not in query:
        conditions += [func.lower(Member.first_name).like(pattern, escape="\\"),
                       func.lower(Member.last_name).like(pattern, escape="\\"),
                       Member.referral_code == query.upper()]
        first, _, last = query.partition(" ")
        if last:
            conditions.append(and_(func.lower(Member.first_name) == first,
                                   func.lower(Member.last_name).like(_prefix(last),
                                                                     escape="\\")))
        customer_id = parse_id(query)
        if customer_id is not None:
            conditions.append(Member.customer_id == customer_id)
    return list(session.execute(
        base.where(or_(*conditions)).order_by(Member.last_activity_at.desc().nulls_last(),
                                              Member.id.desc()).limit(limit)).scalars())


def shop_member(session: Session, shop_id: int, member_id: int) -> Member | None:
    """The member with that id in this shop only (another shop's id finds nothing)."""
    return get_for_shop(session, Member, shop_id, member_id)


def ledger_page(session: Session, member: Member, before_id: int | None = None,
                size: int = LEDGER_PAGE) -> tuple[list[LedgerEntry], int | None]:
    """A page of the member's ledger, newest first, and the id to continue before (or None)."""
    query = select(LedgerEntry).where(LedgerEntry.shop_id == member.shop_id,
                                      LedgerEntry.member_id == member.id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    rows = list(session.execute(query.order_by(LedgerEntry.id.desc()).limit(size + 1))
                .scalars())
    more = rows[size].id + 1 if len(rows) > size else None
    return rows[:size], more


@dataclass(frozen=True)
class ReferralStats:
    """What a member's referral code brought in."""

    code: str
    referred: int
    rewarded: int
    waiting: int
    rejected: int
    points_earned: int
    referred_by: Member | None


def referral_stats(session: Session, member: Member) -> ReferralStats:
    """The member's referrals by outcome and the points their referrals earned them."""
    def count_of(status: str):  # noqa: ANN202 - SQL expression
        """How many of the member's referrals have this status."""
        return func.coalesce(func.sum(case((Referral.status == status, 1), else_=0)), 0)

    referred, rewarded, rejected = session.execute(
        select(func.count(), count_of("rewarded"), count_of("rejected"))
        .where(Referral.shop_id == member.shop_id, Referral.referrer_id == member.id)).one()
    points = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.points), 0))
        .where(LedgerEntry.shop_id == member.shop_id, LedgerEntry.member_id == member.id,
               LedgerEntry.kind == "referral_referrer")).scalar_one()
    referrer = (shop_member(session, member.shop_id, member.referred_by_id)
                if member.referred_by_id else None)
    referred, rewarded, rejected = int(referred), int(rewarded), int(rejected)
    return ReferralStats(member.referral_code, referred, rewarded,
                         referred - rewarded - rejected, rejected, int(points), referrer)


@dataclass(frozen=True)
class RedemptionLine:
    """A reward the member redeemed."""

    at: datetime
    title: str
    points: int
    code: str
    status: str


def redemptions_of(session: Session, member: Member, limit: int = 20) -> list[RedemptionLine]:
    """The member's latest redemptions with their reward titles."""
    rows = session.execute(
        select(Redemption.created_at, Reward.title, Redemption.points, Redemption.code,
               Redemption.status)
        .outerjoin(Reward, Reward.id == Redemption.reward_id)
        .where(Redemption.shop_id == member.shop_id, Redemption.member_id == member.id)
        .order_by(Redemption.id.desc()).limit(limit))
    return [RedemptionLine(at, title or "Removed reward", points, code, status)
            for at, title, points, code, status in rows]
