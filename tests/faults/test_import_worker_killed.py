"""Issue 17: the RQ worker applying a member import is SIGKILLed in the middle of a chunk. The
run stays "importing" with the dead job's claim; once its heartbeat is stale, the admin's next
look at it queues one job that takes it over, and a second look queues nothing more. A new
worker finishes the run with every row applied once.

To kill it in the middle, the test holds a lock that the worker's write to imported_rows (a
COPY on PostgreSQL) waits for: the worker has claimed the run and is inside its first chunk's
transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from redis import Redis
from sqlalchemy import func, select, text

from app import create_app
from app.db import Database, utcnow
from app.loyalty.importing.runs import confirm, stage_file
from app.loyalty.importing.sources import source_named
from app.models import ImportedRow, ImportRun, Member
from app.pipeline import enqueue
from tests.conftest import app_config
from tests.faults.conftest import SHOP
from tests.faults.processes import alive, wait_until
from tests.support.shopify_fakes import admin_token

ROWS = 4500  # three chunks of CHUNK_ROWS (2,000)


def _smile_export(count: int) -> list[str]:
    lines = ["email,points_balance,vip_tier,updated_at\n"]
    lines += [f"c{i}@example.com,{i % 50 * 10},Silver,2026-11-0{1 + i % 9}T00:00:00Z\n"
              for i in range(count)]
    return lines


def _waiting_on_imported_rows(db: Database) -> int | None:
    with db.engine.connect() as conn:
        return conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE '%imported_rows%'"
        )).scalar()


def _run(db: Database, run_id: int) -> ImportRun:
    with db.sessions() as session:
        return session.get(ImportRun, run_id)


def _queued(redis: Redis) -> list[str]:
    return [job_id.decode() for job_id in redis.lrange("rq:queue:default", 0, -1)]


def test_an_import_whose_worker_died_is_taken_over_once_and_finishes(
        shop_installed: Database, redis_url: str, workers: Any) -> None:
    db = shop_installed
    with db.transaction() as session:
        shop_id = session.execute(text("SELECT id FROM shops WHERE domain = :d"),
                                  {"d": SHOP}).scalar_one()
        run = stage_file(session, shop_id, source_named("smile"), _smile_export(ROWS),
                         filename="smile.csv", actor="test", now=utcnow())
        assert confirm(session, run, utcnow())
        run_id, chunks = run.id, run.chunk_count
    assert chunks == 3
    app = create_app(app_config(db, redis_url=redis_url))
    queue = app.extensions["runtime"].queue
    redis = Redis.from_url(redis_url)
    client = app.test_client()
    lock = db.engine.connect()
    try:
        lock.execute(text("LOCK TABLE imported_rows IN SHARE ROW EXCLUSIVE MODE"))
        assert enqueue.enqueue(queue, enqueue.import_members(run_id, 0))
        doomed = workers(db.url, redis_url, queues=("default",), fork=True)
        wait_until(lambda: _waiting_on_imported_rows(db), 60, "the worker to block mid-chunk")
        claimed = _run(db, run_id)
        assert claimed.state == "importing" and claimed.claimed_by is not None
        horse = doomed.horse()
        doomed.kill_everything()
        wait_until(lambda: horse is None or not alive(horse), 10, "the work horse to die")
    finally:
        lock.rollback()
        lock.close()

    dead = _run(db, run_id)
    assert (dead.state, dead.next_chunk, dead.rows_done) == ("importing", 0, 0)
    headers = {"Authorization": f"Bearer {admin_token(SHOP)}", "Sec-Fetch-Mode": "cors",
               "Accept": "application/json"}

    def look() -> dict:
        answer = client.post(f"/admin/imports/{run_id}/status", headers=headers, json={})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()

    # While the dead job's claim is younger than STALE_AFTER, a look changes nothing.
    assert look()["state"] == "importing"
    assert _queued(redis) == []
    assert _run(db, run_id).claimed_by == claimed.claimed_by

    # Time passes: no chunk has beaten for longer than STALE_AFTER.
    with db.transaction() as session:
        session.get(ImportRun, run_id).heartbeat_at = utcnow() - timedelta(minutes=6)
    assert look()["state"] == "importing"
    [taken_over] = _queued(redis)
    assert taken_over.startswith(f"import-{run_id}-0-taken-over-")
    assert look()["state"] == "importing"  # the next look does not queue it again
    assert len(_queued(redis)) == 1
    assert _run(db, run_id).claimed_by is None

    successor = workers(db.url, redis_url, queues=("default",), burst=True, scheduler=False)
    assert successor.wait(timeout=120) == 0
    done = _run(db, run_id)
    assert (done.state, done.rows_done, done.claimed_by) == ("done", ROWS, None)
    with db.sessions() as session:
        assert session.execute(select(func.count(ImportedRow.id))).scalar_one() == ROWS
        assert session.execute(select(func.count(Member.id))).scalar_one() == ROWS
    assert look()["state"] == "done"
    assert _queued(redis) == []
    redis.close()
