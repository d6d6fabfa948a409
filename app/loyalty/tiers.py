"""VIP tiers: measured on rolling 12-month eligible spend or lifetime points.

Upgrades happen at once; a downgrade waits until the member has held the tier for the
retention period (features.md: "downgrades only at the end of the period"). Tiers stay
editable after launch: `reevaluate_shop_tiers` applies new levels to every member going
forward, and a tier that no longer exists is replaced at once (retention protects a tier,
not a name the merchant deleted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from app.loyalty.program import ProgramSettings, Tier
from app.models import Member, Order, Shop, TierChange

ROLLING_WINDOW = timedelta(days=365)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class TierProgress:
    """Where a member stands for the widget (design.md §4 `tier`)."""

    name: str
    next: str | None
    progress: float
    spend_to_next: str | None
    points_to_next: int | None

    def as_contract(self) -> dict:
        """The `tier` object of GET /proxy/member."""
        data: dict = {"name": self.name, "next": self.next, "progress": self.progress,
                      "spend_to_next": self.spend_to_next}
        if self.points_to_next is not None:
            data["points_to_next"] = self.points_to_next
        return data


def tier_named(settings: ProgramSettings, name: str | None) -> Tier | None:
    """The tier with that name in these settings, or None."""
    return next((t for t in settings.tiers if name is not None and t.name == name), None)


def earning_tier(member: Member | None, settings: ProgramSettings) -> Tier:
    """The tier an order earns at: the member's current one, else the entry tier."""
    return tier_named(settings, member.tier if member else None) or settings.tiers[0]


def counted_order_filter(settings: ProgramSettings) -> list:
    """SQL conditions for orders that count toward spend (paid, not cancelled, not tests)."""
    return counted_order_filter_for(bool(settings.earning["test_orders_earn"]))


def counted_order_filter_for(test_orders_count: bool) -> list:
    """counted_order_filter by its one setting."""
    conditions = [Order.status == "paid", Order.paid_at.is_not(None)]
    if not test_orders_count:
        conditions.append(Order.test.is_(False))
    return conditions


def _net_spend():
    """Per-order eligible spend after refunds, never below zero."""
    net = Order.eligible_amount - Order.refunded_amount
    return case((net > 0, net), else_=0)


def _rolling_spend_statement(test_orders_count: bool):  # noqa: ANN202 - a Select
    return (select(func.coalesce(func.sum(_net_spend()), 0))
            .where(Order.shop_id == bindparam("shop_id"),
                   Order.member_id == bindparam("member_id"),
                   Order.paid_at > bindparam("since"),
                   *counted_order_filter_for(test_orders_count)))


def rolling_spend(session: Session, member: Member, settings: ProgramSettings,
                  now: datetime) -> Decimal:
    """Eligible spend minus refunds of the member's paid orders in the last 365 days."""
    # Built once per variant: building it per call costs a third of the widget's tier read.
    statement = _ROLLING_SPEND[bool(settings.earning["test_orders_earn"])]
    total = session.execute(statement, {"shop_id": member.shop_id, "member_id": member.id,
                                        "since": now - ROLLING_WINDOW}).scalar_one()
    return Decimal(str(total)).quantize(CENT)


_ROLLING_SPEND = {flag: _rolling_spend_statement(flag) for flag in (False, True)}


def tier_basis_value(session: Session, member: Member, settings: ProgramSettings,
                     now: datetime) -> Decimal:
    """The number tiers are measured on for this member: spend or lifetime points."""
    if settings.tier_basis == "lifetime_points":
        return Decimal(member.points_lifetime)
    return rolling_spend(session, member, settings, now)


def qualifying_tier(settings: ProgramSettings, value: Decimal) -> Tier:
    """The highest tier whose threshold the value reaches."""
    reached = [t for t in settings.tiers if value >= t.threshold]
    return reached[-1] if reached else settings.tiers[0]


