"""Reorder intervals: when a member would typically buy again, and who has gone quiet.

A member's interval is the median gap between their paid orders; with a single order, it is
the shortest median reorder gap (across members) of the products in that order, the first
thing they would run out of. Gaps under a day are split shipments or corrections, not reorders.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.program import ProgramSettings
from app.loyalty.tiers import counted_order_filter
from app.models import Member, Order
from app.models.review import PurchasedProduct

MIN_GAP = timedelta(days=1)
# A spell that became due longer ago than this is left alone: nobody is won back after years.
HORIZON = timedelta(days=30)


@dataclass(frozen=True)
class QuietSpell:
    """A member whose interval has passed since their last order."""

    member_id: int
    last_order_id: int
    last_order_at: datetime
    interval: timedelta


def median_gap(moments: Iterable[datetime]) -> timedelta | None:
    """The median gap between consecutive moments (gaps under a day ignored), or None."""
    ordered = sorted(moments)
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False) if b - a >= MIN_GAP]
    return statistics.median(gaps) if gaps else None


def product_intervals(session: Session, shop_id: int) -> dict[int, timedelta]:
    """Each product's median reorder gap across the members who bought it more than once."""
    rows = session.execute(
        select(PurchasedProduct.product_id, PurchasedProduct.member_id,
               PurchasedProduct.purchased_at)
        .where(PurchasedProduct.shop_id == shop_id, PurchasedProduct.member_id.is_not(None)))
    bought: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for product_id, member_id, purchased_at in rows:
        bought[(product_id, member_id)].append(purchased_at)
    gaps: dict[int, list[timedelta]] = defaultdict(list)
    for (product_id, _member_id), moments in bought.items():
        ordered = sorted(moments)
        gaps[product_id].extend(b - a for a, b in zip(ordered, ordered[1:], strict=False)
                                if b - a >= MIN_GAP)
    return {product_id: statistics.median(values) for product_id, values in gaps.items()
            if values}


def reorder_interval(order_moments: list[datetime], products: Iterable[int],
                     intervals: dict[int, timedelta]) -> timedelta | None:
    """The member's own median gap, else the shortest interval of the products they bought."""
    own = median_gap(order_moments)
    if own is not None:
        return own
    known = [intervals[p] for p in products if p in intervals]
    return min(known) if known else None


def quiet_spells(session: Session, shop_id: int, settings: ProgramSettings,
                 now: datetime) -> list[QuietSpell]:
    """Members whose reorder interval has passed since their last paid order, as of `now`."""
    rows = session.execute(
        select(Order.member_id, Order.shopify_order_id, Order.paid_at)
        .join(Member, Member.id == Order.member_id)
        .where(Order.shop_id == shop_id, Member.redacted_at.is_(None),
               *counted_order_filter(settings))
        .order_by(Order.member_id, Order.paid_at, Order.id))
    orders: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for member_id, order_id, paid_at in rows:
        orders[member_id].append((paid_at, order_id))
    if not orders:
        return []
    intervals = product_intervals(session, shop_id)
    spells = []
    for member_id, placed in orders.items():
        last_at, last_id = placed[-1]
        products = session.execute(select(PurchasedProduct.product_id).where(
            PurchasedProduct.shop_id == shop_id,
            PurchasedProduct.order_id == last_id)).scalars().all() if len(placed) == 1 else []
        interval = reorder_interval([at for at, _ in placed], products, intervals)
        if interval is None:
            continue
        quiet_for = now - last_at
        if interval <= quiet_for <= 2 * interval + HORIZON:
            spells.append(QuietSpell(member_id, last_id, last_at, interval))
    return spells


def latest_order_id(session: Session, member: Member, settings: ProgramSettings) -> int | None:
    """The Shopify id of the member's latest counted order."""
    return session.execute(
        select(Order.shopify_order_id).where(
            Order.shop_id == member.shop_id, Order.member_id == member.id,
            *counted_order_filter(settings))
        .order_by(Order.paid_at.desc(), Order.id.desc()).limit(1)).scalar_one_or_none()
