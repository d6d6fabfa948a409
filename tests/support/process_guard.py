"""No process a test started may outlive the test run (a pytest plugin, tests/conftest.py).

A leaked `rq worker --with-scheduler` on the test Redis takes the next run's scheduled jobs, and
a leaked server holds its port. Every process the suite starts inherits RUN_MARKER in its
environment, so a leftover is found even when its parent died and it was re-parented to init
(an RQ scheduler whose worker was SIGKILLed): at the end of the session the guard looks for
living descendants of pytest and for any process carrying this run's marker, gives them a
moment to finish exiting, then kills them (they are ours) and fails the session, naming them.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

RUN_MARKER = "LOYALTY_LOOP_TEST_RUN"
# Processes that are being stopped get this long to be gone before they count as leaked.
GRACE_SECONDS = 5.0


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name; None if gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def descendants(root: int) -> set[int]:
    """Living processes below `root` (children, grandchildren, …)."""
    parents = {}
    for pid in _pids():
        fields = _stat(pid)
        if fields is not None:
            parents[pid] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def carrying(marker: str) -> set[int]:
    """Living processes whose environment holds this run's marker (orphans included)."""
    needle = b"\0" + f"{RUN_MARKER}={marker}".encode() + b"\0"
    found = set()
    for pid in _pids():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if needle in b"\0" + environ + b"\0" and _stat(pid) is not None:
            found.add(pid)
    return found


def leftovers(marker: str) -> set[int]:
    """Processes of this run still alive, other than pytest itself."""
    return (descendants(os.getpid()) | carrying(marker)) - {os.getpid()}


def describe(pid: int) -> str:
    """`pid: command line` for the failure message."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace").strip()
    except OSError:
        command = "?"
    return f"{pid}: {command[:300]}"


def check_no_leftovers(marker: str, grace: float = GRACE_SECONDS) -> list[str]:
    """Wait up to `grace` for this run's processes to go; kill and describe the rest."""
    deadline = time.monotonic() + grace
    left = leftovers(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = leftovers(marker)
    described = [describe(pid) for pid in sorted(left)]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return described


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_run() -> Iterator[None]:
    """Mark every process this run starts; fail the session if any is still alive at its end."""
    # A fresh marker even inside another run: a nested pytest checks only what it started.
    marker = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    os.environ[RUN_MARKER] = marker
    yield
    leaked = check_no_leftovers(marker)
    if leaked:
        pytest.fail("processes started by the tests were still running at the end of the "
                    "session (now killed):\n" + "\n".join(leaked), pytrace=False)
