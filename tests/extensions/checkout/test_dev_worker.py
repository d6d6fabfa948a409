"""worker/dev_worker.py: what `shopify app dev` starts as the app's background web."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.job import JobStatus

from tests.extensions.checkout.harness import REPO_ROOT
from tests.faults.processes import kill_group

WORKER_DIR = REPO_ROOT / "worker"


@dataclass
class RunningWorker:
    """The worker process, and all it printed once it has been stopped."""

    process: subprocess.Popen[str]
    output: str = ""


@contextmanager
def dev_worker(redis_url: str) -> Iterator[RunningWorker]:
    """Start the worker the way the CLI does (its folder, no shell), stop it on exit."""
    env = {**os.environ, "REDIS_URL": redis_url}
    with subprocess.Popen([sys.executable, "dev_worker.py"], cwd=WORKER_DIR, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True) as process:
        running = RunningWorker(process)
        try:
            yield running
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                running.output, _ = process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                running.output, _ = process.communicate()
            finally:
                # The worker's scheduler is a fork in its process group.
                kill_group(process.pid)


def wait_for(condition: Callable[[], Any], timeout_s: float = 20) -> Any:
    """Poll until condition() is truthy; return its value, or fail after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"still false after {timeout_s} s: {condition}")


def where_jobs_run(runtime: Any) -> tuple[int, str, str | None]:
    """A job as the worker performs the app's (runtime first): where it ran, and the Redis
    of the runtime it was given."""
    return os.getpid(), os.getcwd(), runtime.settings.redis_url


def test_worker_serves_the_app_queues_from_the_repository_root(redis_url: str) -> None:
    """It listens on webhooks, default and scheduled, and runs jobs from the repository root,
    giving them the runtime it built from the app's settings."""
    with Redis.from_url(redis_url) as redis, dev_worker(redis_url):
        (worker,) = wait_for(lambda: Worker.all(connection=redis))
        assert worker.queue_names() == ["webhooks", "default", "scheduled"]
        # The README's production worker: jobs run in the worker process, no fork per job.
        job = Queue("default", connection=redis).enqueue(f"{__name__}.where_jobs_run")
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED)
        assert job.return_value() == (worker.pid, str(REPO_ROOT), redis_url)


def test_worker_runs_its_scheduler_for_jobs_enqueued_for_later(redis_url: str) -> None:
    """`--with-scheduler`: a job scheduled one second ahead runs without another process."""
    with Redis.from_url(redis_url) as redis, dev_worker(redis_url):
        wait_for(lambda: Worker.all(connection=redis))
        job = Queue("scheduled", connection=redis).enqueue_in(
            timedelta(seconds=1), f"{__name__}.where_jobs_run")
        assert job.get_status() == JobStatus.SCHEDULED
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, timeout_s=30)


def test_without_redis_the_worker_waits_quietly_instead_of_failing_the_dev_session() -> None:
    """No REDIS_URL: jobs run inline in the web process, so the worker only waits to be stopped."""
    with dev_worker("") as worker:
        time.sleep(1.5)
        assert worker.process.poll() is None
    assert worker.output == (
        "REDIS_URL is not set: the web process runs jobs inline; no worker needed.\n")
