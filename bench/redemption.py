"""Benchmark 4a: POST /proxy/redeem at scale and under contention, on the large dataset.

The app (gunicorn, development mode: production refuses the emulator) issues every discount
through the Admin GraphQL API of the local Shopify emulator, which runs in this process on a
Plus plan's rate limits. Two measurements:

- contention: ten concurrent redemptions of the 500-point reward by one shopper; exactly
  available // 500 of them may succeed, the rest get 409 insufficient_points;
- throughput: one redemption each for many shoppers, eight at a time.

Afterwards the shoppers' cached balances must equal their ledgers, and Shopify must hold
exactly one discount per issued redemption.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from app.db import utcnow
from app.loyalty.ledger import ledger_balances
from app.models import Member, Redemption, Reward
from bench.report import latency_summary, run_loadgen, table
from bench.seed import SHOP, ensure_seeded
from bench.services import (
    API_KEY,
    API_SECRET,
    SEEDED_SCHEMA,
    Gunicorn,
    app_environment,
    database,
)
from devstore import ShopifyEmulator

# Scopes the discount issuer needs, as in tests/e2e/test_redeem_through_emulator.py.
SCOPES = ("read_orders,read_customers,write_customers,write_discounts,write_app_proxy,"
          "write_store_credit_account_transactions,read_store_credit_accounts")


def _naive(epoch: float | None) -> datetime | None:
    """An emulator timestamp as naive UTC."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None) if epoch else None


def _install(url: str, emulator: ShopifyEmulator, admin_base: str) -> tuple[int, int]:
    """Store the emulator's token for the seeded shop; (shop id, id of the 500-point reward)."""
    from app.config import load_settings
    from app.shopify.tokens import TokenGrant, cipher_for, store_grant

    emulator.add_shop(SHOP, plan="Plus")
    issued = emulator.issue_access_token(SHOP, scope=SCOPES)
    settings = load_settings(environ={}, overrides={"database_url": url,
                                                    "shopify_admin_base": admin_base})
    grant = TokenGrant(access_token=issued.access_token, scope=issued.scope,
                       expires_at=_naive(issued.expires_at), refresh_token=issued.refresh_token,
                       refresh_token_expires_at=_naive(issued.refresh_expires_at))
    with database(url) as db, db.transaction() as session:
        shop, _ = store_grant(session, SHOP, grant, utcnow(), cipher_for(settings))
        reward_id = session.execute(select(Reward.id).where(
            Reward.shop_id == shop.id, Reward.cost == 500,
            Reward.kind == "amount_off")).scalar_one()
        return shop.id, reward_id


def _shoppers(url: str, shop_id: int, count: int, offset: int) -> list[tuple[int, int]]:
    """(member id, customer id) of `count` members with at least 500 points available."""
    with database(url) as db, db.sessions() as session:
        return [tuple(row) for row in session.execute(
            select(Member.id, Member.customer_id)
            .where(Member.shop_id == shop_id, Member.points_available >= 500,
                   Member.id % 997 == offset % 997)
            .order_by(Member.id).limit(count))]


def _check(url: str, member_ids: list[int], run: str, emulator: ShopifyEmulator
           ) -> dict[str, Any]:
    """Issued redemptions of this run, Shopify's discounts, and every balance against its ledger."""
    now = utcnow()
    with database(url) as db, db.sessions() as session:
        statuses = Counter(dict(session.execute(
            select(Redemption.status, func.count())
            .where(Redemption.request_key.like(f"bench-{run}-%"))
            .group_by(Redemption.status)).all()))
        mismatched = 0
        for member in session.execute(select(Member).where(
                Member.id.in_(member_ids))).scalars():
            sums = ledger_balances(session, member.id, now)
            if (member.points_available, member.points_pending) != (sums.available,
                                                                      sums.pending):
                mismatched += 1
    codes = set(emulator.shop(SHOP).discounts)
    return {"redemptions": dict(statuses), "shopify_discounts": len(codes),
            "balances_differing_from_ledger": mismatched}


