"""The schedule is durable: Message rows are the schedule, RQ's scheduler only wakes them up.

A real `rq worker --with-scheduler` in its own process sends a message at its time, after
another worker was restarted; with every wake-up lost (Redis flushed) the run-due sweep sends
from the database; without Redis, `flask run-due` does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from app import create_app
from app.db import utcnow
from app.loyalty import events
from app.loyalty.rewards import seed_default_rewards
from app.models import Message, Shop
from app.pipeline import enqueue, topics
from app.pipeline.jobs import run_due_messages
from app.pipeline.queueing import JobQueue
from devstore.payloads import consent_payload, customer_payload
from tests.conftest import TEST_API_SECRET, app_config
from tests.faults.processes import kill_group
from tests.integration.engagement.conftest import T0, days
from tests.support.factories import make_shop
from tests.support.order_payloads import line, paid_order

REPO = Path(__file__).resolve().parents[3]
ADA, ADA_EMAIL = 9001, "ada@example.com"


def _ada_pays(db, queue: JobQueue, shop_id: int, at) -> int:
    """Ada joins and pays an order processed at `at` (the pipeline's orders/paid, its
    wake-ups going to `queue`); returns her welcome message's id."""
    with db.transaction() as s:
        shop = s.get(Shop, shop_id)
        events.customer_joined(s, shop, customer_payload(ADA, email=ADA_EMAIL, first_name="Ada"),
                               at, welcome=False)
        events.marketing_consent_updated(s, shop, consent_payload(
            ADA, email=ADA_EMAIL, state="subscribed"), at, sent_at=at)
        payload = paid_order(5001, updated_at=at, customer_id=ADA, email=ADA_EMAIL,
                             lines=[line("60.00", title="Tea")], name="#5001")
        payload["customer"]["first_name"] = "Ada"
        topics.order_paid(s, shop, payload, at, enqueue.after_commit(s, queue))
    with db.sessions() as s:
        return s.query(Message.id).filter(Message.kind == "welcome").scalar()


def _shop(db) -> int:
    """The shop, with quiet hours off (this test runs at whatever hour the clock says)."""
    with db.transaction() as s:
        shop = make_shop(s, domain="tea-and-co.myshopify.com", name="Tea & Co",
                         timezone="UTC", email="owner@tea.example",
                         installed_at=utcnow() - timedelta(days=90))
        seed_default_rewards(s, shop, utcnow())
        shop_id = shop.id
    from app.loyalty.program import save_settings

    with db.transaction() as s:
        save_settings(s, shop_id, {"engagement": {"quiet_hours_start": 0,
                                                  "quiet_hours_end": 0}},
                      changed_by="test", now=utcnow() - timedelta(days=1))
    return shop_id


