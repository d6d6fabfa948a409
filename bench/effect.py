"""Benchmark 4c: the effect page and the cohorts at 1,000,000 members and orders, from the
daily roll-ups (app/insights/rollups.py) and, once, customer by customer as before them.

On the dashboard's seeded shop (bench/seed.py), a holdout is added in place: every member
first seen in the last 365 days is assigned when first seen, one in ten to the control group
(about 520,000 assigned, 52,000 held out). The roll-ups are rebuilt once (timed), a daily
round's upkeep is timed (rolled back, so every run starts alike), then the effect page's
default year and the three cohort tables run once cold and five times; the median of the
five is the time per page.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from app.db import utcnow
from app.insights.cohorts import cohort_tables
from app.insights.effect import measure_effect
from app.insights.rollups import refresh_rollups
from app.loyalty.program import current_settings
from app.models import InsightRollup, Shop
from bench.report import table
from bench.seed import SHOP, ensure_seeded
from bench.services import SEEDED_SCHEMA, database

REPEATS = 5
# Members first seen this many days ago or less were assigned (bench/seed.py spreads first
# visits over 700 days: member n is n % 700 days old).
HOLDOUT_DAYS = 365


def _ms(call: Callable[[], Any]) -> float:
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def _seed_holdout(db: Any, shop_id: int) -> int:
    """Assign the members first seen in the last HOLDOUT_DAYS days (once); how many are."""
    with db.engine.begin() as conn:
        assigned = conn.execute(text(
            "SELECT count(*) FROM members WHERE shop_id = :s AND holdout_group IS NOT NULL"),
            {"s": shop_id}).scalar_one()
        if assigned:
            return assigned
        # Assigned at their first visit, at a time of day of their own; one in ten held out.
        conn.execute(text(f"""
UPDATE members SET holdout_group = CASE WHEN id % 10 = 0 THEN 'control' ELSE 'program' END,
    holdout_assigned_at = created_at + make_interval(secs => (id * 7919 % 86400)::int)
WHERE shop_id = :s AND created_at >= now() AT TIME ZONE 'UTC' - interval '{HOLDOUT_DAYS} days'
"""), {"s": shop_id})
        assigned = conn.execute(text(
            "SELECT count(*) FROM members WHERE shop_id = :s AND holdout_group IS NOT NULL"),
            {"s": shop_id}).scalar_one()
    # Autovacuum would do this after the update (a fifth of the table changed): the page
    # counts the customers still in their period from the index alone once it has.
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE members"))
    return assigned


def _timed(name: str, call: Callable[[], Any], rows: list[dict[str, Any]]) -> None:
    cold = _ms(call)
    warm = [_ms(call) for _ in range(REPEATS)]
    rows.append({"figure": name, "cold_ms": round(cold, 1),
                 "median_ms": round(statistics.median(warm), 1),
                 "max_ms": round(max(warm), 1)})


def run(quick: bool = False) -> dict[str, Any]:
    """Seed the holdout, build the roll-ups, time the pages; returns the JSON result."""
    members = 20_000 if quick else 1_000_000
    seeded = ensure_seeded(members=members, orders=members,
                           schema=SEEDED_SCHEMA + ("_quick" if quick else ""))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    with database(seeded["url"]) as db:
        with db.sessions() as session:
            shop_id = session.execute(select(Shop.id).where(Shop.domain == SHOP)).scalar_one()
        assigned = _seed_holdout(db, shop_id)
        with db.transaction() as session:
            shop = session.get(Shop, shop_id)
            state = session.get(InsightRollup, shop_id)
            if state is None or state.holdout_through is None or os.environ.get(
                    "BENCH_REBUILD"):
                began = time.monotonic()
                done = refresh_rollups(session, shop, now - timedelta(minutes=5), rebuild=True)
                seconds["rebuild"] = round(time.monotonic() - began, 1)
                print(f"  rebuilt the roll-ups in {seconds['rebuild']} s: "
                      f"{done.holdout_rows} holdout rows, {done.cohort_cells} cohort cells",
                      flush=True)
        with db.sessions() as session:
            shop = session.get(Shop, shop_id)
            began = time.monotonic()
            refresh_rollups(session, shop, now)
            seconds["daily_upkeep"] = round(time.monotonic() - began, 1)
            session.rollback()
            shop = session.get(Shop, shop_id)
            settings = current_settings(session, shop_id)
            # Welch's t quantile imports scipy once per process: not the page's time.
            import scipy.stats  # noqa: F401

            first = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=365)
            _timed("effect page, last 365 days (roll-up)",
                   lambda: measure_effect(session, shop, settings, first, now, now), rows)
            _timed("cohorts, 3 segments x 12 months (roll-up)",
                   lambda: cohort_tables(session, shop, now), rows)
            effect = measure_effect(session, shop, settings, first, now, now)
            began = time.monotonic()
            by_rows = measure_effect(session, shop, settings, first, now, now, rolled_up=False)
            seconds["effect_row_by_row"] = round(time.monotonic() - began, 1)
            began = time.monotonic()
            cohort_tables(session, shop, now, rolled_up=False)
            seconds["cohorts_row_by_row"] = round(time.monotonic() - began, 1)
            same = (effect.customers, effect.program.repeaters, effect.cost.points_issued) == (
                by_rows.customers, by_rows.program.repeaters, by_rows.cost.points_issued)
        load = os.getloadavg()
    print(table(["figure", "cold ms", "median ms", "max ms"],
                [[r["figure"], r["cold_ms"], r["median_ms"], r["max_ms"]] for r in rows]))
    print(f"  seconds: {seconds}; customers compared {effect.customers:,} "
          f"(same as row by row: {same}); load average {load[0]:.1f}", flush=True)
    return {"dataset": {k: v for k, v in seeded.items() if k != "url"} | {
                "holdout_assigned": assigned},
            "rows": rows, "seconds": seconds, "customers_compared": effect.customers,
            "rollup_equals_row_by_row": same, "load_average_1m": round(load[0], 2),
            "notes": "in-process SQLAlchemy session; the roll-ups' upkeep is one daily "
                     "round's (rolled back); row by row is the computation before them"}
