"""Benchmark 1: signed orders/paid deliveries into POST /webhooks, beside a trivial endpoint.

The same gunicorn serves both; for each concurrency the trivial endpoint runs first (the
ceiling), then issue 9's reference (the same signed bodies to a route that only checks the
HMAC and pushes the webhook id to Redis), then the webhooks. No RQ worker runs, so the
figures are the acknowledgement path alone: verify the HMAC over the ~15 KB body, one
INSERT into the inbox, commit, one RQ enqueue. Afterwards every delivery must be in the
inbox once and in the queue once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.models import WebhookEvent
from bench.cpu import system_meter
from bench.report import latency_summary, run_loadgen, table
from bench.services import (
    API_SECRET,
    DATABASE_NAME,
    WORK_SCHEMA,
    Gunicorn,
    app_environment,
    database,
    ensure_schema,
    flush_redis,
    truncate_all,
)

SHOP = "bench-ingest.myshopify.com"
# Targets from issue 9.
MIN_RATIO = 0.4
MAX_P99_MS_AT_4 = 10.0


def _measured(server: Gunicorn, spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator; add the CPU each part of the system spent, per request."""
    meter = system_meter(server.process.pid, DATABASE_NAME)
    meter.start()
    result = run_loadgen(spec)
    used = {**meter.stop(), "loadgen": result["cpu_s"]}
    done = max(1, len(result["latencies_s"]))
    result["cpu_us_per_request"] = {k: round(v / done * 1e6) for k, v in used.items()}
    return result


def _level(server: Gunicorn, concurrency: int, count: int, first: int, seconds: float,
           run: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One concurrency level: the trivial ceiling, the HMAC-and-push reference, the webhooks."""
    base = {"host": "127.0.0.1", "port": server.port, "concurrency": concurrency,
            "max_seconds": seconds}
    trivial = _measured(server, {**base, "builder": "plain_gets", "path": "/bench/trivial",
                                 "count": count})
    orders = {**base, "builder": "paid_orders", "shop": SHOP, "secret": API_SECRET,
              "first": first, "count": count, "customers": 1000, "customer_base": 7_000_000,
              "order_base": 9_000_000_000, "run": run}
    reference = _measured(server, {**orders, "path": "/bench/hmac-and-push"})
    webhooks = _measured(server, orders)
    return trivial, reference, webhooks


def _throughput(result: dict[str, Any]) -> float:
    """Completed 200s per second."""
    return result["statuses"].get("200", 0) / result["elapsed_s"] if result["elapsed_s"] else 0.0


def run(quick: bool = False, workers: int = 4, worker_class: str = "sync",
        threads: int = 1) -> dict[str, Any]:
    """Measure every concurrency level; returns the figures for the JSON result."""
    import uuid

    from redis import Redis

    url = ensure_schema(WORK_SCHEMA)
    with database(url) as db:
        truncate_all(db)
    flush_redis()
    levels = [4] if quick else [1, 2, 4, 8, 16]
    count = 300 if quick else 4000
    seconds = 10 if quick else 30
    env = app_environment(url)
    run_id = uuid.uuid4().hex[:8]
    rows, sent = [], 0
    with Gunicorn(env, workers=workers, worker_class=worker_class, threads=threads) as server:
        # Warm-up: every worker imports, connects to PostgreSQL and Redis, fills its caches.
        _level(server, 8, 200, 0, seconds, run_id + "w")
        sent += 200
        for concurrency in levels:
            trivial, reference, webhooks = _level(server, concurrency, count, sent, seconds,
                                                  run_id)
            sent += webhooks["built"]
            t_rps, w_rps = _throughput(trivial), _throughput(webhooks)
            r_rps = _throughput(reference)
            rows.append({
                "concurrency": concurrency,
                "trivial": {"requests": len(trivial["latencies_s"]), "rps": round(t_rps, 1),
                            "statuses": trivial["statuses"], "errors": trivial["errors"],
                            "cpu_us_per_request": trivial["cpu_us_per_request"],
                            **latency_summary(trivial["latencies_s"])},
                "webhook": {"requests": len(webhooks["latencies_s"]), "rps": round(w_rps, 1),
                            "statuses": webhooks["statuses"], "errors": webhooks["errors"],
                            "cpu_us_per_request": webhooks["cpu_us_per_request"],
                            **latency_summary(webhooks["latencies_s"])},
                "hmac_and_push": {"rps": round(r_rps, 1),
                                  "statuses": reference["statuses"],
                                  "cpu_us_per_request": reference["cpu_us_per_request"],
                                  **latency_summary(reference["latencies_s"])},
                "ratio": round(w_rps / t_rps, 3) if t_rps else None,
                "reference_ratio": round(r_rps / t_rps, 3) if t_rps else None,
            })
        command = server.command
    acknowledged = sum(r["webhook"]["statuses"].get("200", 0) for r in rows) + 200
    with database(url) as db, db.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(WebhookEvent)).scalar_one()
    redis = Redis.from_url(env["REDIS_URL"])
    try:
        queued = redis.llen("rq:queue:webhooks")
    finally:
        redis.close()
    at_4 = next((r for r in rows if r["concurrency"] == 4), None)
    peak_trivial = max(r["trivial"]["rps"] for r in rows)
    peak_webhook = max(r["webhook"]["rps"] for r in rows)
    targets = {
        "ratio_at_least": MIN_RATIO,
        "peak_ratio": round(peak_webhook / peak_trivial, 3) if peak_trivial else None,
        "peak_ratio_met": peak_trivial > 0 and peak_webhook / peak_trivial >= MIN_RATIO,
        "peak_reference_ratio": round(max(r["hmac_and_push"]["rps"] for r in rows)
                                      / peak_trivial, 3) if peak_trivial else None,
        "ratio_met_at_every_level": all((r["ratio"] or 0) >= MIN_RATIO for r in rows),
        "p99_ms_at_4_below": MAX_P99_MS_AT_4,
        "p99_at_4_met": bool(at_4 and at_4["webhook"]["p99_ms"] < MAX_P99_MS_AT_4),
    }
    print(table(
        ["conns", "trivial rps", "p50", "p99", "hmac+push rps", "ratio", "webhook rps", "p50",
         "p95", "p99", "ratio"],
        [[r["concurrency"], r["trivial"]["rps"], r["trivial"]["p50_ms"],
          r["trivial"]["p99_ms"], r["hmac_and_push"]["rps"], r["reference_ratio"],
          r["webhook"]["rps"], r["webhook"]["p50_ms"], r["webhook"]["p95_ms"],
          r["webhook"]["p99_ms"], r["ratio"]] for r in rows]))
    print("CPU per request, microseconds (app = gunicorn workers):")
    print(table(["conns", "endpoint", "app", "postgres", "redis", "loadgen"],
                [[r["concurrency"], kind, *(r[kind]["cpu_us_per_request"][k]
                                            for k in ("app", "postgres", "redis", "loadgen"))]
                 for r in rows for kind in ("trivial", "hmac_and_push", "webhook")]))
    print(f"acknowledged {acknowledged}, stored {stored}, queued {queued}; targets {targets}")
    return {"server": command, "rows": rows, "targets": targets,
            "check": {"acknowledged": acknowledged, "stored": stored, "queued": queued},
            "notes": "latencies in ms measured by the client over loopback; no RQ worker "
                     "running; body = the 2026-07 orders/paid sample with a distinct order "
                     "id and webhook id per delivery"}
