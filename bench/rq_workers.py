"""`rq worker -w bench.rq_workers.ForkingWorker`: RQ's default worker (a forked work horse
per job) performing the app's jobs, to compare with the README's SimpleWorker.

The jobs take the runtime that performs them (app/pipeline/rq_worker.py); each work horse
builds its own from the environment before its job, as nothing built in the parent (database
connections) may be shared with a fork.
"""

from __future__ import annotations

from rq.worker import Worker

from app.pipeline.rq_worker import RuntimeWorker


class ForkingWorker(RuntimeWorker, Worker):
    """RQ's forking worker whose jobs get a runtime built in their work horse."""
