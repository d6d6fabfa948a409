"""Issue 9, case 7: Redis stops while webhooks arrive. Every delivery still gets 200 (the inbox
has it); once Redis is back, the sweep and the workers apply every event exactly once — those
whose jobs died with Redis, those that could not be enqueued, and those enqueued after."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from app import create_app
from tests.conftest import app_config
from tests.faults.conftest import (
    Deliveries,
    all_processed,
    events,
    ledger_kinds,
    member_points,
    paid_order,
)
from tests.faults.processes import ROOT, ThrowawayRedis, app_environment
from tests.support.emulator_fixture import live_app_server

FIRST_CUSTOMER = 73001
# Shopify counts a delivery as failed when the answer takes longer than this.
SHOPIFY_TIMEOUT_S = 5.0


@pytest.fixture
def own_redis() -> Iterator[ThrowawayRedis]:
    """A redis-server of this test's own, on a free port."""
    redis = ThrowawayRedis()
    if redis.binary is None:
        pytest.skip("redis-server is not installed")
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def served_on_own_redis(shop_installed, own_redis) -> Iterator[Deliveries]:
    """The app over HTTP, on the shared test PostgreSQL and the throwaway Redis."""
    app = create_app(app_config(shop_installed, redis_url=own_redis.url))
    with live_app_server(app) as url:
        deliveries = Deliveries(url)
        yield deliveries
        deliveries.close()


def _orders(first: int, count: int) -> list[tuple[str, dict, str]]:
    """`count` paid orders of 10.00 (50 points), one customer each."""
    return [("orders/paid", paid_order(830000 + n, FIRST_CUSTOMER + n, ["10.00"]), f"redis-{n}")
            for n in range(first, first + count)]


def _timed_posts(deliveries: Deliveries, batch: list[tuple[str, dict, str]]
                 ) -> list[tuple[int, float]]:
    """(status, seconds) of each delivery, posted concurrently."""

    def post(delivery: tuple[str, dict, str]) -> tuple[int, float]:
        """One delivery, timed."""
        began = time.monotonic()
        status = deliveries.post(*delivery).status_code
        return status, time.monotonic() - began

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(post, batch))


def _sweep(database_url: str, redis_url: str) -> str:
    """Run the operators' command, `flask --app wsgi sweep-inbox --older-than 0`."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sweep-inbox", "--older-than", "0"],
        cwd=ROOT, env=app_environment(database_url, redis_url), capture_output=True,
        text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_deliveries_during_a_redis_outage_are_acknowledged_and_applied_once_after(
        served_on_own_redis, own_redis, shop_installed, workers):
    db, deliveries = shop_installed, served_on_own_redis
    before, during, after = _orders(0, 8), _orders(8, 8), _orders(16, 8)

    assert [s for s, _ in _timed_posts(deliveries, before)] == [200] * 8
    # Redis dies with the eight jobs it held (no persistence): only the inbox remembers them.
    own_redis.stop()
    answered = _timed_posts(deliveries, during)
    assert [s for s, _ in answered] == [200] * 8
    assert max(t for _, t in answered) < SHOPIFY_TIMEOUT_S
    own_redis.start()
    assert [s for s, _ in _timed_posts(deliveries, after)] == [200] * 8
    assert len(events(db)) == 24 and not any(e.processed_at for e in events(db))

    # The jobs of `after` are waiting: the sweep enqueues the other sixteen, not those again.
    assert _sweep(db.url, own_redis.url) == ("re-enqueued 24 event(s)\n"
                                             "re-enqueued 0 flow trigger(s)")
    worker = workers(db.url, own_redis.url, burst=True, scheduler=False)
    assert worker.wait(timeout=120) == 0

    assert all_processed(db)
    assert Counter((e.outcome, e.attempts) for e in events(db)) == {("processed", 1): 24}
    for n in range(24):
        assert member_points(db, FIRST_CUSTOMER + n) == (0, 50, 50)
        assert ledger_kinds(db, FIRST_CUSTOMER + n) == [("earn_order", 50)]
    assert _sweep(db.url, own_redis.url) == ("re-enqueued 0 event(s)\n"
                                             "re-enqueued 0 flow trigger(s)")


@pytest.mark.slow
def test_a_hung_redis_does_not_delay_the_answer_and_loses_nothing(
        served_on_own_redis, own_redis, shop_installed, workers):
    db, deliveries = shop_installed, served_on_own_redis
    assert own_redis.process is not None
    own_redis.process.send_signal(signal.SIGSTOP)
    try:
        answered = _timed_posts(deliveries, _orders(0, 4))
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    # The enqueue runs after the answer is sent: the 2-second Redis socket timeout is spent
    # by the server afterwards, never by Shopify's 5-second clock.
    assert [s for s, _ in answered] == [200] * 4
    assert all(t < 1.0 for _, t in answered), answered
    _sweep(db.url, own_redis.url)
    worker = workers(db.url, own_redis.url, burst=True, scheduler=False)
    assert worker.wait(timeout=120) == 0
    assert Counter((e.outcome, e.attempts) for e in events(db)) == {("processed", 1): 4}
