"""100,000 past orders backfilled through the emulator's bulk operation, on PostgreSQL:
every order recorded once, every member's tier from their spend, the ledger equal to the
members' cached balances. BACKFILL_SCALE_ORDERS changes the count."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select, text

from app.db import utcnow
from app.loyalty.backfill import request_backfill
from app.models import Backfill, Member, Order, Shop
from app.pipeline.backfill import advance_backfill
from tests.integration.backfill.conftest import SHOP, History, install

ORDERS = int(os.environ.get("BACKFILL_SCALE_ORDERS", "100000"))

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]


def test_a_hundred_thousand_orders_are_backfilled_once_with_tiers_and_exact_balances(
        db, emulator):
    emulator.add_shop(SHOP, currency="USD")
    emulator.add_order_history(SHOP, ORDERS, days=365, customers=ORDERS // 5)
    history = History(install(db, emulator), db, emulator, utcnow())
    with db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        backfill_id = request_backfill(session, shop, mode="points", window_days=365,
                                       points_days=90, now=utcnow(), actor=None).id

    started = time.perf_counter()
    outcome = advance_backfill(history.runtime, backfill_id, poll_seconds=0.5,
                               slice_seconds=3600)
    elapsed = time.perf_counter() - started

    assert outcome.startswith("completed"), outcome
    expected = history.recorded()
    with db.sessions() as session:
        done = session.get(Backfill, backfill_id)
        assert done.orders_recorded == len(expected) == session.execute(
            select(func.count(Order.id))).scalar_one()
        assert done.points_awarded == sum(history.expected_points(90).values())
        tiers = {(("customer", m.customer_id) if m.customer_id else ("guest", m.email)): m.tier
                 for m in session.execute(select(Member)).scalars()}
        assert tiers == history.expected_tiers()
        # The members' cached balances are the ledger's sums (one query for all of them).
        mismatched = session.execute(text("""
            SELECT count(*) FROM members m LEFT JOIN (
              SELECT member_id, sum(points) AS total FROM ledger_entries GROUP BY member_id
            ) l ON l.member_id = m.id
            WHERE m.points_available + m.points_pending <> coalesce(l.total, 0)""")).scalar_one()
        assert mismatched == 0
    print(f"\n{ORDERS:,} orders backfilled in {elapsed:.1f} s ({ORDERS / elapsed:,.0f}/s)")
