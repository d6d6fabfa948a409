"""The RQ worker the README runs: `rq worker -w app.pipeline.rq_worker.Worker --with-scheduler …`.

RQ's SimpleWorker (jobs run in the worker process: no fork and no app import per job) whose
scheduler cannot outlive it. With `--with-scheduler`, RQ forks the scheduler as a child of the
worker, and nothing in that child notices when the worker dies: after a SIGKILL or an OOM kill
it lives on re-parented, holding the scheduler lock and moving scheduled jobs with the code it
was started with. Every child this worker forks asks Linux to send it SIGTERM when the worker
dies (`PR_SET_PDEATHSIG`), which RQ's scheduler handles as a warm stop (it releases its lock).
A warm stop of the worker (SIGTERM) is RQ's own: it finishes the job, then stops its scheduler.

The worker builds the process's runtime (settings, database, queue) from the environment
before its first job, so a misconfigured worker fails at start; the jobs act on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from typing import Any

from rq.worker import SimpleWorker

from app.pipeline import runtime

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


class Worker(SimpleWorker):
    """SimpleWorker whose forked children (its scheduler) get SIGTERM when it dies."""

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Build the runtime, then work as SimpleWorker does, with the death signal set up
        for every fork."""
        runtime.current()
        worker_pid = os.getpid()
        os.register_at_fork(
            after_in_child=lambda: _ask_for_sigterm_when_parent_dies(worker_pid))
        return super().work(*args, **kwargs)
