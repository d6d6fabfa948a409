"""A job acts on the runtime that performs it, never on one looked up from the process.

Two apps live in one process here, each on its own database; both are built before any job
runs, so a job that found "the process's runtime" would act on the second app's database
for the first app's event and leave that event unapplied.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app.db import Database
from app.migrate import upgrade_head
from app.models import Member, WebhookEvent
from app.pipeline.rq_worker import RuntimeJob, Worker
from tests.conftest import app_config
from tests.support.factories import make_shop
from tests.support.webhook_signing import fixture_payload, post_webhook

SHOP = "two-runtimes.myshopify.com"


@pytest.fixture
def other_db(tmp_path):
    """A second migrated database (SQLite), beside the test's own."""
    database = Database(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade_head(database.url)
    yield database
    database.dispose()


def _installed(db: Database) -> Database:
    with db.transaction() as s:
        make_shop(s, domain=SHOP)
    return db


def _applied(db: Database) -> tuple[list[str | None], int]:
    """The outcomes of the database's events, and how many members it has."""
    with db.sessions() as s:
        outcomes = list(s.execute(select(WebhookEvent.outcome).order_by(WebhookEvent.id))
                        .scalars())
        return outcomes, len(s.execute(select(Member)).scalars().all())


def _deliver(app, customer_id: int) -> None:
    payload = fixture_payload("customers/create")
    payload["id"] = customer_id
    response = post_webhook(app.test_client(), "customers/create", SHOP, payload,
                            webhook_id=f"wh-{customer_id}")
    assert response.status_code == 200


def test_each_rq_worker_gives_its_jobs_the_runtime_it_was_built_with(pg, other_db, redis_url):
    first = create_app(app_config(_installed(pg), redis_url=redis_url))
    second = create_app(app_config(_installed(other_db), redis_url=redis_url))
    first_rt, second_rt = first.extensions["runtime"], second.extensions["runtime"]
    queues = ["webhooks", "default"]

    _deliver(first, 101)
    assert _applied(pg) == ([None], 0)
    Worker([first_rt.queue.rq_queue(q) for q in queues], connection=first_rt.queue.redis,
           runtime=first_rt).work(burst=True)
    assert _applied(pg) == (["processed"], 1)
    assert _applied(other_db) == ([], 0)

    _deliver(second, 202)
    Worker([second_rt.queue.rq_queue(q) for q in queues], connection=second_rt.queue.redis,
           runtime=second_rt).work(burst=True)
    assert _applied(other_db) == (["processed"], 1)
    assert _applied(pg) == (["processed"], 1)


def test_each_inline_queue_gives_its_jobs_the_runtime_it_belongs_to(db, other_db):
    first = create_app(app_config(_installed(db)))
    second = create_app(app_config(_installed(other_db)))

    _deliver(first, 101)
    assert _applied(db) == (["processed"], 1)
    assert _applied(other_db) == ([], 0)
    _deliver(second, 202)
    assert _applied(other_db) == (["processed"], 1)
    assert _applied(db) == (["processed"], 1)


def test_a_job_performed_without_a_runtime_fails_instead_of_finding_one(redis_url):
    from redis import Redis

    job = RuntimeJob.create("app.pipeline.jobs.process_event", args=(1,),
                            connection=Redis.from_url(redis_url))
    with pytest.raises(RuntimeError, match="not given a runtime"):
        job.perform()