def _rank(settings: ProgramSettings, tier: Tier) -> int:
    """A tier's position, lowest first."""
    return [t.name for t in settings.tiers].index(tier.name)


def evaluate_tier(session: Session, member: Member, settings: ProgramSettings, now: datetime,
                  reason: str, *, value: Decimal | None = None) -> TierChange | None:
    """Move the member to the tier their basis supports, if the rules allow it now.

    Returns the TierChange written, or None when the member stays where they are.
    `value` skips the basis query when the caller computed it for many members at once.
    """
    if value is None:
        value = tier_basis_value(session, member, settings, now)
    target = qualifying_tier(settings, value)
    current = tier_named(settings, member.tier)
    if current is not None:
        if target.name == current.name:
            return None
        downgrade = _rank(settings, target) < _rank(settings, current)
        held_since = member.tier_since or now
        if downgrade and now < held_since + timedelta(days=settings.tier_retention_days):
            return None
    change = TierChange(shop_id=member.shop_id, member_id=member.id, from_tier=member.tier,
                        to_tier=target.name, reason=reason, created_at=now)
    member.tier = target.name
    member.tier_since = now
    session.add(change)
    session.flush()
    return change


def _spend_by_member(session: Session, shop_id: int, member_ids: Iterable[int],
                     settings: ProgramSettings, now: datetime) -> dict[int, Decimal]:
    """Rolling spend of many members in one query."""
    rows = session.execute(
        select(Order.member_id, func.sum(_net_spend()))
        .where(Order.shop_id == shop_id, Order.member_id.in_(list(member_ids)),
               Order.paid_at > now - ROLLING_WINDOW, *counted_order_filter(settings))
        .group_by(Order.member_id))
    return {member_id: Decimal(str(total)).quantize(CENT) for member_id, total in rows}


def reevaluate_shop_tiers(session: Session, shop: Shop, settings: ProgramSettings,
                          now: datetime, reason: str = "settings_changed",
                          batch_size: int = 500) -> list[TierChange]:
    """Re-evaluate every member of a shop (after a tier settings change, or as a daily sweep).

    Changes apply from now on: no past earning is recalculated.
    """
    changes: list[TierChange] = []
    last_id = 0
    while True:
        members = session.execute(
            select(Member).where(Member.shop_id == shop.id, Member.id > last_id)
            .order_by(Member.id).limit(batch_size)).scalars().all()
        if not members:
            return changes
        spend = (_spend_by_member(session, shop.id, [m.id for m in members], settings, now)
                 if settings.tier_basis == "spend_12m" else {})
        for member in members:
            value = (spend.get(member.id, Decimal("0.00")) if settings.tier_basis == "spend_12m"
                     else Decimal(member.points_lifetime))
            change = evaluate_tier(session, member, settings, now, reason, value=value)
            if change is not None:
                changes.append(change)
        last_id = members[-1].id


def tier_progress(member: Member, settings: ProgramSettings, value: Decimal) -> TierProgress:
    """Progress from the member's tier to the next one, given their basis value.

    A member kept in a tier by retention may be below its threshold: progress is then 0.
    """
    tiers = settings.tiers
    current = tier_named(settings, member.tier) or qualifying_tier(settings, value)
    higher = [t for t in tiers if t.threshold > current.threshold]
    if not higher:
        return TierProgress(current.name, None, 1.0, None, None)
    following = higher[0]
    span = following.threshold - current.threshold
    fraction = (value - current.threshold) / span if span > 0 else Decimal(1)
    fraction = min(max(fraction, Decimal(0)), Decimal(1))
    # Rounded down: the bar never shows 100% before the member is actually there.
    progress = float(fraction.quantize(CENT, rounding=ROUND_DOWN))
    remaining = max(following.threshold - value, Decimal(0))
    if settings.tier_basis == "lifetime_points":
        return TierProgress(current.name, following.name, progress, None, int(remaining))
    return TierProgress(current.name, following.name, progress,
                        str(remaining.quantize(CENT)), None)
