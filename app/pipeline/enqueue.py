"""Every job the app enqueues: its name, arguments, id and queue in one place, and the one way
to enqueue after a transaction commits.

A job id says what the job is for, so the queue runs one job per purpose however often it
is asked (RedisQueue.enqueue is a no-op while a job of that id waits or runs). The ids are
stable: a deployment must find the jobs an earlier one queued under the same ids.

Jobs are enqueued only after the transaction that created their input commits (style.md: a
fast worker must never run before its row exists). An enqueue that fails (Redis down) is
logged and loses nothing: every job's input is durable and swept (the inbox sweep re-enqueues
unprocessed events and unsent Flow triggers, `run-due` sends due messages, the admin writes
again on the next save).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.loyalty.flow_triggers import PENDING_TRIGGERS
from app.models import Message
from app.pipeline.queueing import JobQueue

log = logging.getLogger(__name__)

# The module RQ imports the job functions from (tests/unit/pipeline/test_enqueue.py checks that
# every name below is one of its functions).
JOBS_MODULE = "app.pipeline.jobs"


@dataclass(frozen=True)
class Job:
    """One job to enqueue: `JOBS_MODULE.<name>(*args)` under `job_id` on `queue`.

    `at`: a wake-up for that moment (naive UTC) instead of now. `new`: the id was never used
    (a new row's), so the queue may skip its uniqueness check (JobQueue.enqueue_new).
    """

    name: str
    args: tuple[Any, ...]
    job_id: str
    queue: str = "default"
    at: datetime | None = None
    new: bool = False

    @property
    def func(self) -> str:
        """The dotted name RQ resolves."""
        return f"{JOBS_MODULE}.{self.name}"


def process_event(event_id: int, *, new: bool = False) -> Job:
    """Apply a stored webhook event (`new`: the event was stored a moment ago)."""
    return Job("process_event", (event_id,), f"event-{event_id}", "webhooks", new=new)


def sync_member_metafields(shop_id: int, member_id: int, cause: str | int) -> Job:
    """Mirror a member's balance and tier into their metafields, once per cause (an event id,
    `daily`, a redemption)."""
    return Job("sync_member_metafields", (shop_id, member_id),
               f"metafields-{shop_id}-{member_id}-{cause}")


def ensure_friend_discount(shop_id: int, member_id: int) -> Job:
    """Create a new member's referral code as a Shopify discount."""
    return Job("ensure_friend_discount", (shop_id, member_id),
               f"friend-discount-{shop_id}-{member_id}")


def learn_marketing_consent(shop_id: int, member_id: int) -> Job:
    """Read a new member's email marketing consent from Shopify."""
    return Job("learn_marketing_consent", (shop_id, member_id),
               f"marketing-consent-{shop_id}-{member_id}")


def sync_program_state(shop_id: int, state: str) -> Job:
    """Tell the theme extension whether the program is a draft or live."""
    return Job("sync_program_state", (shop_id,), f"program-state-{shop_id}-{state}")


def sync_proxy_path(shop_id: int, path: str) -> Job:
    """Tell the theme extension the storefront path of the app proxy, once per path."""
    return Job("sync_proxy_path", (shop_id, path),
               f"proxy-path-{shop_id}-{path.strip('/').replace('/', '-')}")


def sync_widget_settings(shop_id: int, version: int) -> Job:
    """Show a saved version of the Widget settings on the storefront."""
    return Job("sync_widget_settings", (shop_id,), f"widget-settings-{shop_id}-v{version}")


def import_members(run_id: int, next_chunk: int) -> Job:
    """Apply an import run's chunks from `next_chunk` on, a slice per job (one job per resume
    point, so a slice is queued once)."""
    return Job("import_members", (run_id,), f"import-{run_id}-{next_chunk}")


def take_over_import(run_id: int, next_chunk: int, at: datetime) -> Job:
    """A new job for an import run whose worker died (`at` names the take-over, so the dead
    job's id, still in RQ's registries, is never reused)."""
    return Job("import_members", (run_id,),
               f"import-{run_id}-{next_chunk}-taken-over-{int(at.timestamp())}")


