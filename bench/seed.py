"""The large dataset for storefront reads and the dashboard, generated inside PostgreSQL.

One shop with 1,000,000 members, 10,000,000 ledger entries (ten per member: the welcome
bonus, six earned orders, a redemption, a review bonus and one order still pending),
1,000,000 orders over 400 days (one in five by a guest, one in fifty cancelled), 100,000
redemptions, 50,000 referrals, 100,000 NPS answers and 200,000 referral shares.

Rows come from `INSERT … SELECT generate_series(…)` (no client round trips at all), and the
members' cached balances are then set from the ledger's own sums, so they agree exactly. The
data lives in its own schema and is kept between runs; bench_seed_info says what is there.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from app.db import Database, utcnow
from app.models import Shop
from bench.services import SEEDED_SCHEMA, database, ensure_schema

SHOP = "bench-store.myshopify.com"
SEED_VERSION = 1
# Ids of Shopify customers and orders in the seed: member m is customer CUSTOMER_BASE + m.
CUSTOMER_BASE = 10_000_000
ORDER_BASE = 20_000_000_000


def _sql(members: int, orders: int) -> list[tuple[str, str]]:
    """(what, statement) in order; :t is the seed's now, :shop the shop id."""
    m = members
    return [
        ("members", f"""
INSERT INTO members (id, shop_id, customer_id, email, first_name, last_name, referral_code,
    tier, tier_since, points_available, points_pending, points_lifetime, accepts_marketing,
    last_activity_at, created_at)
SELECT n, :shop, {CUSTOMER_BASE} + n, 'shopper' || n || '@example.com', 'Shopper', 'N' || n,
    'M' || n, CASE WHEN n % 10 = 0 THEN 'Silver' ELSE 'Bronze' END,
    :t - make_interval(days => (n % 700)::int), 0, 0, 0, n % 3 = 0,
    :t - make_interval(days => 5), :t - make_interval(days => (n % 700)::int)
FROM generate_series(1::bigint, {m}) AS n"""),
        ("ledger_entries", f"""
INSERT INTO ledger_entries (shop_id, member_id, points, kind, source_key, available_at,
    order_id, rate, multiplier, amount, shortfall, note, created_at)
SELECT :shop, n,
    CASE WHEN k = 0 THEN 250 WHEN k = 7 THEN -500 WHEN k = 8 THEN 50
         WHEN k = 9 THEN 5 * (10 + (n * 11) % 40) ELSE 5 * (10 + (n * 7 + k * 13) % 60) END,
    CASE WHEN k = 0 THEN 'bonus_signup' WHEN k = 7 THEN 'redeem' WHEN k = 8 THEN 'bonus_review'
         ELSE 'earn_order' END,
    'seed:' || n || ':' || k,
    CASE WHEN k = 9 THEN :t + make_interval(days => 25)
         ELSE :t - make_interval(days => ((n % 700) * (9 - k) / 9)::int) END,
    CASE WHEN k BETWEEN 1 AND 6 OR k = 9 THEN 30000000000 + n * 10 + k END,
    CASE WHEN k BETWEEN 1 AND 6 OR k = 9 THEN 5 END,
    CASE WHEN k BETWEEN 1 AND 6 OR k = 9 THEN 1 END,
    NULL, 0, NULL,
    CASE WHEN k = 9 THEN :t - make_interval(days => 5)
         ELSE :t - make_interval(days => ((n % 700) * (9 - k) / 9)::int) END
FROM generate_series(1::bigint, {m}) AS n CROSS JOIN generate_series(0, 9) AS k"""),
        ("member balances", f"""
UPDATE members SET points_available = s.available, points_pending = s.pending,
    points_lifetime = s.lifetime, next_unlock_at = s.unlock
FROM (SELECT member_id,
        sum(CASE WHEN available_at > :t THEN 0 ELSE points END) AS available,
        sum(CASE WHEN available_at > :t THEN points ELSE 0 END) AS pending,
        sum(CASE WHEN kind IN ('redeem', 'redeem_refund', 'expire') THEN 0 ELSE points END)
            AS lifetime,
        min(CASE WHEN available_at > :t AND points > 0 THEN available_at END) AS unlock
      FROM ledger_entries GROUP BY member_id) AS s
WHERE members.id = s.member_id AND members.id <= {m}"""),
        ("orders", f"""
INSERT INTO orders (shop_id, shopify_order_id, member_id, name, email, currency, total_price,
    eligible_amount, refunded_amount, status, points_awarded, test, taxes_included, paid_at,
    cancelled_at, created_at)
SELECT :shop, {ORDER_BASE} + i,
    CASE WHEN i % 5 = 0 THEN NULL ELSE ((i * 7919) % {m}) + 1 END,
    '#' || i,
    CASE WHEN i % 5 = 0 THEN 'guest' || (i % 150000) || '@example.com'
         ELSE 'shopper' || (((i * 7919) % {m}) + 1) || '@example.com' END,
    'USD', 20 + i % 180, 10 + i % 180, CASE WHEN i % 40 = 0 THEN 10 ELSE 0 END,
    CASE WHEN i % 50 = 0 THEN 'cancelled' ELSE 'paid' END,
    CASE WHEN i % 5 = 0 THEN 0 ELSE 5 * (10 + i % 180) END, false, false,
    :t - make_interval(days => (i % 400)::int, secs => (i % 86400)::int),
    CASE WHEN i % 50 = 0 THEN :t - make_interval(days => (i % 400)::int) END,
    :t - make_interval(days => (i % 400)::int, secs => (i % 86400)::int)
FROM generate_series(1::bigint, {orders}) AS i"""),
        ("redemptions", f"""
INSERT INTO redemptions (shop_id, member_id, points, code, status, used_order_id, created_at,
    updated_at)
SELECT :shop, ((j * 31) % {m}) + 1, 500, 'SEED-' || j,
    CASE WHEN j % 2 = 1 THEN 'used' ELSE 'issued' END,
    CASE WHEN j % 2 = 1 THEN {ORDER_BASE} + (j * 9) % {orders} + 1 END,
    :t - make_interval(days => (j % 400)::int), :t - make_interval(days => (j % 400)::int)
FROM generate_series(1::bigint, 100000) AS j"""),
        ("referrals", f"""
INSERT INTO referrals (shop_id, referrer_id, order_id, code, status, reason, created_at)
SELECT :shop, ((j * 13) % {m}) + 1, {ORDER_BASE} + j * 17, 'M' || (((j * 13) % {m}) + 1),
    (ARRAY['rewarded', 'pending', 'rejected'])[j % 3 + 1],
    CASE WHEN j % 3 = 2 THEN 'self_referral' END, :t - make_interval(days => (j % 400)::int)
FROM generate_series(1::bigint, 50000) AS j"""),
        ("survey_responses", f"""
INSERT INTO survey_responses (shop_id, member_id, order_id, score, comment, channel,
    detractor, created_at)
SELECT :shop, ((j * 37) % {m}) + 1, {ORDER_BASE} + j * 3, j % 11,
    CASE WHEN j % 11 <= 6 AND j % 4 = 0 THEN 'Shipping took too long (' || j || ')' END,
    'thank_you', j % 11 <= 6, :t - make_interval(days => (j % 400)::int)
FROM generate_series(1::bigint, 100000) AS j"""),
        ("messages", f"""
INSERT INTO messages (shop_id, member_id, kind, channel, natural_key, status, created_at)
SELECT :shop, (j % {m}) + 1, 'referral_share', 'link', 'share:' || j, 'sent',
    :t - make_interval(days => (j % 400)::int)
FROM generate_series(1::bigint, 200000) AS j"""),
    ]


