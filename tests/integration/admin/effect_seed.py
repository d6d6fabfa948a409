"""A shop's holdout history with a known true effect, written straight to the tables."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from app.loyalty.holdout import CONTROL, PROGRAM
from app.models import LedgerEntry, Member, Order, Shop


def seed_holdout_history(session: Session, shop: Shop, *, customers: int, assigned_from: datetime,
                         days: int, control_share: float = 0.1, control_rate: float = 0.20,
                         program_rate: float = 0.30, order_value: str = "50.00",
                         seed: int = 7) -> dict[str, int]:
    """`customers` assigned evenly over `days` from `assigned_from`; each orders once when
    assigned and, with its group's rate, once more 30 days later. Program customers earn 250
    points per order; every tenth redeems 500. Returns the count per group."""
    rng = random.Random(seed)
    counts = {CONTROL: 0, PROGRAM: 0}
    value = Decimal(order_value)
    members = []
    for i in range(customers):
        group = CONTROL if rng.random() < control_share else PROGRAM
        counts[group] += 1
        at = assigned_from + timedelta(days=days * i / customers)
        members.append(Member(shop_id=shop.id, customer_id=50_000 + i,
                              email=f"c{i}@example.com", referral_code=f"S{shop.id}-{i}",
                              holdout_group=group, holdout_assigned_at=at, created_at=at))
    session.add_all(members)
    session.flush()
    order_id = 1_000_000 + shop.id * 100_000
    for i, member in enumerate(members):
        group, at = member.holdout_group, member.holdout_assigned_at
        repeats = rng.random() < (control_rate if group == CONTROL else program_rate)
        for paid_at in [at] + ([at + timedelta(days=30)] if repeats else []):
            order_id += 1
            session.add(Order(shop_id=shop.id, shopify_order_id=order_id, member_id=member.id,
                              total_price=value, eligible_amount=value, status="paid",
                              paid_at=paid_at, placed_at=paid_at, created_at=paid_at,
                              points_awarded=250 if group == PROGRAM else 0))
            if group == PROGRAM:
                session.add(LedgerEntry(shop_id=shop.id, member_id=member.id, points=250,
                                        kind="earn_order", source_key=f"order:{order_id}:earn",
                                        available_at=paid_at, created_at=paid_at))
        if group == PROGRAM and i % 10 == 0:
            session.add(LedgerEntry(shop_id=shop.id, member_id=member.id, points=-500,
                                    kind="redeem", source_key=f"redeem:{member.id}",
                                    available_at=at, created_at=at + timedelta(days=31)))
    session.flush()
    return counts
