"""The test run fails when a process a test started outlives it (tests/support/process_guard.py).

Each case runs a small pytest session of its own with the guard, in a subprocess, and looks at
its outcome and at what is left running afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_session(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """pytest with the guard on one test file holding `body`."""
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "tests.support.process_guard", "--rootdir", str(tmp_path), str(test_file)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def _running(tag: str) -> list[int]:
    """Processes whose command line holds `tag`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and tag in (entry / "cmdline").read_bytes().decode(
                    errors="replace") and (entry / "stat").read_text().split(") ")[1][0] != "Z":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_run_whose_test_leaves_a_child_or_an_orphan_running_fails_and_they_are_killed(
        tmp_path):
    tag = f"leak-{uuid.uuid4().hex}"
    result = _run_session(tmp_path, f'''
        import subprocess, sys, time

        SLEEP = [sys.executable, "-c", "import time; time.sleep(120)", "{tag}-child"]
        ORPHAN = [sys.executable, "-c",
                  "import subprocess, sys; subprocess.Popen([sys.executable, '-c', "
                  "'import time; time.sleep(120)', '{tag}-orphan'], start_new_session=True)"]

        def test_starts_a_worker_and_forgets_it():
            subprocess.Popen(SLEEP, start_new_session=True)

        def test_starts_something_that_leaves_an_orphan():
            subprocess.run(ORPHAN, check=True)  # its parent exits; init adopts the sleeper
            time.sleep(0.5)
    ''')
    assert result.returncode != 0, result.stdout
    assert "2 passed" in result.stdout
    assert "were still running at the end of the session (now killed)" in result.stdout
    assert f"{tag}-child" in result.stdout and f"{tag}-orphan" in result.stdout
    deadline = time.monotonic() + 5
    while _running(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _running(tag) == []


def test_a_run_whose_tests_stop_what_they_started_passes(tmp_path):
    result = _run_session(tmp_path, '''
        import subprocess, sys

        def test_starts_and_stops_a_process():
            process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            process.terminate()
            process.wait()
    ''')
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
