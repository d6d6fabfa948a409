"""Flow triggers are an outbox: the row commits with the change it reports, so a queue that is
down at commit, or a worker that dies mid-send, loses nothing; the sweep hands such rows out
again and each reaches Flow once (real Redis and RQ worker, the emulator as Shopify)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from app import create_app
from app.db import utcnow
from app.loyalty.program import current_settings
from app.loyalty.tiers import evaluate_tier
from app.models import FlowTrigger, Member
from app.pipeline.flow_triggers import CLAIM_TIMEOUT, MAX_ATTEMPTS, _claim, deliver
from app.pipeline.jobs import sweep_flow_triggers
from app.pipeline.queueing import RedisQueue
from app.pipeline.rq_worker import Worker
from tests.conftest import app_config
from tests.integration.flow.conftest import CUSTOMER_ID, FlowShop

DOWN = "redis://127.0.0.1:1/0"
TIER_CHANGED = {"handle": "loyalty-tier-changed", "payload": {
    "customer_id": CUSTOMER_ID, "previous tier": "Gold", "new tier": "Bronze",
    "reason": "order"}}


def _app(flow_shop: FlowShop, redis_url: str) -> Flask:
    """The app on the flow shop's database and emulator with jobs on `redis_url`; its queue
    now serves the database's after-commit Flow triggers."""
    return create_app(app_config(flow_shop.db, shopify_admin_base=flow_shop.emulator.base_url,
                                 redis_url=redis_url))


def _tier_change(flow_shop: FlowShop) -> None:
    """A committed tier change (Gold held long enough ago that the review moves the member
    down): one loyalty-tier-changed trigger."""
    now = utcnow()
    with flow_shop.db.transaction() as s:
        member = s.execute(select(Member).where(Member.customer_id == CUSTOMER_ID)).scalar_one()
        member.tier, member.tier_since = "Gold", now - timedelta(days=800)
        evaluate_tier(s, member, current_settings(s, member.shop_id), now, reason="order")


def _work(app: Flask) -> None:
    """A real RQ worker runs every queued default job, then stops."""
    queue: RedisQueue = app.extensions["runtime"].queue
    Worker([queue.rq_queue("default")], connection=queue.redis,
           runtime=app.extensions["runtime"]).work(burst=True)


def test_a_trigger_committed_while_the_queue_is_down_is_sent_once_by_the_sweep(
        flow_shop: FlowShop, redis_url: str) -> None:
    _app(flow_shop, DOWN)
    _tier_change(flow_shop)
    # The enqueue failed, yet the row committed with the change.
    [row] = flow_shop.rows()
    assert (row.handle, row.status, row.attempts) == ("loyalty-tier-changed", "pending", 0)
    assert flow_shop.received() == []

    up = _app(flow_shop, redis_url)
    runtime = up.extensions["runtime"]
    # A row younger than --older-than may still have its own job on the way.
    assert sweep_flow_triggers(runtime, older_than_seconds=3600) == 0
    assert sweep_flow_triggers(runtime, older_than_seconds=0) == 1
    # Swept twice before a worker ran: still one job (the row's job id).
    assert sweep_flow_triggers(runtime, older_than_seconds=0) == 1
    assert runtime.queue.rq_queue("default").count == 1
    _work(up)

    assert flow_shop.received() == [TIER_CHANGED]
    [row] = flow_shop.rows()
    assert (row.status, row.attempts, row.sent_at is not None) == ("sent", 1, True)
    assert sweep_flow_triggers(runtime, older_than_seconds=0) == 0
    assert deliver(runtime, row.id) == "skipped: sent or being sent"
    assert flow_shop.received() == [TIER_CHANGED]


def test_with_the_queue_up_the_job_enqueued_at_commit_sends_it(
        flow_shop: FlowShop, redis_url: str) -> None:
    up = _app(flow_shop, redis_url)
    _tier_change(flow_shop)
    [row] = flow_shop.rows()
    queue: RedisQueue = up.extensions["runtime"].queue
    assert queue.rq_queue("default").job_ids == [f"flow-trigger-{row.id}"]
    _work(up)
    assert flow_shop.received() == [TIER_CHANGED]
    assert sweep_flow_triggers(up.extensions["runtime"], older_than_seconds=0) == 0


