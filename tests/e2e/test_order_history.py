"""The order history backfill end to end: the merchant's request over HTTP, the job on a real
RQ worker and Redis, the bulk operation and its JSONL file in the emulator over HTTP; then
Shopify's late orders/paid of a backfilled order counts nothing twice while a new order
earns."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from app.models import LedgerEntry, Order
from tests.e2e.conftest import SHOP


def _install(running) -> None:
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        browser.get(f"{running.url}/auth/install", params={"shop": SHOP})
    running.launch_program()


def _fetch(running, path: str, body: dict | None = None) -> httpx.Response:
    token = running.emulator.mint_admin_session_token(SHOP)
    return httpx.post(f"{running.url}{path}", json=body, timeout=30,
                      headers={"Authorization": f"Bearer {token}"})


def test_the_backfill_runs_on_a_worker_and_a_late_webhook_counts_nothing_twice(
        serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    ids = emulator.add_order_history(SHOP, 400, days=300, customers=60)
    running = serve_app(redis_url=redis_url)
    _install(running)

    started = _fetch(running, "/admin/history",
                     {"window_days": "365", "mode": "points", "points_days": "120"})
    assert started.status_code == 202
    running.work()

    done = _fetch(running, "/admin/history/progress").json()["backfill"]
    assert (done["status"], done["finished"]) == ("completed", True)
    assert done["orders_recorded"] > 300 and done["points_awarded"] > 0
    with running.db.sessions() as session:
        recorded = set(session.execute(select(Order.shopify_order_id)).scalars())
    assert len(recorded) == done["orders_recorded"]

    # Shopify delivers orders/paid again for the newest backfilled order, and a new order.
    late = next(i for i in reversed(ids) if i in recorded
                and emulator.shop(SHOP).orders[i]["financial_status"] == "paid"
                and emulator.shop(SHOP).orders[i]["customer"])
    source = emulator.shop(SHOP).orders[late]
    with running.db.sessions() as session:
        backfilled = session.execute(select(LedgerEntry.points).where(
            LedgerEntry.order_id == late)).scalars().all()
    assert len(backfilled) == 1  # paid within the 120 days of points
    for order_id in (late, 987_654):
        emulator.send_webhook(SHOP, "orders/paid", emulator.sample_payload(
            "orders/paid", shop=SHOP, order_id=order_id, customer_id=source["customer"]["id"],
            email=source["email"], test=False))
    running.work()
    with running.db.sessions() as session:
        earned = dict(session.execute(select(LedgerEntry.order_id, func.count(LedgerEntry.id))
                                      .group_by(LedgerEntry.order_id)).all())
    assert (earned[late], earned[987_654]) == (1, 1)
