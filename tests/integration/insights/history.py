"""A shop's mixed history for comparing the roll-ups with the row-by-row figures: holdout
customers assigned at any time of day, orders on the edges of every follow-up period,
refunds, cancellations, test and unpaid orders, every kind of ledger entry, released members,
guests and customers outside the holdout."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from app.loyalty.holdout import CONTROL, PROGRAM
from app.models import LedgerEntry, Member, Order, Shop

# The follow-up periods the tests ask for: each customer gets orders just inside and just
# outside one of them.
PERIODS = (7, 30, 90, 365, 730)
KINDS = ("earn_order", "bonus_signup", "bonus_review", "referral_referee", "redeem",
         "redeem_refund", "expire", "refund_reversal", "cancel_reversal", "adjust")
_ids = itertools.count(1)


def add_order(session: Session, shop: Shop, member: Member | None, paid_at: datetime | None,
              total: str, *, refunded: str = "0", status: str = "paid", test: bool = False,
              created_at: datetime | None = None) -> Order:
    """One order, recorded when it was paid unless `created_at` says otherwise."""
    n = next(_ids)
    order = Order(shop_id=shop.id, shopify_order_id=shop.id * 10**9 + n,
                  member_id=member.id if member else None, total_price=Decimal(total),
                  eligible_amount=Decimal(total), refunded_amount=Decimal(refunded),
                  status=status, test=test, paid_at=paid_at, placed_at=paid_at,
                  cancelled_at=paid_at if status == "cancelled" else None,
                  created_at=created_at or paid_at or datetime(2026, 1, 1))
    session.add(order)
    return order


def add_entry(session: Session, shop: Shop, member: Member, kind: str, points: int,
              at: datetime) -> None:
    """One ledger entry written at `at`."""
    session.add(LedgerEntry(shop_id=shop.id, member_id=member.id, points=points, kind=kind,
                            source_key=f"h:{next(_ids)}", available_at=at, created_at=at))


def add_customer(session: Session, shop: Shop, *, group: str | None, at: datetime,
                 guest: bool = False, released: datetime | None = None) -> Member:
    """A member first seen at `at`, in `group` when given."""
    n = next(_ids)
    member = Member(shop_id=shop.id, customer_id=None if guest else 70_000_000 + n,
                    email=f"h{n}@example.com", referral_code=f"H{n}",
                    holdout_group=group, holdout_assigned_at=at if group else None,
                    holdout_released_at=released, created_at=at)
    session.add(member)
    session.flush()
    return member


def seed_history(session: Session, shop: Shop, *, now: datetime, customers: int = 240,
                 seed: int = 1) -> list[Member]:
    """`customers` holdout customers assigned over the 800 days before `now`, plus guests
    and customers outside the holdout; returns the holdout customers."""
    rng = random.Random(seed)
    assigned = []
    for i in range(customers):
        at = now - timedelta(days=rng.uniform(0, 800))
        group = CONTROL if rng.random() < 0.3 else PROGRAM
        released = at + timedelta(days=rng.uniform(1, 60)) if group == CONTROL and i % 4 == 0 \
            else None
        member = add_customer(session, shop, group=group, at=at, released=released)
        assigned.append(member)
        period = timedelta(days=PERIODS[i % len(PERIODS)])
        second = timedelta(seconds=1)
        moments = [at - timedelta(days=1), at - timedelta(days=1) - second, at,
                   at + period - second, at + period,
                   *(at + timedelta(days=rng.uniform(0, 800)) for _ in range(rng.randint(0, 4)))]
        for j, paid_at in enumerate(moments):
            if rng.random() < 0.35 and j > 2:
                continue
            total = f"{rng.randint(5, 400)}.{rng.randint(0, 99):02d}"
            refunded = f"{rng.randint(1, 5)}.50" if rng.random() < 0.2 else "0"
            status = "cancelled" if rng.random() < 0.05 else "paid"
            add_order(session, shop, member, paid_at, total, refunded=refunded, status=status,
                      test=rng.random() < 0.03)
        add_order(session, shop, member, None, "12.00", status="pending")
        if group == PROGRAM:
            for _ in range(rng.randint(0, 6)):
                kind = rng.choice(KINDS)
                points = rng.randint(10, 500)
                sign = -1 if kind in ("redeem", "expire", "refund_reversal",
                                      "cancel_reversal") or (kind == "adjust"
                                                             and rng.random() < 0.5) else 1
                add_entry(session, shop, member, kind, sign * points,
                          at + timedelta(days=rng.uniform(-2, 800)))
    for i in range(customers // 3):
        at = now - timedelta(days=rng.uniform(0, 500))
        member = add_customer(session, shop, group=None, at=at, guest=i % 2 == 0)
        for _ in range(rng.randint(1, 4)):
            add_order(session, shop, member, at + timedelta(days=rng.uniform(0, 300)),
                      f"{rng.randint(5, 90)}.00")
    session.flush()
    return assigned