def run(quick: bool = False, workers: int = 4, worker_class: str = "sync",
        threads: int = 1) -> dict[str, Any]:
    """Contention on one shopper, then throughput over many; returns the figures."""
    members = 20_000 if quick else 1_000_000
    seeded = ensure_seeded(members=members, orders=members,
                           schema=SEEDED_SCHEMA + ("_quick" if quick else ""))
    url = seeded["url"]
    run_id = uuid.uuid4().hex[:8]
    emulator = ShopifyEmulator(API_KEY, API_SECRET, app_url="http://127.0.0.1:1")
    admin_base = emulator.start()
    try:
        shop_id, reward_id = _install(url, emulator, admin_base)
        offset = int(run_id, 16)
        many = _shoppers(url, shop_id, 100 if quick else 1000, offset)
        one = _shoppers(url, shop_id, 1, offset + 1)[0]
        for _, customer_id in [*many, one]:
            emulator.shop(SHOP).add_customer(customer_id, email=f"c{customer_id}@example.com")
        with database(url) as db, db.sessions() as session:
            available = session.get(Member, one[0]).points_available
        env = app_environment(url, APP_ENV="development", SHOPIFY_ADMIN_BASE=admin_base)
        with Gunicorn(env, workers=workers, worker_class=worker_class,
                      threads=threads) as server:
            emulator.app_url = server.url
            base = {"host": "127.0.0.1", "port": server.port, "max_seconds": 300,
                    "builder": "proxy_redeems", "shop": SHOP, "secret": API_SECRET,
                    "reward_id": reward_id, "run": run_id}
            contention = run_loadgen({**base, "customer_ids": [one[1]], "count": 10,
                                      "concurrency": 10})
            spread = run_loadgen({**base, "run": run_id + "s",
                                  "customer_ids": [c for _, c in many],
                                  "count": len(many), "concurrency": 8})
            command = server.command
        check = _check(url, [m for m, _ in many] + [one[0]], run_id, emulator)
        check_spread = _check(url, [m for m, _ in many], run_id + "s", emulator)
    finally:
        emulator.stop()
    expected_wins = min(10, available // 500)
    rows = [
        {"case": "one shopper, 10 at once", "requests": 10, "statuses": contention["statuses"],
         "expected_issued": expected_wins, **latency_summary(contention["latencies_s"])},
        {"case": f"{len(many)} shoppers, 8 at a time", "requests": len(many),
         "statuses": spread["statuses"], "expected_issued": len(many),
         "rps": round(len(spread["latencies_s"]) / spread["elapsed_s"], 1),
         **latency_summary(spread["latencies_s"])},
    ]
    exact = (contention["statuses"].get("200", 0) == expected_wins
             and contention["statuses"].get("409", 0) == 10 - expected_wins
             and check["redemptions"].get("issued", 0) == expected_wins
             and spread["statuses"] == {"200": len(many)}
             and check_spread["redemptions"] == {"issued": len(many)}
             and check["shopify_discounts"] == expected_wins + len(many)
             and check["balances_differing_from_ledger"] == 0
             and check_spread["balances_differing_from_ledger"] == 0)
    print(table(["case", "statuses", "expected issued", "p50 ms", "p95", "p99"],
                [[r["case"], r["statuses"], r["expected_issued"], r["p50_ms"], r["p95_ms"],
                  r["p99_ms"]] for r in rows]))
    print(f"exact: {exact}; throughput {rows[1]['rps']} redemptions/s; "
          f"Shopify holds {check['shopify_discounts']} discounts")
    return {"server": command, "rows": rows, "exact": exact,
            "checks": {"contention": check, "spread": check_spread},
            "dataset": {k: v for k, v in seeded.items() if k != "url"},
            "notes": "time per request includes the emulator's discountCodeBasicCreate over "
                     "loopback (a Python server in the benchmark process)"}
