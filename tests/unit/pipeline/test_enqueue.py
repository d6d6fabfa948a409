"""Every job request names a job function that exists, under an id that says what it is for,
and the after-commit collector enqueues on commit only."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.pipeline import enqueue, jobs
from app.pipeline.enqueue import Job, after_commit

AT = datetime(2026, 11, 2, 15, 0, 1)

# The ids queued jobs and tests rely on: a deployment finds earlier jobs under the same ids.
REQUESTS = [
    (enqueue.process_event(40), "process_event", (40,), "event-40", "webhooks"),
    (enqueue.sync_member_metafields(1, 2, 77), "sync_member_metafields", (1, 2),
     "metafields-1-2-77", "default"),
    (enqueue.sync_member_metafields(1, 2, "daily"), "sync_member_metafields", (1, 2),
     "metafields-1-2-daily", "default"),
    (enqueue.ensure_friend_discount(1, 2), "ensure_friend_discount", (1, 2),
     "friend-discount-1-2", "default"),
    (enqueue.learn_marketing_consent(1, 2), "learn_marketing_consent", (1, 2),
     "marketing-consent-1-2", "default"),
    (enqueue.sync_program_state(1, "live"), "sync_program_state", (1,), "program-state-1-live",
     "default"),
    (enqueue.sync_proxy_path(1, "/apps/rewards"), "sync_proxy_path", (1, "/apps/rewards"),
     "proxy-path-1-apps-rewards", "default"),
    (enqueue.sync_widget_settings(1, 3), "sync_widget_settings", (1,), "widget-settings-1-v3",
     "default"),
    (enqueue.import_members(5, 12), "import_members", (5,), "import-5-12", "default"),
    (enqueue.send_message(9, AT), "send_message", (9,), "message-9-20261102T150001",
     "scheduled"),
]


@pytest.mark.parametrize(("job", "name", "args", "job_id", "queue"), REQUESTS)
def test_each_job_request_names_a_job_function_and_a_stable_id(job, name, args, job_id, queue):
    assert (job.name, job.args, job.job_id, job.queue) == (name, args, job_id, queue)
    assert job.func == f"app.pipeline.jobs.{name}"
    assert callable(getattr(jobs, name))


class RecordingQueue:
    """The JobQueue port, recording what reaches it."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail = fail

    def _put(self, *call: Any) -> None:
        if self.fail:
            raise ConnectionError("redis down")
        self.calls.append(call)

    def enqueue(self, func: str, *args: Any, job_id: str, queue: str = "webhooks") -> None:
        self._put("enqueue", func, args, job_id, queue)

    def enqueue_new(self, func: str, *args: Any, job_id: str, queue: str = "webhooks") -> None:
        self._put("enqueue_new", func, args, job_id, queue)

    def enqueue_at(self, when: datetime, func: str, *args: Any, job_id: str,
                   queue: str = "scheduled") -> None:
        self._put("enqueue_at", when, func, args, job_id, queue)

    def ping(self) -> bool:
        return not self.fail


def test_enqueue_picks_the_queue_call_of_the_request():
    queue = RecordingQueue()
    assert enqueue.enqueue(queue, enqueue.process_event(5, new=True))
    assert enqueue.enqueue(queue, enqueue.process_event(5))
    assert enqueue.enqueue(queue, enqueue.send_message(9, AT))
    assert queue.calls == [
        ("enqueue_new", "app.pipeline.jobs.process_event", (5,), "event-5", "webhooks"),
        ("enqueue", "app.pipeline.jobs.process_event", (5,), "event-5", "webhooks"),
        ("enqueue_at", AT, "app.pipeline.jobs.send_message", (9,), "message-9-20261102T150001",
         "scheduled")]


def test_an_unreachable_queue_is_reported_not_raised():
    assert enqueue.enqueue(RecordingQueue(fail=True), enqueue.process_event(5)) is False


@pytest.fixture
def session():
    with Session(create_engine("sqlite://")) as session:
        yield session


def test_jobs_asked_for_in_a_transaction_are_enqueued_when_it_commits(session):
    queue = RecordingQueue()
    with session.begin():
        session.execute(text("select 1"))
        after_commit(session, queue).add(enqueue.ensure_friend_discount(1, 2))
        after_commit(session, queue).add(enqueue.learn_marketing_consent(1, 2))
        assert queue.calls == []
    assert [call[3] for call in queue.calls] == ["friend-discount-1-2", "marketing-consent-1-2"]


def test_jobs_of_a_rolled_back_transaction_are_never_enqueued(session):
    queue = RecordingQueue()
    with pytest.raises(RuntimeError), session.begin():
        session.execute(text("select 1"))
        after_commit(session, queue).add(enqueue.ensure_friend_discount(1, 2))
        raise RuntimeError("rolled back")
    with session.begin():
        session.execute(text("select 1"))
    assert queue.calls == []


def test_wake_asks_for_each_message_at_its_time(session):
    queue = RecordingQueue()

    @dataclasses.dataclass
    class Scheduled:
        id: int
        scheduled_at: datetime

    with session.begin():
        session.execute(text("select 1"))
        after_commit(session, queue).wake([Scheduled(9, AT)])
    assert queue.calls == [("enqueue_at", AT, "app.pipeline.jobs.send_message", (9,),
                            "message-9-20261102T150001", "scheduled")]


def test_a_job_request_is_a_value():
    assert enqueue.process_event(1) == Job("process_event", (1,), "event-1", "webhooks")
