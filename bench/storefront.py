"""Benchmark 3: GET /proxy/member, the widget's one call, with 1,000,000 members and
10,000,000 ledger entries (bench/seed.py).

Each request is signed as Shopify's app proxy signs it, for a random logged-in shopper.
Server time is gunicorn's own request time (%(D)s in its access log); the client's latency
over loopback is reported beside it. GET /proxy/program (no member) is measured too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.report import latency_summary, run_loadgen, table
from bench.seed import CUSTOMER_BASE, SHOP, ensure_seeded
from bench.services import API_SECRET, SEEDED_SCHEMA, Gunicorn, app_environment
from bench.statements import counting

TARGET_P95_MS = 10.0


def _server_times(log: Path, start_line: int, path: str) -> tuple[list[float], int]:
    """Server seconds of `path` requests logged after start_line; and the next start line."""
    lines = log.read_text().splitlines()
    times = []
    for line in lines[start_line:]:
        method, url, status, micros = line.split()
        if url == path and status == "200":
            times.append(int(micros) / 1e6)
    return times, len(lines)


def count_statements(url: str, members: int) -> dict[str, Any]:
    """Statements one GET /proxy/member sends, in this process through the Flask app: the
    shop's first read, then the next shopper's while the shop's program is cached."""
    import time
    from urllib.parse import urlencode

    from app import create_app
    from bench.loadgen import proxy_signature
    from bench.services import API_KEY, BENCH_REDIS_URL

    app = create_app({"database_url": url, "redis_url": BENCH_REDIS_URL, "env": "bench",
                      "shopify_api_key": API_KEY, "shopify_api_secret": API_SECRET})
    client = app.test_client()
    runtime = app.extensions["runtime"]
    found: dict[str, Any] = {}
    for n, customer in enumerate((1, members // 2, members)):
        params = [("shop", SHOP), ("logged_in_customer_id", str(CUSTOMER_BASE + customer)),
                  ("path_prefix", "/apps/loyalty"), ("timestamp", str(int(time.time())))]
        params.append(("signature", proxy_signature(params, API_SECRET)))
        with counting(runtime.db.engine) as statements:
            response = client.get(f"/proxy/member?{urlencode(params)}")
        if n == 0:
            found = {"status": response.status_code, "statements": len(statements),
                     "list": statements}
        elif n == 1:
            # The shop's program is reused for storefront_cache_seconds after the first read.
            found["warm_statements"] = len(statements)
            found["warm_list"] = statements
    runtime.db.dispose()
    return found


def run(quick: bool = False, workers: int = 4, worker_class: str = "sync",
        threads: int = 1) -> dict[str, Any]:
    """Seed if needed, then read member views at several concurrencies."""
    members = 20_000 if quick else 1_000_000
    seeded = ensure_seeded(members=members, orders=members,
                           schema=SEEDED_SCHEMA + ("_quick" if quick else ""))
    count = 300 if quick else 4000
    log = Path(tempfile.mkdtemp(prefix="bench-access-")) / "access.log"
    rows = []
    with Gunicorn(app_environment(seeded["url"]), workers=workers, worker_class=worker_class,
                  threads=threads, access_log=log) as server:
        base = {"host": "127.0.0.1", "port": server.port, "max_seconds": 60,
                "builder": "proxy_reads", "shop": SHOP, "secret": API_SECRET,
                "customers": members, "customer_base": CUSTOMER_BASE}
        run_loadgen({**base, "path": "member", "concurrency": 4, "count": 300, "seed": 1})
        line = 0
        _, line = _server_times(log, 0, "")
        for path, concurrency in (("member", 1), ("member", 4), ("member", 8), ("program", 4)):
            result = run_loadgen({**base, "path": path, "concurrency": concurrency,
                                  "count": count, "seed": concurrency})
            server_s, line = _server_times(log, line, f"/proxy/{path}")
            rps = len(result["latencies_s"]) / result["elapsed_s"] if result["elapsed_s"] else 0
            rows.append({"path": f"/proxy/{path}", "concurrency": concurrency,
                         "requests": len(result["latencies_s"]), "statuses": result["statuses"],
                         "rps": round(rps, 1),
                         "client": latency_summary(result["latencies_s"]),
                         "server": latency_summary(server_s)})
        command = server.command
    statements = count_statements(seeded["url"], members)
    member_4 = next(r for r in rows if r["path"] == "/proxy/member" and r["concurrency"] == 4)
    targets = {"server_p95_ms_below": TARGET_P95_MS,
               "met_at_4": member_4["server"]["p95_ms"] < TARGET_P95_MS}
    print(table(["path", "conns", "rps", "server p50", "p95", "p99", "client p50", "p95",
                 "statuses"],
                [[r["path"], r["concurrency"], r["rps"], r["server"]["p50_ms"],
                  r["server"]["p95_ms"], r["server"]["p99_ms"], r["client"]["p50_ms"],
                  r["client"]["p95_ms"], r["statuses"]] for r in rows]))
    print(f"statements per GET /proxy/member: {statements['statements']} for a shop's first "
          f"read, {statements['warm_statements']} while its program is cached")
    print(f"dataset: {seeded['members']:,} members, {seeded['ledger']:,} ledger entries, "
          f"{seeded['orders']:,} orders; targets {targets}")
    return {"server": command, "dataset": {k: v for k, v in seeded.items() if k != "url"},
            "rows": rows, "targets": targets, "statements_per_request": statements}
