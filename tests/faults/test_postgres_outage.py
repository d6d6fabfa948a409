"""Issue 9, case 8: PostgreSQL stops while webhooks arrive and a worker is mid-transaction.
Deliveries get 503 (Shopify retries them), nothing is half-applied, and once PostgreSQL is
back the retried deliveries and the interrupted job are applied exactly once.

The outage is played on a throwaway cluster of this test's own (initdb in a temporary
directory), never on the machine's shared PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.db import Database
from app.migrate import upgrade_head
from app.models import LedgerEntry, Member, Order, WebhookEvent
from tests.conftest import app_config, unavailable
from tests.faults.conftest import (
    SHOP,
    Deliveries,
    all_processed,
    events,
    ledger_kinds,
    member_points,
    paid_order,
)
from tests.faults.processes import ROOT, ThrowawayPostgres, app_environment, wait_until
from tests.support.emulator_fixture import live_app_server
from tests.support.factories import make_shop

pytestmark = pytest.mark.slow
FIRST_CUSTOMER = 75001


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A migrated PostgreSQL cluster of this test's own, with the shop installed."""
    cluster = ThrowawayPostgres()
    if not cluster.available:
        unavailable("PostgreSQL server binaries", "no /usr/lib/postgresql/*/bin/initdb")
    try:
        cluster.init()
        cluster.start()
        upgrade_head(cluster.url)
        db = Database(cluster.url)
        with db.transaction() as session:
            make_shop(session, domain=SHOP)
        db.dispose()
        yield cluster
    finally:
        cluster.remove()


def _orders(first: int, count: int) -> list[tuple[str, dict, str]]:
    """`count` paid orders of 10.00 (50 points), one customer each."""
    return [("orders/paid", paid_order(850000 + n, FIRST_CUSTOMER + n, ["10.00"]), f"pg-{n}")
            for n in range(first, first + count)]


def _count(db: Database, model: type) -> int:
    """Rows of a model's table."""
    with db.sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_deliveries_during_a_postgres_outage_are_503_and_applied_once_after(
        own_postgres, redis_url, workers):
    db = Database(own_postgres.url)
    app = create_app(app_config(db, redis_url=redis_url))
    before, during, after = _orders(0, 6), _orders(6, 6), _orders(12, 6)
    with live_app_server(app) as url:
        deliveries = Deliveries(url)
        try:
            first_worker = workers(db.url, redis_url)
            # The first worker will stop inside its first transaction, at the ledger insert.
            lock = db.engine.connect()
            lock.execute(text("LOCK TABLE ledger_entries IN SHARE ROW EXCLUSIVE MODE"))
            assert deliveries.post_many(before) == [200] * 6
            wait_until(lambda: _blocked_on_the_ledger(own_postgres.url), 60,
                       "a worker to be inside its transaction")

            own_postgres.stop("fast")
            lock.invalidate()
            began = time.monotonic()
            statuses = [deliveries.post(*d) for d in during]
            assert [r.status_code for r in statuses] == [503] * 6
            assert {r.json()["error"] for r in statuses} == {"unavailable"}
            assert time.monotonic() - began < 5
            first_worker.stop()

            own_postgres.start()
            # Nothing of the interrupted transaction survived; only the inbox rows before it.
            assert (_count(db, Order), _count(db, Member), _count(db, LedgerEntry)) == (0, 0, 0)
            assert len(events(db)) == 6 and not any(e.processed_at for e in events(db))

            # Shopify retries what got 503 (same webhook ids), may repeat what got 200,
            # and new deliveries keep coming.
            assert deliveries.post_many(during + before + after) == [200] * 18
        finally:
            deliveries.close()

    workers(db.url, redis_url)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "sweep-inbox",
                    "--older-than", "0"], cwd=ROOT, env=app_environment(db.url, redis_url),
                   check=True, capture_output=True, timeout=60)
    wait_until(lambda: all_processed(db), 90, "every event to be applied", step=0.2)
    assert Counter(e.outcome for e in events(db)) == {"processed": 18}
    for n in range(18):
        assert member_points(db, FIRST_CUSTOMER + n) == (0, 50, 50)
        assert ledger_kinds(db, FIRST_CUSTOMER + n) == [("earn_order", 50)]
    with db.sessions() as session:
        assert session.execute(select(func.count()).select_from(WebhookEvent)).scalar_one() == 18
    db.dispose()


def _blocked_on_the_ledger(url: str) -> bool:
    """Whether a backend waits on the ledger lock inside its transaction."""
    probe = Database(url)
    try:
        with probe.engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO ledger_entries%'")).scalar())
    finally:
        probe.dispose()
