"""Benchmark 4b: the dashboard's queries (app/loyalty/analytics.py) at 1,000,000 orders.

Each figure's function runs against the seeded shop (bench/seed.py: 1,000,000 orders over
400 days, 10,000,000 ledger entries, 1,000,000 members) for the last 30, 90 and 365 days:
once cold, then five times; the median of the five is the time per query.

First the shop's daily roll-up (app/loyalty/rollup.py) is built from its whole history, as
`flask rebuild-rollups` does, then refreshed as the daily round does; both are timed. The
figures then read the closed days from it and today live; each `*_live` row is the same
figure from the rows alone, for comparison.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.db import utcnow
from app.loyalty import analytics, rollup
from app.loyalty.program import current_settings
from app.models import Shop
from bench.report import table
from bench.seed import SHOP, ensure_seeded
from bench.services import SEEDED_SCHEMA, database

PERIODS = (30, 90, 365)
REPEATS = 5


def _figures(session: Any, shop: Shop, settings: Any, period: analytics.Period
             ) -> dict[str, Callable[[], Any]]:
    """Each dashboard figure as a call: every public function of analytics that takes
    (session, shop_id, period), then shop_dashboard with all of them."""
    figures: dict[str, Callable[[], Any]] = {}
    for name, function in sorted(vars(analytics).items()):
        if (name.startswith("_") or not inspect.isfunction(function)
                or function.__module__ != analytics.__name__):
            continue
        parameters = list(inspect.signature(function).parameters.values())
        if [p.name for p in parameters[:3]] == ["session", "shop_id", "period"] and all(
                p.default is not inspect.Parameter.empty for p in parameters[3:]):
            figures[name] = lambda function=function: function(session, shop.id, period)
    figures["shop_dashboard (all)"] = lambda: analytics.shop_dashboard(session, shop, settings,
                                                                       period)
    return figures


def _ms(call: Callable[[], Any]) -> float:
    """Milliseconds one call takes."""
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def _build_rollup(db: Any) -> dict[str, Any]:
    """Build the seeded shop's roll-up from scratch, then refresh it as the next daily round
    would; the seconds and days of each."""
    now = utcnow()
    figures: dict[str, Any] = {}
    for name, full in (("build", True), ("refresh", False)):
        began = time.perf_counter()
        with db.transaction() as session:
            shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
            figures[f"{name}_days"] = rollup.refresh(session, shop, now, full=full)
        figures[f"{name}_s"] = round(time.perf_counter() - began, 1)
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    """Time every figure for every period; returns the figures for the JSON result."""
    members = 20_000 if quick else 1_000_000
    seeded = ensure_seeded(members=members, orders=members,
                           schema=SEEDED_SCHEMA + ("_quick" if quick else ""))
    rows = []
    with database(seeded["url"]) as db:
        built = _build_rollup(db)
    with database(seeded["url"]) as db, db.sessions() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        settings = current_settings(session, shop.id)
        for days in PERIODS:
            period = analytics.period_ending(utcnow(), days, shop.timezone)
            for name, call in _figures(session, shop, settings, period).items():
                cold = _ms(call)
                warm = [_ms(call) for _ in range(REPEATS)]
                rows.append({"figure": name, "days": days, "cold_ms": round(cold, 1),
                             "median_ms": round(statistics.median(warm), 1),
                             "max_ms": round(max(warm), 1)})
            session.rollback()
    print(table(["figure", "days", "cold ms", "median ms", "max ms"],
                [[r["figure"], r["days"], r["cold_ms"], r["median_ms"], r["max_ms"]]
                 for r in rows]))
    print(table(["roll-up", "seconds", "days"],
                [["full build", built["build_s"], built["build_days"]],
                 ["daily refresh", built["refresh_s"], built["refresh_days"]]]))
    return {"dataset": {k: v for k, v in seeded.items() if k != "url"}, "rows": rows,
            "rollup": built,
            "notes": "in-process SQLAlchemy session; the indexes are the migrations' "
                     "(0005 holds the dashboard's index plan)"}
