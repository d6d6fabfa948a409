"""Benchmark: the order history backfill of 100,000 orders through the emulator's bulk query.

The emulator (in this process, over HTTP on 127.0.0.1) holds the orders and writes the JSONL
file as Shopify would; the app's own job code starts the bulk operation, polls it, streams the
file and applies it in batches to PostgreSQL (schema `backfill_work` of BENCH_DATABASE_URL),
then sets every member's tier. Reported: the time Shopify's side took (request to COMPLETED,
from the operation's own times, whole seconds), the rest (the app streaming and applying the
file and setting tiers), orders per second of each, the file's size, and what was recorded.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from app.config import load_settings
from app.db import utcnow
from app.loyalty.backfill import request_backfill
from app.models import Backfill, LedgerEntry, Member, Order
from app.pipeline import backfill as backfill_run
from app.pipeline.runtime import build_runtime
from app.shopify.tokens import TokenGrant, cipher_for, store_grant
from bench.report import table
from bench.services import database, ensure_schema, truncate_all
from devstore import ShopifyEmulator

WORK_SCHEMA = "backfill_work"
SHOP = "bench-history.myshopify.com"
API_KEY, API_SECRET = "bench-backfill-key", "bench-backfill-secret"
SCOPES = "read_orders,read_all_orders,read_customers,write_customers"


def _naive(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None) if epoch else None


def run(quick: bool = False) -> dict[str, Any]:
    """Backfill 100,000 orders (2,000 with --quick) by 20,000 customers (300)."""
    orders, customers = (2_000, 300) if quick else (100_000, 20_000)
    url = ensure_schema(WORK_SCHEMA)
    with database(url) as db, ShopifyEmulator(API_KEY, API_SECRET,
                                              app_url="http://127.0.0.1:9") as emulator:
        truncate_all(db)
        emulator.add_shop(SHOP)
        seeded = time.perf_counter()
        emulator.add_order_history(SHOP, orders, days=365, customers=customers)
        seed_s = time.perf_counter() - seeded
        issued = emulator.issue_access_token(SHOP, scope=SCOPES)
        settings = load_settings({}, {"database_url": url, "shopify_api_key": API_KEY,
                                      "shopify_api_secret": API_SECRET, "env": "test",
                                      "shopify_admin_base": emulator.base_url})
        rt = build_runtime(settings, db)
        with db.transaction() as session:
            shop, _ = store_grant(session, SHOP, TokenGrant(
                access_token=issued.access_token, scope=issued.scope,
                expires_at=_naive(issued.expires_at), refresh_token=issued.refresh_token,
                refresh_token_expires_at=_naive(issued.refresh_expires_at)), utcnow(),
                cipher_for(settings))
            shop.launched_at = utcnow()
            backfill_id = request_backfill(session, shop, mode="points", window_days=365,
                                           points_days=90, now=utcnow(), actor="bench").id
        started = time.perf_counter()
        outcome = backfill_run.advance_backfill(rt, backfill_id, poll_seconds=0.2,
                                                slice_seconds=3600)
        total_s = time.perf_counter() - started
        operation = next(iter(emulator.shop(SHOP).bulk_operations.values()))
        # Shopify's side, from the operation's own times (whole seconds): the emulator builds
        # the file in this process, so its time is measured apart from the app's.
        shopify_s = (datetime.fromisoformat(operation.completed_at.replace("Z", "+00:00"))
                     - datetime.fromisoformat(operation.created_at.replace("Z", "+00:00"))
                     ).total_seconds() if operation.completed_at else 0.0
        apply_s = total_s - shopify_s
        with db.sessions() as session:
            done = session.get(Backfill, backfill_id)
            counts = {
                "orders_recorded": done.orders_recorded, "orders_skipped": done.orders_skipped,
                "points_awarded": done.points_awarded, "tier_changes": done.tier_changes,
                "members": session.execute(select(func.count(Member.id))).scalar_one(),
                "order_rows": session.execute(select(func.count(Order.id))).scalar_one(),
                "ledger_rows": session.execute(select(func.count(LedgerEntry.id))).scalar_one(),
                "jsonl_lines": done.lines_applied,
            }
    result = {
        "orders": orders, "customers": customers, "outcome": outcome, "seed_s": seed_s,
        "total_s": total_s, "orders_per_s": orders / total_s, "shopify_s": shopify_s,
        "apply_s": apply_s, "apply_orders_per_s": orders / apply_s,
        "jsonl_bytes": operation.file_size,
        **counts,
    }
    print(table(["orders", "total s", "orders/s", "Shopify s", "app s", "app orders/s",
                 "JSONL MB", "recorded", "points", "tiers"],
                [[orders, f"{total_s:.1f}", f"{orders / total_s:,.0f}", f"{shopify_s:.0f}",
                  f"{apply_s:.1f}", f"{orders / apply_s:,.0f}",
                  f"{(operation.file_size or 0) / 1e6:.1f}", counts["orders_recorded"],
                  counts["points_awarded"], counts["tier_changes"]]]))
    print(outcome)
    return result
