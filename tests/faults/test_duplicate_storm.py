"""Issue 9, case 9: every delivery three times, shuffled, over HTTP, applied by two RQ workers
racing each other; a refund that arrives before its order. Final balances are exact."""

from __future__ import annotations

import random
import uuid
from collections import Counter

from app.config import load_settings
from tests.faults.conftest import (
    all_processed,
    cancelled,
    customer_created,
    events,
    ledger_kinds,
    member_points,
    paid_order,
    refund_of,
)

ADA, BOB, CY, DEE = 71001, 71002, 71003, 71004


def _burst(workers, db, redis_url, count: int = 2) -> None:
    """Start `count` burst workers together, then finish what their races left behind.

    Two workers racing on copies of one order can collide on a unique key; the loser's job is
    rolled back and scheduled by RQ for a retry a second later, which a burst worker without
    a scheduler never runs. In production a scheduling worker or the inbox sweep runs it;
    here the leftovers are run as that retry would run them.
    """
    from sqlalchemy import select

    from app.models import WebhookEvent
    from app.pipeline.jobs import process_event
    from app.pipeline.runtime import build_runtime

    started = [workers(db.url, redis_url, burst=True, scheduler=False) for _ in range(count)]
    for worker in started:
        assert worker.wait(timeout=120) == 0
    rt = build_runtime(load_settings(overrides={"database_url": db.url,
                                                "redis_url": redis_url}), db)
    with db.sessions() as session:
        left = session.execute(select(WebhookEvent.id).where(
            WebhookEvent.processed_at.is_(None))).scalars().all()
    for event_id in left:
        process_event(rt, event_id)


def test_a_shuffled_storm_of_triplicate_deliveries_leaves_every_balance_exact(
        served, shop_installed, redis_url, workers):
    db = shop_installed
    _, deliveries = served
    # 5 points per unit of goods (shipping excluded), Bronze 1x, 250 for joining.
    ada_1 = paid_order(810001, ADA, ["20.00", "20.00"])      # 200
    ada_2 = paid_order(810002, ADA, ["30.00"])               # 150
    bob_3 = paid_order(810003, BOB, ["20.00", "20.00"])      # 200
    cy_5 = paid_order(810005, CY, ["40.00"])                 # 200, cancelled
    cy_6 = paid_order(810006, CY, ["10.00"])                 # 50
    dee_7 = paid_order(810007, DEE, ["15.00"])               # 75
    dee_8 = paid_order(810008, DEE, ["25.00"])               # 125, refunded in full

    # Bob's refund arrives, and is applied, before Shopify tells us his order was paid.
    early = ("refunds/create", refund_of(bob_3, 1, refund_id=910003), "early-refund-bob")
    assert deliveries.post_many([early] * 3) == [200, 200, 200]
    _burst(workers, db, redis_url, count=1)
    assert ledger_kinds(db, BOB) == []

    dee_refund = refund_of(dee_8, 0, refund_id=910008)
    storm = [
        ("customers/create", customer_created(ADA), "ada-joins"),
        ("orders/paid", ada_1, "ada-1-paid"),
        ("orders/paid", ada_2, "ada-2-paid"),
        # The same event through a second subscription: another webhook id, same order.
        ("orders/paid", ada_2, "ada-2-paid-again"),
        ("refunds/create", refund_of(ada_1, 0, refund_id=910001), "ada-1-refund"),
        ("customers/create", customer_created(BOB), "bob-joins"),
        ("orders/paid", bob_3, "bob-3-paid"),
        ("customers/create", customer_created(CY), "cy-joins"),
        ("orders/paid", cy_5, "cy-5-paid"),
        ("orders/cancelled", cancelled(cy_5), "cy-5-cancelled"),
        ("orders/paid", cy_6, "cy-6-paid"),
        ("orders/paid", dee_7, "dee-7-paid"),
        ("orders/paid", dee_8, "dee-8-paid"),
        ("refunds/create", dee_refund, "dee-8-refund"),
        ("refunds/create", dee_refund, "dee-8-refund-again"),
    ]
    storm = [(topic, payload, f"{webhook_id}-{uuid.uuid4().hex[:6]}")
             for topic, payload, webhook_id in storm]
    triplicate = storm * 3
    random.Random(9).shuffle(triplicate)
    assert deliveries.post_many(triplicate, threads=8) == [200] * len(triplicate)
    _burst(workers, db, redis_url, count=2)

    assert all_processed(db)
    rows = events(db)
    # Stored once per webhook id, each applied by exactly one successful run.
    assert len(rows) == len(storm) + 1
    assert Counter((e.outcome, e.attempts) for e in rows) == {("processed", 1): len(rows)}

    assert member_points(db, ADA) == (250, 200 + 150 - 100, 250 + 200 + 150 - 100)
    assert member_points(db, BOB) == (250, 200 - 100, 250 + 200 - 100)
    assert member_points(db, CY) == (250, 50, 250 + 50)
    assert member_points(db, DEE) == (0, 75, 75)
    assert Counter(ledger_kinds(db, ADA)) == Counter({
        ("bonus_signup", 250): 1, ("earn_order", 200): 1, ("earn_order", 150): 1,
        ("refund_reversal", -100): 1})
    assert Counter(ledger_kinds(db, DEE)) == Counter({
        ("earn_order", 75): 1, ("earn_order", 125): 1, ("refund_reversal", -125): 1})