def deliver_flow_trigger(trigger_id: int, *, new: bool = False) -> Job:
    """Send a committed Shopify Flow trigger row once (app/pipeline/flow_triggers.py); `new`:
    the row was written by the transaction that just committed."""
    return Job("deliver_flow_trigger", (trigger_id,), f"flow-trigger-{trigger_id}", new=new)


def send_message(message_id: int, at: datetime) -> Job:
    """Wake up at `at` to send a scheduled message; one job per message and time, so a
    rescheduled message gets a new wake-up. The job must be a wake-up for a durable record
    (the Message row): the `run-due` sweep sends it if the wake-up is ever lost."""
    return Job("send_message", (message_id,), f"message-{message_id}-{at:%Y%m%dT%H%M%S}",
               "scheduled", at=at)


def run_backfill(backfill_id: int, step: str) -> Job:
    """A slice of an order history backfill (`step` names it: the start, a continuation
    after a committed cursor, the merchant's resume)."""
    return Job("run_backfill", (backfill_id,), f"backfill-{backfill_id}-{step}")


def enqueue(queue: JobQueue, job: Job) -> bool:
    """Enqueue a job whose input is already committed; False if the queue is unreachable."""
    try:
        if job.at is not None:
            queue.enqueue_at(job.at, job.func, *job.args, job_id=job.job_id, queue=job.queue)
        elif job.new:
            queue.enqueue_new(job.func, *job.args, job_id=job.job_id, queue=job.queue)
        else:
            queue.enqueue(job.func, *job.args, job_id=job.job_id, queue=job.queue)
        return True
    except Exception:  # noqa: BLE001 - Redis down or slow: the job's sweep retries
        log.warning("enqueue failed; the sweep will retry", extra={"job_id": job.job_id})
        return False


_COLLECTOR = "pipeline_after_commit"


@dataclass
class AfterCommit:
    """The jobs asked for inside a session's transaction: enqueued once it commits, forgotten
    if it rolls back. One per session (`after_commit(session, queue)`)."""

    queue: JobQueue
    jobs: list[Job] = field(default_factory=list)

    def add(self, job: Job) -> None:
        """Ask for the job once the transaction commits."""
        self.jobs.append(job)

    def wake(self, messages: Iterable[Message]) -> None:
        """Ask for the wake-ups of messages scheduled in this transaction."""
        for message in messages:
            self.add(send_message(message.id, message.scheduled_at))

    def _enqueue(self, _session: Session) -> None:
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            enqueue(self.queue, job)

    def _forget(self, _session: Session) -> None:
        self.jobs.clear()


# The queue of the runtime each database engine belongs to (build_runtime registers it): the
# rules note Flow triggers on any session, with no runtime at hand.
_QUEUES: WeakKeyDictionary[Any, JobQueue] = WeakKeyDictionary()


def serve_flow_triggers(engine: Any, queue: JobQueue) -> None:
    """Send the Flow triggers of this engine's sessions through this queue."""
    _QUEUES[engine] = queue


def _send_flow_triggers(session: Session) -> None:
    """The Flow trigger rows a committed transaction wrote (app/loyalty/flow_triggers.py),
    each a job that sends it once. Without a queue, or with Redis down, the rows wait for the
    inbox sweep."""
    trigger_ids = session.info.pop(PENDING_TRIGGERS, None)
    if not trigger_ids:
        return
    queue = _QUEUES.get(session.get_bind())
    if queue is None:
        log.warning("flow triggers left to the sweep: no queue serves this database")
        return
    for trigger_id in trigger_ids:
        enqueue(queue, deliver_flow_trigger(trigger_id, new=True))


def _forget_flow_triggers(session: Session) -> None:
    session.info.pop(PENDING_TRIGGERS, None)


# Every session: the rules note triggers wherever they run (a webhook job, a proxy or account
# request, the daily round, the admin).
event.listen(Session, "after_commit", _send_flow_triggers)
event.listen(Session, "after_rollback", _forget_flow_triggers)


def after_commit(session: Session, queue: JobQueue) -> AfterCommit:
    """The session's collector of after-commit jobs, created on first use."""
    collector = session.info.get(_COLLECTOR)
    if collector is None:
        collector = session.info[_COLLECTOR] = AfterCommit(queue)
        event.listen(session, "after_commit", collector._enqueue)
        event.listen(session, "after_rollback", collector._forget)
    return collector