def test_the_same_fact_scheduled_twice_is_one_message(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    for _ in range(3):
        shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.fulfil(5001, T0 + days(1))
    shopfront.fulfil(5001, T0 + days(1))
    keys = sorted(m.natural_key for m in shopfront.messages())
    member_id = shopfront.messages("welcome")[0].member_id
    assert keys == ["nps_request:5001", "points_unlocked:5001", "review_request:5001",
                    f"welcome:{member_id}"]


def test_without_redis_flask_run_due_sends_what_is_due(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    runner = shopfront.app.test_cli_runner()
    early = runner.invoke(args=["run-due", "--now", (T0 - days(1)).isoformat()])
    assert early.output.strip() == "nothing due"
    result = runner.invoke(args=["run-due", "--now", T0.isoformat()])
    assert result.exit_code == 0 and result.output.strip() == "sent 1"
    assert len(shopfront.inbox(ADA_EMAIL)) == 1


def test_with_every_wake_up_lost_the_sweep_still_sends_from_the_database(pg, redis_url,
                                                                          smtp_server):
    app = create_app(app_config(pg, redis_url=redis_url, smtp_url=smtp_server.url))
    message_id = _ada_pays(pg, app.extensions["runtime"].queue, _shop(pg), T0)
    Redis.from_url(redis_url).flushdb()
    assert run_due_messages(app.extensions["runtime"], T0.isoformat()) == "sent 1"
    with pg.sessions() as s:
        assert s.get(Message, message_id).status == "sent"
    assert len(smtp_server.to(ADA_EMAIL)) == 1


def test_a_wake_up_is_scheduled_once_per_message_and_time_on_the_real_redis(redis_url):
    from app.pipeline.queueing import RedisQueue

    queue = RedisQueue(redis_url)
    when = T0 + days(10)
    for _ in range(2):
        queue.enqueue_at(when, "app.pipeline.jobs.send_message", 42, job_id="message-42-x")
    queue.enqueue_at(when + days(1), "app.pipeline.jobs.send_message", 42, job_id="message-42-y")
    registry = ScheduledJobRegistry(queue=queue.rq_queue("scheduled"))
    assert registry.get_job_ids() == ["message-42-x", "message-42-y"]
    assert registry.get_scheduled_time("message-42-x").replace(tzinfo=None) == when
    queue.redis.close()


def _worker(redis_url: str, database_url: str, smtp_url: str, log: Path) -> subprocess.Popen:
    """The README's worker command in its own process, configured only by its environment."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "SMTP_URL": smtp_url, "SHOPIFY_API_SECRET": TEST_API_SECRET,
           "SHOPIFY_APP_URL": "https://loyalty.test"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("rq")), "worker",
             "-w", "app.pipeline.rq_worker.Worker",
             "--with-scheduler", "--url", redis_url, "--path", str(REPO), "scheduled"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(worker: subprocess.Popen, log: Path) -> None:
    """A warm shutdown, as a deploy or a supervisor restart sends it; a worker that ignores it
    is killed so it cannot outlive the test, and the test fails with the worker's own log."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        pytest.fail("the worker ignored a warm shutdown for 20 s; its log:\n"
                    + log.read_text(errors="replace"))
    finally:
        # Its scheduler is a fork in its process group: nothing of the worker outlives it.
        kill_group(worker.pid)


def _kill(*workers: subprocess.Popen) -> None:
    """SIGKILL the workers and their process groups (a scheduler forked by a worker would
    otherwise live on, re-parented, and take the next run's scheduled jobs)."""
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        kill_group(worker.pid)


def _registered_workers(redis: Redis) -> int:
    """How many RQ workers are alive."""
    from rq import Worker

    return len(Worker.all(connection=redis))


@pytest.mark.slow
def test_a_real_worker_sends_at_the_scheduled_time_after_another_worker_restarted(
        pg, redis_url, smtp_server, tmp_path):
    app = create_app(app_config(pg, redis_url=redis_url, smtp_url=smtp_server.url))
    shop_id = _shop(pg)
    redis = Redis.from_url(redis_url)
    registry = ScheduledJobRegistry(queue=Queue("scheduled", connection=redis))
    log = tmp_path / "workers.log"
    first = _worker(redis_url, pg.url, smtp_server.url, log)
    second = None
    try:
        deadline = time.monotonic() + 20
        while _registered_workers(redis) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _registered_workers(redis) == 1

        # Scheduled while the first worker (and its scheduler) runs; it stops before it is due.
        # Room for a warm stop on a loaded CI machine before the message is due.
        due = (utcnow() + timedelta(seconds=8)).replace(microsecond=0)
        message_id = _ada_pays(pg, app.extensions["runtime"].queue, shop_id, due)
        wake_up = enqueue.send_message(message_id, due).job_id
        # The welcome's wake-up is the first one due (the unlock and survey come weeks later).
        assert registry.get_job_ids()[0] == wake_up
        _stop(first, log)
        assert utcnow() < due, "the first worker must stop before the message is due"
        assert registry.get_job_ids()[0] == wake_up
        with pg.sessions() as s:
            assert s.get(Message, message_id).status == "scheduled"

        second = _worker(redis_url, pg.url, smtp_server.url, log)
        received = smtp_server.wait_for(1, timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with pg.sessions() as s:
                message = s.get(Message, message_id)
                if message.status != "scheduled":
                    break
            time.sleep(0.1)
        _stop(second, log)
    finally:
        _kill(first, *([second] if second else []))
    assert (message.status, message.reason) == ("sent", None)
    assert message.sent_at >= due
    assert [m["Subject"] for m in received] == ["Welcome to Tea & Co rewards, Ada"]
    assert wake_up not in registry.get_job_ids()
    redis.close()
