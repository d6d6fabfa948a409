"""What a job or request needs to act: settings, database and job queue.

The Flask app installs its runtime; an RQ worker builds one from the environment.
Tests replace it by creating an app with their own settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings, load_settings
from app.db import Database, database_for
from app.pipeline.queueing import JobQueue, make_queue


@dataclass
class Runtime:
    """The process's wiring: one of these per app or worker."""

    settings: Settings
    db: Database
    queue: JobQueue


_current: Runtime | None = None


def build_runtime(settings: Settings, db: Database | None = None) -> Runtime:
    """Wire a runtime from settings."""
    return Runtime(settings=settings, db=db or database_for(settings.database_url),
                   queue=make_queue(settings.redis_url))


def install(runtime: Runtime) -> None:
    """Make this the process's runtime."""
    global _current
    _current = runtime


def current() -> Runtime:
    """The installed runtime: the app's, or the one the RQ worker built from the environment
    when it started (app/pipeline/rq_worker.py)."""
    global _current
    if _current is None:
        _current = build_runtime(load_settings())
    return _current
