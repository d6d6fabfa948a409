"""Background jobs: RQ on Redis in production, inline when no Redis is configured.

What each job is and when it is enqueued: app/pipeline/enqueue.py. A job function takes the
runtime that performs it first, then the primitive arguments stored with the job: the RQ
worker passes its own (app/pipeline/rq_worker.py), an InlineQueue the one it belongs to.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Shopify retries a failed webhook for hours; our own retries cover short outages.
RETRY_INTERVALS = [1, 5, 30, 120, 600]


class JobQueue(Protocol):
    """Where jobs go: a dotted function name, primitive args, and a unique job id.

    The function is called as func(runtime, *args) by whoever performs the job.
    """

    def enqueue(self, func: str, *args: Any, job_id: str, queue: str = "webhooks") -> None:
        """Schedule func(*args) once under job_id."""

    def enqueue_new(self, func: str, *args: Any, job_id: str, queue: str = "webhooks") -> None:
        """Schedule func(*args) under a job_id that has never been used (a new row's id)."""

    def enqueue_at(self, when: datetime, func: str, *args: Any, job_id: str,
                   queue: str = "scheduled") -> None:
        """Run func(*args) at `when` (naive UTC), once under job_id.

        The job must be a wake-up for work that has its own durable record (a Message row
        with its scheduled_at): a sweep finds that record if the wake-up is ever lost.
        """

    def ping(self) -> bool:
        """Whether the queue's backend is reachable."""


def _resolve(func: str) -> Callable[..., Any]:
    module_name, _, attr = func.rpartition(".")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


class InlineQueue:
    """Runs jobs in this process: immediately, or after the current response when deferred.

    `runtime` is the runtime this queue belongs to (set by build_runtime): the one its jobs
    are given.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self.runtime: Any = None

    def enqueue(self, func: str, *args: Any, job_id: str, queue: str = "webhooks") -> None:
        """Run now, or collect to run after the response when a request deferred us."""
        pending = getattr(self._local, "pending", None)
        if pending is not None:
            pending.append((func, args, job_id))
        else:
            self._run(func, args, job_id)

    def enqueue_new(self, func: str, *args: Any, job_id: str, queue: str = "webhooks") -> None:
        """The same as enqueue: inline there is nothing to save."""
        self.enqueue(func, *args, job_id=job_id, queue=queue)

    def enqueue_at(self, when: datetime, func: str, *args: Any, job_id: str,
                   queue: str = "scheduled") -> None:
        """Keep no timer: the durable record is the schedule, and `flask run-due` runs it.

        Without Redis there is no process that outlives a request to wake up later; the
        scheduled rows in the database are what survives, so nothing is lost by not holding
        a timer here.
        """
        log.debug("inline queue: %s at %s left to the run-due sweep", job_id, when)

    def defer(self) -> None:
        """Collect jobs instead of running them (called at the start of a request)."""
        self._local.pending = []

    def flush(self) -> None:
        """Run the collected jobs (called once the response has been sent)."""
        pending = getattr(self._local, "pending", None) or []
        self._local.pending = None
        for func, args, job_id in pending:
            self._run(func, args, job_id)

    def _run(self, func: str, args: tuple[Any, ...], job_id: str) -> None:
        try:
            _resolve(func)(self.runtime, *args)
        except Exception:  # the inbox keeps the event; the sweep retries it
            log.exception("inline job failed", extra={"job_id": job_id})

    def ping(self) -> bool:
        """Inline needs no backend."""
        return True


class RedisQueue:
    """RQ queues on one Redis connection."""

    def __init__(self, url: str) -> None:
        from redis import Redis

        self.url = url
        self.redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._queues: dict[str, Any] = {}

    def rq_queue(self, name: str):  # noqa: ANN201 - rq.Queue, imported lazily
        """The rq.Queue of that name."""
        from rq import Queue

        rq_queue = self._queues.get(name)
        if rq_queue is None:
            rq_queue = self._queues[name] = Queue(name, connection=self.redis)
        return rq_queue

    @staticmethod
    def _retry():  # noqa: ANN205 - rq.Retry, imported lazily
        from rq import Retry

        return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)

    def _once(self, job_id: str, put: Callable[..., Any]) -> None:
        """Run `put(retry=…)` unless a job with that id is still waiting or running.

        A finished or failed job's id may run again: the sweep re-enqueues what a failed job
        left unprocessed, and a wake-up may be needed again; every job is safe to run twice.
        """
        from rq.exceptions import DuplicateJobError
        from rq.job import Job, JobStatus

        retry = self._retry()
        for _ in range(2):
            try:
                put(retry=retry)
                return
            except DuplicateJobError:
                try:
                    existing = Job.fetch(job_id, connection=self.redis)
                except Exception:  # noqa: BLE001 - expired between the two calls: try again
                    continue
                if existing.get_status() not in (JobStatus.FINISHED, JobStatus.FAILED,
                                                  JobStatus.STOPPED, JobStatus.CANCELED):
                    return
                existing.delete()

    def enqueue(self, func: str, *args: Any, job_id: str, queue: str = "webhooks") -> None:
        """Enqueue under a unique id, with retries; a no-op while that id waits or runs."""
        rq_queue = self.rq_queue(queue)
        self._once(job_id, lambda retry: rq_queue.enqueue_call(
            func, args=args, job_id=job_id, unique=True, result_ttl=3600,
            failure_ttl=7 * 24 * 3600, retry=retry))

    def enqueue_new(self, func: str, *args: Any, job_id: str, queue: str = "webhooks") -> None:
        """Enqueue in one round trip, without the uniqueness check (a Lua script and a second
        round trip): nothing can hold the id of a row that was inserted a moment ago.

        The webhook path enqueues this way (bench/ingest.py measures it); the inbox sweep
        uses `enqueue`, so a job it races with is never doubled.
        """
        with self.redis.pipeline() as pipe:
            self.rq_queue(queue).enqueue_call(
                func, args=args, job_id=job_id, result_ttl=3600, failure_ttl=7 * 24 * 3600,
                retry=self._retry(), pipeline=pipe)
            pipe.execute()

    def enqueue_at(self, when: datetime, func: str, *args: Any, job_id: str,
                   queue: str = "scheduled") -> None:
        """Put the job in RQ's scheduled registry for `when`; a worker started with
        `--with-scheduler` moves it to the queue then. The same job id twice is one job.

        The registry lives in Redis, not in any worker, so restarting workers loses nothing.
        """
        rq_queue = self.rq_queue(queue)
        self._once(job_id, lambda retry: rq_queue.enqueue_at(
            when.replace(tzinfo=UTC), func, *args, job_id=job_id, unique=True,
            result_ttl=3600, failure_ttl=7 * 24 * 3600, retry=retry))

    def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(self.redis.ping())
        except Exception:  # noqa: BLE001 - any failure means unreachable
            return False


def make_queue(redis_url: str | None) -> JobQueue:
    """RQ when REDIS_URL is set, inline otherwise (the demo)."""
    return RedisQueue(redis_url) if redis_url else InlineQueue()
