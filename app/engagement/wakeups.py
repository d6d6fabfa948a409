"""Wake-ups: ask the job queue to send a scheduled message at its time, once its row is committed.

The Message row is the schedule; a wake-up only makes sending timely. The transaction that
schedules a message belongs to whoever called the business event (a webhook worker, the daily
round), so the wake-up is collected on the session and enqueued from its after-commit hook,
through the process's runtime queue: RQ's `enqueue_at` with Redis, nothing inline (the
`run-due` sweep finds due rows). A lost wake-up (Redis down, flushed, restarted) loses nothing:
the sweep sends every due row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "engagement_wakeups"
SEND_JOB = "app.pipeline.jobs.send_message"
QUEUE = "scheduled"


def ceil_second(moment: datetime) -> datetime:
    """The moment rounded up to a whole second: RQ's scheduler keeps whole seconds (floored),
    so a wake-up for 12:00:00.7 would otherwise arrive before its message is due."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def wakeup_job_id(message_id: int, at: datetime) -> str:
    """One job id per message and time: a rescheduled message gets a new wake-up."""
    return f"message-{message_id}-{at:%Y%m%dT%H%M%S}"


def wake_after_commit(session: Session, message_id: int, at: datetime) -> None:
    """Enqueue the message's wake-up for `at` after this session commits (never on rollback)."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _enqueue_pending)
        event.listen(session, "after_rollback", _forget_pending)
    pending.append((message_id, at))


def _forget_pending(session: Session) -> None:
    """A rolled-back transaction scheduled nothing."""
    session.info.get(_PENDING, []).clear()


def _enqueue_pending(session: Session) -> None:
    """Hand the committed messages' wake-ups to the queue."""
    pending = session.info.get(_PENDING) or []
    if not pending:
        return
    wakeups = list(pending)
    pending.clear()
    from app.pipeline import runtime

    queue = runtime.current().queue
    for message_id, at in wakeups:
        try:
            queue.enqueue_at(at, SEND_JOB, message_id, job_id=wakeup_job_id(message_id, at),
                             queue=QUEUE)
        except Exception:  # noqa: BLE001 - Redis down: the run-due sweep sends it
            log.warning("could not schedule a wake-up; the run-due sweep will send it",
                        extra={"message_id": message_id})