def _seeded(db: Database) -> dict[str, Any] | None:
    """What bench_seed_info says is there, if anything."""
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_seed_info (version int, "
                          "members int, orders int, ledger bigint, shop_id bigint, "
                          "seeded_at timestamp)"))
        row = conn.execute(text("SELECT version, members, orders, ledger, shop_id, seeded_at "
                                "FROM bench_seed_info")).mappings().first()
    return dict(row) if row else None


def ensure_seeded(members: int = 1_000_000, orders: int = 1_000_000,
                  schema: str = SEEDED_SCHEMA) -> dict[str, Any]:
    """Seed the dataset into `schema` unless an identical one is there and still fresh."""
    from app.loyalty.rewards import seed_default_rewards

    url = ensure_schema(schema)
    with database(url) as db:
        info = _seeded(db)
        fresh = info and info["seeded_at"] > utcnow() - timedelta(days=20)
        if (info and fresh and info["version"] == SEED_VERSION and info["members"] == members
                and info["orders"] == orders):
            return {"url": url, **info, "seconds": {}}
        from bench.services import truncate_all

        truncate_all(db)
        now: datetime = utcnow().replace(microsecond=0)
        with db.transaction() as session:
            # Launched at install: a live program, whose orders earn.
            shop = Shop(domain=SHOP, name="Bench Store", currency="USD",
                        installed_at=now - timedelta(days=800),
                        launched_at=now - timedelta(days=800), created_at=now)
            session.add(shop)
            session.flush()
            seed_default_rewards(session, shop, now)
            shop_id = shop.id
        seconds: dict[str, float] = {}
        for what, statement in _sql(members, orders):
            began = time.monotonic()
            with db.engine.begin() as conn:
                conn.execute(text(statement), {"t": now, "shop": shop_id})
            seconds[what] = round(time.monotonic() - began, 1)
            print(f"  seeded {what} in {seconds[what]} s", flush=True)
        with db.engine.begin() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('members', 'id'), "
                              "(SELECT max(id) FROM members))"))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        with db.engine.begin() as conn:
            ledger = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
            conn.execute(text("DELETE FROM bench_seed_info"))
            conn.execute(text("INSERT INTO bench_seed_info VALUES (:v, :m, :o, :l, :s, :t)"),
                         {"v": SEED_VERSION, "m": members, "o": orders, "l": ledger,
                          "s": shop_id, "t": now})
        info = _seeded(db)
    return {"url": url, **info, "seconds": seconds}
