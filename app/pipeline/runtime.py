"""What a job or request needs to act: settings, database and job queue.

Each process builds its own and hands it down: the Flask app keeps its runtime on the app
(`app.extensions["runtime"]`), the RQ worker builds one when it starts and gives it to every
job it performs (app/pipeline/rq_worker.py), and an inline queue gives jobs the runtime it
belongs to. Nothing looks a runtime up from a process-wide global.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings
from app.db import Database, database_for
from app.pipeline.queueing import InlineQueue, JobQueue, make_queue


@dataclass
class Runtime:
    """A process's wiring: one of these per app or worker."""

    settings: Settings
    db: Database
    queue: JobQueue


def build_runtime(settings: Settings, db: Database | None = None) -> Runtime:
    """Wire a runtime from settings; jobs its inline queue runs act on this runtime."""
    queue = make_queue(settings.redis_url)
    runtime = Runtime(settings=settings, db=db or database_for(settings.database_url),
                      queue=queue)
    if isinstance(queue, InlineQueue):
        queue.runtime = runtime
    return runtime
