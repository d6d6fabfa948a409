"""Issue 9, case 6: a worker is SIGKILLed in the middle of applying an event. Its transaction
dies with it; RQ runs the job again and the ledger is exact.

To kill it in the middle, the test holds a lock that the worker's INSERT into the ledger
waits for: the worker has locked the event, written the order and its member, and is inside
its transaction when the signal arrives.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.db import Database
from tests.faults.conftest import (
    all_processed,
    events,
    ledger_kinds,
    member_points,
    paid_order,
)
from tests.faults.processes import alive, wait_until

CUSTOMER = 74001


@pytest.fixture
def ledger_lock(shop_installed: Database) -> Iterator[Connection]:
    """A transaction holding a lock that blocks every INSERT into ledger_entries."""
    conn = shop_installed.engine.connect()
    conn.execute(text("LOCK TABLE ledger_entries IN SHARE ROW EXCLUSIVE MODE"))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _waiting_on_the_ledger(db: Database) -> int | None:
    """The backend of a worker blocked inside its transaction on the ledger insert."""
    with db.engine.connect() as conn:
        return conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO ledger_entries%'"
        )).scalar()


def _order_earns_once(db: Database) -> None:
    """The event applied by one successful run; 10.00 earned 50 pending points once."""
    [event] = events(db)
    assert (event.outcome, event.attempts) == ("processed", 1)
    assert member_points(db, CUSTOMER) == (0, 50, 50)
    assert ledger_kinds(db, CUSTOMER) == [("earn_order", 50)]


def test_a_work_horse_killed_mid_transaction_is_retried_and_earns_once(
        served, shop_installed, redis_url, workers, ledger_lock):
    db, (_, deliveries) = shop_installed, served
    assert deliveries.post("orders/paid", paid_order(840001, CUSTOMER, ["10.00"]),
                           "killed-horse").status_code == 200
    worker = workers(db.url, redis_url, fork=True)
    wait_until(lambda: _waiting_on_the_ledger(db), 60, "the worker to block on the ledger")
    horse = worker.horse()
    assert horse is not None
    os.kill(horse, signal.SIGKILL)
    wait_until(lambda: not alive(horse), 10, "the work horse to die")
    ledger_lock.rollback()

    # RQ saw its horse die and scheduled the job's retry; the scheduler brings it back.
    wait_until(lambda: all_processed(db), 60, "the retried job to apply the event")
    _order_earns_once(db)
    assert worker.running()


@pytest.mark.slow
def test_a_whole_worker_killed_mid_transaction_is_retried_by_the_next_worker(
        served, shop_installed, redis_url, workers, ledger_lock):
    db, (_, deliveries) = shop_installed, served
    assert deliveries.post("orders/paid", paid_order(840002, CUSTOMER, ["10.00"]),
                           "killed-worker").status_code == 200
    # As a lost machine or an OOM kill: the worker, its scheduler and its horse, all at once.
    doomed = workers(db.url, redis_url, fork=True, extra_args=["--job-monitoring-interval", "1"])
    wait_until(lambda: _waiting_on_the_ledger(db), 60, "the worker to block on the ledger")
    doomed.kill_everything()
    ledger_lock.rollback()
    assert not all_processed(db)

    # The job is still `started` for RQ until its heartbeat (monitoring interval + 60 s)
    # expires; the next worker's registry maintenance then finds it abandoned and retries it.
    # In production that maintenance runs every 10 minutes; here every 5 seconds (an idle
    # worker only gets to it when its blocking dequeue, worker TTL - 15 s, times out).
    successor = workers(db.url, redis_url, fork=True,
                        extra_args=["--maintenance-interval", "5", "--worker-ttl", "20"])
    wait_until(lambda: all_processed(db), 150, "RQ to retry the abandoned job", step=0.5)
    _order_earns_once(db)
    assert successor.running()


def test_a_worker_killed_outright_takes_its_scheduler_with_it(workers, redis_url, tmp_path):
    """The README's worker with --with-scheduler forks its scheduler. SIGKILLed (an OOM kill,
    a lost container), the worker must not leave that scheduler running, re-parented, holding
    the scheduler lock and moving scheduled jobs with old code."""
    from redis import Redis

    from tests.faults.processes import children

    worker = workers(f"sqlite:///{tmp_path / 'unused.db'}", redis_url, queues=("scheduled",),
                     scheduler=True)
    [scheduler] = wait_until(lambda: children(worker.pid), 30, "the worker's scheduler")
    redis = Redis.from_url(redis_url)
    try:
        wait_until(lambda: redis.get("rq:scheduler-lock:scheduled"), 10, "the scheduler lock")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        wait_until(lambda: not alive(scheduler), 10, "the scheduler to stop with its worker")
        # It stopped warmly: its lock is free for the next worker's scheduler at once.
        assert redis.get("rq:scheduler-lock:scheduled") is None
    finally:
        redis.close()
