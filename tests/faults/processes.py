"""Real processes for fault tests: RQ workers, gunicorn, a throwaway Redis and PostgreSQL.

Each helper starts what it owns on 127.0.0.1 and an OS-chosen port, and stops exactly the
processes it started (by pid, never by name). Each starts in a process group of its own, so
what it forks stays findable after it died (an RQ scheduler whose worker was SIGKILLed is
re-parented to init, but keeps its group) and is killed with it. The machine's shared PostgreSQL
and Redis are never stopped: outages are played on throwaway instances.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that the OS just handed out."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    """Poll check() until it returns something truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid: int) -> list[int]:
    """Living direct children of a process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    """Every living process below `pid`, children first."""
    found, frontier = [], [pid]
    while frontier:
        kids = [kid for parent in frontier for kid in children(parent)]
        found.extend(kids)
        frontier = kids
    return found


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def kill_pids(pids: Sequence[int], sig: int = signal.SIGKILL) -> None:
    """Signal each pid we started (already gone is fine)."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def kill_group(leader: int) -> None:
    """SIGKILL what is left of the process group a helper started (`start_new_session=True`
    makes the started process its leader, its pid the group's id)."""
    try:
        os.killpg(leader, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_process(process: subprocess.Popen, timeout: float = 10,
                 sig: int = signal.SIGTERM) -> None:
    """Signal (SIGTERM: graceful), wait, then SIGKILL it and anything it left behind: its
    descendants and its process group."""
    leftovers = descendants(process.pid)
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    kill_group(process.pid)
    kill_pids([pid for pid in leftovers if alive(pid)])


def app_environment(database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    """Environment for a worker or server process of the app, with the test credentials."""
    from tests.conftest import TEST_API_KEY, TEST_API_SECRET

    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV", "SHOPIFY_API_KEY",
                        "SHOPIFY_API_SECRET", "SHOPIFY_OLD_API_SECRET", "SHOPIFY_ADMIN_BASE")}
    env.update(DATABASE_URL=database_url, SHOPIFY_API_KEY=TEST_API_KEY,
               SHOPIFY_API_SECRET=TEST_API_SECRET, SHOPIFY_APP_URL="https://loyalty.test",
               APP_ENV="test", PYTHONPATH=str(ROOT))
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


class RQWorker:
    """One `rq worker` process.

    fork=True is RQ's default worker for the app's jobs (app.pipeline.rq_worker.ForkingWorker):
    a work horse forked per job (which also imports the app per job, so it is slow).
    fork=False is the README's app.pipeline.rq_worker.Worker, RQ's SimpleWorker: jobs run in
    the worker process itself, so a job that crashed would take it down.
    """

    def __init__(self, env: Mapping[str, str], *, queues: Sequence[str] = ("webhooks",),
                 scheduler: bool = True, burst: bool = False, fork: bool = False,
                 extra_args: Sequence[str] = ()):
        """Configure; start() launches it."""
        args = [str(BIN / "rq"), "worker", "-u", env["REDIS_URL"], "-q", *extra_args]
        args += ["-w", "app.pipeline.rq_worker." + ("ForkingWorker" if fork else "Worker")]
        if scheduler:
            # RQ schedules a job's retries; only a worker with a scheduler enqueues them.
            args.append("--with-scheduler")
        if burst:
            args.append("--burst")
        self.args = [*args, *queues]
        self.env = dict(env)
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        """The worker's own pid."""
        assert self.process is not None
        return self.process.pid

    def start(self) -> RQWorker:
        """Launch the worker process."""
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        return self

    def horse(self) -> int | None:
        """The work horse running a job now: the child RQ put in its own process group."""
        for pid in children(self.pid):
            fields = _stat(pid)
            if fields and int(fields[2]) == pid:
                return pid
        return None

    def running(self) -> bool:
        """Whether the worker process is still alive."""
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout: float) -> int:
        """Wait for a burst worker to finish; its exit status."""
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def kill_everything(self) -> None:
        """SIGKILL the worker and all it started, as an OOM kill or a lost machine would."""
        assert self.process is not None
        family = descendants(self.pid)
        self.process.kill()
        self.process.wait()
        kill_group(self.pid)
        kill_pids(family)

    def stop(self) -> None:
        """Warm shutdown, then make sure nothing of it is left."""
        if self.process is not None:
            stop_process(self.process, timeout=15)


class Gunicorn:
    """gunicorn serving the production entry point wsgi:app."""

    def __init__(self, env: Mapping[str, str], workers: int = 2):
        """Configure; start() launches it."""
        self.port = free_port()
        self.args = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                     "--log-level", "warning", "wsgi:app"]
        self.env = dict(env)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Launch and wait until /healthz answers; returns the URL."""
        import httpx

        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)

        def answers() -> bool:
            """Whether the server answers HTTP yet."""
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.process.returncode}")
            try:
                with httpx.Client(timeout=1) as client:
                    return client.get(self.url + "/healthz").status_code in (200, 503)
            except httpx.HTTPError:
                return False

        wait_until(answers, 30, "gunicorn to answer", step=0.1)
        return self.url

    def stop(self) -> None:
        """Quick shutdown (SIGINT): a test's server has nothing left to finish."""
        if self.process is not None:
            stop_process(self.process, timeout=15, sig=signal.SIGINT)


class ThrowawayRedis:
    """A redis-server of our own, which a test may stop and start again on the same port."""

    def __init__(self) -> None:
        """Pick a port; start() launches it."""
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """redis://127.0.0.1:<port>/0"""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (empty: nothing is persisted) and wait for PONG."""
        from redis import Redis

        assert self.binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        def pong() -> bool:
            """Whether Redis answers PING yet."""
            client = Redis.from_url(self.url, socket_connect_timeout=0.2)
            try:
                return bool(client.ping())
            except Exception:  # noqa: BLE001 - not up yet
                return False
            finally:
                client.close()

        try:
            wait_until(pong, 10, "redis-server to answer")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop it the hard way: whatever it held is gone, as after a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb, if any."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                        else 0)
    return candidates[-1].parent if candidates else None


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own in a temporary directory, stopped and started at will.

    As root it runs as the `postgres` user (initdb refuses root); otherwise as ourselves.
    """

    def __init__(self) -> None:
        """Choose the binaries, a data directory and a port; init() creates the cluster."""
        self.bin = _postgres_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="loyalty-faults-pg-"))
        self.data = self.dir / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def available(self) -> bool:
        """Whether PostgreSQL's server binaries are installed here."""
        return self.bin is not None and (not self.as_user or shutil.which("runuser") is not None)

    @property
    def url(self) -> str:
        """postgresql://postgres@127.0.0.1:<port>/postgres"""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        """Run one of PostgreSQL's programs (as the postgres user when we are root)."""
        assert self.bin is not None
        subprocess.run([*self.as_user, str(self.bin / args[0]), *args[1:]], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def init(self) -> None:
        """initdb with trust authentication for local connections."""
        if self.as_user:
            shutil.chown(self.dir, user="postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start on our port, loopback only, and wait until it accepts connections."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
                   "-c fsync=off -c max_connections=50")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.dir / "server.log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop: `fast` ends every session (rolling back open transactions), `immediate`
        is a crash."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def remove(self) -> None:
        """Stop if running and delete the cluster."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
