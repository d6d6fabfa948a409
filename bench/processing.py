"""Benchmark 2: events per second from the inbox to the ledger, with 1, 2 and 4 RQ workers.

For each run the inbox is filled through the real ingest path (gunicorn, signed orders/paid
deliveries, half of them from returning customers), then `count` burst workers start together
and drain the queue. Two rates are reported: wall (from starting the workers until the last
one exits, process start-up included) and steady (between the first and the last event's
processed_at). Three ways of running the workers are compared: RQ's default worker as the
README runs it (a forked work horse per job), the same with the app imported before it forks
(`-c bench.rq_preload`), and RQ's SimpleWorker (no fork).

The per-event database statements are counted in this process with SQLAlchemy's cursor
events, for an order from a new customer and one from a returning customer.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from app.db import utcnow
from app.models import LedgerEntry, Shop, WebhookEvent
from bench.cpu import system_meter
from bench.report import run_loadgen, table
from bench.services import (
    API_SECRET,
    BENCH_REDIS_URL,
    DATABASE_NAME,
    WORK_SCHEMA,
    Gunicorn,
    RQWorkers,
    app_environment,
    database,
    ensure_schema,
    flush_redis,
    truncate_all,
)
from bench.statements import counting

SHOP = "bench-processing.myshopify.com"
VARIANTS: dict[str, dict[str, Any]] = {
    "fork per job (rq default)": {"worker_class": "app.pipeline.rq_worker.ForkingWorker"},
    "fork, app preloaded": {"worker_class": "app.pipeline.rq_worker.ForkingWorker",
                            "config": "bench.rq_preload"},
    "SimpleWorker (README)": {"worker_class": "app.pipeline.rq_worker.Worker"},
}


def _install_shop(url: str) -> None:
    """An empty inbox and ledger, and one installed shop."""
    with database(url) as db:
        truncate_all(db)
        with db.transaction() as session:
            # A live program: a draft's orders would earn nothing and measure less work.
            session.add(Shop(domain=SHOP, name="Bench", currency="USD",
                             installed_at=utcnow() - timedelta(days=1),
                             launched_at=utcnow() - timedelta(days=1)))
    flush_redis()


def _fill_inbox(server: Gunicorn, count: int) -> None:
    """`count` signed orders/paid through POST /webhooks; half the customers come twice."""
    result = run_loadgen({
        "host": "127.0.0.1", "port": server.port, "concurrency": 8, "max_seconds": 300,
        "builder": "paid_orders", "shop": SHOP, "secret": API_SECRET, "first": 0,
        "count": count, "customers": max(1, count // 2), "customer_base": 5_000_000,
        "order_base": 8_000_000_000, "run": uuid.uuid4().hex[:8]})
    if result["statuses"] != {"200": count}:
        raise RuntimeError(f"ingest failed while filling the inbox: {result['statuses']}")


def _drain(url: str, env: dict[str, str], workers: int, variant: dict[str, Any]
           ) -> dict[str, Any]:
    """Start `workers` burst workers together; time them until the inbox is applied."""
    import resource

    pool = RQWorkers(env, workers, burst=True, **variant)
    meter = system_meter(None, DATABASE_NAME)
    meter.start()
    # The workers and their work horses are our children: once waited for, their CPU is
    # exact in RUSAGE_CHILDREN, however short-lived the horses were.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    pool.start()
    pool.wait(timeout=1800)
    wall = time.monotonic() - began
    used = meter.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["workers"] = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    with database(url) as db, db.sessions() as session:
        outcomes = Counter(dict(session.execute(
            select(WebhookEvent.outcome, func.count()).group_by(WebhookEvent.outcome)).all()))
        first, last, applied = session.execute(select(
            func.min(WebhookEvent.processed_at), func.max(WebhookEvent.processed_at),
            func.count(WebhookEvent.processed_at))).one()
        entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    span = (last - first).total_seconds() if first and last else 0.0
    return {"events": applied, "outcomes": dict(outcomes), "ledger_entries": entries,
            "wall_s": round(wall, 2), "events_per_s_wall": round(applied / wall, 1),
            "events_per_s_steady": round((applied - 1) / span, 1) if span else None,
            "cpu_ms_per_event": {k: round(v / max(applied, 1) * 1000, 2)
                                 for k, v in used.items()},
            "command": pool.command}


def count_statements(url: str) -> dict[str, Any]:
    """Statements one orders/paid costs in process_event: a new and a returning customer."""

    from app.config import load_settings
    from app.pipeline.inbox import store_delivery
    from app.pipeline.jobs import process_event
    from app.pipeline.runtime import build_runtime
    from app.shopify.webhooks import WebhookDelivery
    from devstore.payloads import order_payload

    _install_shop(url)
    with database(url) as db:
        settings = load_settings(overrides={"database_url": url, "redis_url": BENCH_REDIS_URL})
        rt = build_runtime(settings, db)
        counted: dict[str, Any] = {}
        for label, order_id in (("new customer", 1), ("returning customer", 2)):
            now = utcnow().isoformat() + "Z"
            body = json.dumps(order_payload("orders/paid", order_id=order_id, customer_id=4242,
                                            test=False, updated_at=now))
            with db.engine.begin() as conn:
                stored = store_delivery(conn, WebhookDelivery(
                    uuid.uuid4().hex, "orders/paid", SHOP, "2026-07", None, body), utcnow())
            with counting(db.engine) as statements:
                outcome = process_event(rt, stored.event_id)
            counted[label] = {"outcome": outcome, "statements": len(statements),
                              "list": statements}
    flush_redis()
    return counted


def run(quick: bool = False) -> dict[str, Any]:
    """Every variant with 1, 2 and 4 workers; returns the figures for the JSON result."""
    url = ensure_schema(WORK_SCHEMA)
    env = app_environment(url)
    rows = []
    with Gunicorn(env, workers=4) as server:
        for name, variant in VARIANTS.items():
            # The forking default imports the app per job: fewer events keep it bounded.
            count = {"fork per job (rq default)": 20 if quick else 80,
                     "fork, app preloaded": 40 if quick else 240}.get(name, 100 if quick else 2000)
            for workers in (1, 2, 4):
                _install_shop(url)
                _fill_inbox(server, count)
                drained = _drain(url, env, workers, variant)
                rows.append({"variant": name, "workers": workers, **drained})
                print(f"  {name}, {workers} worker(s): {drained['events_per_s_steady']} "
                      "events/s steady", flush=True)
        server_command = server.command
    statements = count_statements(url)
    print(table(["worker", "n", "events", "wall s", "ev/s wall", "ev/s steady", "worker ms/ev",
                 "pg ms/ev"],
                [[r["variant"], r["workers"], r["events"], r["wall_s"], r["events_per_s_wall"],
                  r["events_per_s_steady"], r["cpu_ms_per_event"].get("workers"),
                  r["cpu_ms_per_event"].get("postgres")] for r in rows]))
    for label, counted in statements.items():
        print(f"statements per orders/paid, {label}: {counted['statements']} "
              f"({counted['outcome']})")
    return {"server": server_command, "rows": rows, "statements_per_event": statements,
            "notes": "orders/paid only; the metafield follow-up jobs go to the default queue, "
                     "which these workers do not serve"}
