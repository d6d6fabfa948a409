"""`shopify app dev`'s background process: the production `rq worker` on the app's own settings.

The Shopify CLI runs a web's command without a shell, in the folder of its shopify.web.toml
(this one), with only its own variables added to the environment. So nothing can expand
$REDIS_URL, and `rq worker` alone would read RQ_REDIS_URL and ignore the app's REDIS_URL and
.env. This entry reads the settings the way the web process does, moves to the repository root
(the app's defaults, like sqlite:///instance/loyalty.db, are relative to it) and then becomes
`rq worker` with the queues of design.md §5, as the README runs it in production:
app.pipeline.rq_worker.Worker, RQ's SimpleWorker (the default worker forks a work horse that
re-imports the app for every job: 4.3 against 185 events/s with 2 workers,
bench/results/processing.json) whose scheduler stops when the worker dies.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUEUES = ("webhooks", "default", "scheduled")


def rq_worker_argv(redis_url: str, rq_executable: str) -> list[str]:
    """The `rq worker` command line for the app's queues, scheduler included."""
    return [rq_executable, "worker", "-w", "app.pipeline.rq_worker.Worker", "--url", redis_url,
            "--path", str(ROOT), "--with-scheduler", *QUEUES]


def main() -> None:
    """Replace this process with `rq worker`, or idle when jobs run inline (no REDIS_URL)."""
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from dotenv import load_dotenv

    load_dotenv(ROOT / ".env", override=False)
    from app.config import load_settings

    settings = load_settings()
    if not settings.redis_url:
        # The CLI treats a background process that exits as a failed dev session; without
        # Redis the web process runs jobs itself, so this one only waits to be stopped.
        print("REDIS_URL is not set: the web process runs jobs inline; no worker needed.",
              flush=True)
        signal.pause()
        return
    rq = str(Path(sys.executable).with_name("rq"))
    os.execv(rq, rq_worker_argv(settings.redis_url, rq))


if __name__ == "__main__":
    main()
