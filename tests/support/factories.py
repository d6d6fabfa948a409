"""Tiny model factories whose defaults are evaluated per call."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy.orm import Session

from app.loyalty.members import enrol
from app.models import Member, Shop

_seq = itertools.count(1)
T0 = datetime(2026, 11, 1, 12, 0, 0)


def make_shop(session: Session, domain: str | None = None, *, live: bool = True,
              **attrs: object) -> Shop:
    """A shop that is installed, its program launched at install unless `live=False` (a
    draft)."""
    n = next(_seq)
    values = {"name": f"Shop {n}", "currency": "USD", "installed_at": T0,
              "launched_at": T0 if live else None, **attrs}
    shop = Shop(domain=domain or f"shop-{n}.myshopify.com", **values)
    session.add(shop)
    session.flush()
    return shop


def make_member(session: Session, shop: Shop, *, customer_id: int | None = None,
                email: str | None = None, first_name: str = "Ada",
                now: datetime = T0) -> Member:
    """An enrolled member with a customer id unless told otherwise."""
    n = next(_seq)
    return enrol(session, shop, now=now, customer_id=customer_id or 1000 + n,
                 email=email or f"member{n}@example.com", first_name=first_name)