def test_a_send_cut_short_is_retried_once_after_the_claim_timeout(
        flow_shop: FlowShop, redis_url: str) -> None:
    _app(flow_shop, DOWN)
    _tier_change(flow_shop)
    [row] = flow_shop.rows()
    up = _app(flow_shop, redis_url)
    runtime = up.extensions["runtime"]

    # A worker claimed the row and died before Shopify answered: the row stays `sending`.
    claimed = utcnow()
    with flow_shop.db.transaction() as s:
        assert _claim(s, row.id, claimed)
    # Within the timeout the claim may still be in flight: neither sweep nor job sends it.
    assert sweep_flow_triggers(runtime, older_than_seconds=0) == 0
    assert deliver(runtime, row.id) == "skipped: sent or being sent"

    # The clock moves past the timeout: the row is handed out again, and sent once.
    with flow_shop.db.transaction() as s:
        s.get(FlowTrigger, row.id).claimed_at = claimed - CLAIM_TIMEOUT - timedelta(seconds=1)
    assert sweep_flow_triggers(runtime, older_than_seconds=0) == 1
    _work(up)
    assert flow_shop.received() == [TIER_CHANGED]
    [row] = flow_shop.rows()
    assert (row.status, row.attempts) == ("sent", 2)
    assert sweep_flow_triggers(runtime, older_than_seconds=0) == 0
    _work(up)
    assert flow_shop.received() == [TIER_CHANGED]


def test_a_job_queued_before_the_outbox_writes_its_row_once_and_sends_it(
        flow_shop: FlowShop) -> None:
    from app.pipeline.jobs import send_flow_trigger

    runtime = flow_shop.app.extensions["runtime"]
    member = flow_shop.member()
    payload = TIER_CHANGED["payload"]
    args = (member.shop_id, member.id, "loyalty-tier-changed:41", "loyalty-tier-changed",
            payload)
    assert send_flow_trigger(runtime, *args) == "sent"
    assert send_flow_trigger(runtime, *args) == "skipped: sent or being sent"
    assert flow_shop.received() == [TIER_CHANGED]
    assert [(r.event_key, r.status) for r in flow_shop.rows()] == [
        ("loyalty-tier-changed:41", "sent")]


def test_a_row_whose_every_send_was_cut_short_fails_instead_of_staying_sending(
        flow_shop: FlowShop, redis_url: str) -> None:
    _app(flow_shop, DOWN)
    _tier_change(flow_shop)
    [row] = flow_shop.rows()
    up = _app(flow_shop, redis_url)
    # Each worker claims it once the previous claim timed out, and dies mid-send.
    step = CLAIM_TIMEOUT + timedelta(seconds=1)
    first = utcnow() - MAX_ATTEMPTS * step
    for attempt in range(MAX_ATTEMPTS):
        with flow_shop.db.transaction() as s:
            assert _claim(s, row.id, first + attempt * step)
    with flow_shop.db.transaction() as s:
        assert not _claim(s, row.id, utcnow())
    assert sweep_flow_triggers(up.extensions["runtime"], older_than_seconds=0) == 0
    [row] = flow_shop.rows()
    assert (row.status, row.attempts, row.error) == ("failed", MAX_ATTEMPTS,
                                                     f"cut short {MAX_ATTEMPTS} times")
    assert flow_shop.received() == []


def test_a_row_left_sending_before_claims_had_times_is_retried_by_the_first_sweep(
        flow_shop: FlowShop, redis_url: str) -> None:
    _app(flow_shop, DOWN)
    _tier_change(flow_shop)
    [row] = flow_shop.rows()
    # As the earlier deployment left a row whose worker died mid-send (migration 0018).
    with flow_shop.db.transaction() as s:
        stuck = s.get(FlowTrigger, row.id)
        stuck.status, stuck.attempts, stuck.claimed_at = "sending", 1, None
    up = _app(flow_shop, redis_url)
    assert sweep_flow_triggers(up.extensions["runtime"], older_than_seconds=0) == 1
    _work(up)
    assert flow_shop.received() == [TIER_CHANGED]
    [row] = flow_shop.rows()
    assert (row.status, row.attempts) == ("sent", 2)
