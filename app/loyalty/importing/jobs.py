"""The import's background job: a slice of chunks per job, then the next job.

A job applies chunks for at most JOB_SECONDS and enqueues the next one, so no RQ job runs
near its timeout whatever the file's size, and a worker restart loses at most one chunk's
transaction (the run's resume point is committed with every chunk).
"""

from __future__ import annotations

import logging

from app import runtime as runtime_module
from app.db import utcnow
from app.loyalty.importing.runs import apply_run
from app.queueing import JobQueue, enqueue_or_leave_to_sweep

log = logging.getLogger(__name__)

JOB_SECONDS = 60.0
JOB = "app.loyalty.importing.jobs.import_members"


def enqueue_import(queue: JobQueue, run_id: int, next_chunk: int) -> bool:
    """Queue the run's next slice (job id per resume point: a slice is queued once)."""
    return enqueue_or_leave_to_sweep(queue, JOB, run_id, job_id=f"import-{run_id}-{next_chunk}",
                                     queue_name="default")


def import_members(run_id: int) -> str:
    """Apply the run's chunks for up to JOB_SECONDS; queue the rest."""
    rt = runtime_module.current()
    state = apply_run(rt.db, run_id, utcnow, budget_seconds=JOB_SECONDS)
    if state == "importing":
        from app.loyalty.importing.runs import run_state

        enqueue_import(rt.queue, run_id, run_state(rt.db, run_id).next_chunk)
    log.info("import run %s: %s", run_id, state)
    return state
