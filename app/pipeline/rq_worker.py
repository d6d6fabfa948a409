"""The RQ worker the README runs: `rq worker -w app.pipeline.rq_worker.Worker --with-scheduler …`.

RQ's SimpleWorker (jobs run in the worker process: no fork and no app import per job) whose
scheduler cannot outlive it. With `--with-scheduler`, RQ forks the scheduler as a child of the
worker, and nothing in that child notices when the worker dies: after a SIGKILL or an OOM kill
it lives on re-parented, holding the scheduler lock and moving scheduled jobs with the code it
was started with. Every child this worker forks asks Linux to send it SIGTERM when the worker
dies (`PR_SET_PDEATHSIG`), which RQ's scheduler handles as a warm stop (it releases its lock).
A warm stop of the worker (SIGTERM) is RQ's own: it finishes the job, then stops its scheduler.

The worker builds its runtime (settings, database, queue) from the environment before its
first job, so a misconfigured worker fails at start, and performs every job as
`func(runtime, *args)`: the job's stored arguments stay primitive ids, and a job acts on the
runtime of the worker that performs it (a worker built in-process may be given one).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from typing import Any

from rq.job import Job
from rq.worker import SimpleWorker
from rq.worker import Worker as ForkPerJobWorker

from app.config import load_settings
from app.pipeline.runtime import Runtime, build_runtime

# linux/prctl.h
_PR_SET_PDEATHSIG = 1


def _ask_for_sigterm_when_parent_dies(parent_pid: int) -> None:
    """In a freshly forked child: SIGTERM when the forking thread's process dies."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: the worker's own warm stop still stops its scheduler
    if os.getppid() != parent_pid:
        # The worker died between the fork and the prctl: nobody would signal us any more.
        os.kill(os.getpid(), signal.SIGTERM)


class RuntimeJob(Job):
    """An RQ job performed as `func(runtime, *args)` on the runtime its worker set."""

    runtime: Runtime | None = None

    def _execute(self) -> Any:
        if self.runtime is None:
            raise RuntimeError(f"job {self.id} was not given a runtime by its worker")
        return self.func(self.runtime, *self.args, **self.kwargs)


class RuntimeWorker:
    """Mixin for an RQ worker class: its jobs are RuntimeJobs given this worker's runtime,
    built from the environment when none was passed in."""

    runtime: Runtime | None

    def __init__(self, *args: Any, runtime: Runtime | None = None, **kwargs: Any) -> None:
        # `rq worker` passes its --job-class (rq.job.Job unless told); the jobs of this
        # worker need the runtime, so they are always RuntimeJobs.
        super().__init__(*args, **{**kwargs, "job_class": RuntimeJob})  # type: ignore[call-arg]
        self.runtime = runtime

    def ensure_runtime(self) -> Runtime:
        """This worker's runtime, built from the environment on first use."""
        if self.runtime is None:
            self.runtime = build_runtime(load_settings())
        return self.runtime

    def perform_job(self, job: Job, *args: Any, **kwargs: Any) -> bool:
        """Perform the job on this worker's runtime."""
        if isinstance(job, RuntimeJob):
            job.runtime = self.ensure_runtime()
        return super().perform_job(job, *args, **kwargs)  # type: ignore[misc]


class Worker(RuntimeWorker, SimpleWorker):
    """SimpleWorker whose forked children (its scheduler) get SIGTERM when it dies."""

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Build the runtime, then work as SimpleWorker does, with the death signal set up
        for every fork."""
        self.ensure_runtime()
        worker_pid = os.getpid()
        os.register_at_fork(
            after_in_child=lambda: _ask_for_sigterm_when_parent_dies(worker_pid))
        return super().work(*args, **kwargs)


class ForkingWorker(RuntimeWorker, ForkPerJobWorker):
    """RQ's default worker (a work horse forked per job) for the app's jobs: each work horse
    builds its runtime before its job, as nothing built in the parent (database connections)
    may be shared with a fork. The benchmarks and fault tests compare it with Worker."""
