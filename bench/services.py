"""The processes a benchmark runs against: gunicorn serving wsgi:app, RQ workers, databases.

Everything listens on 127.0.0.1 only. PostgreSQL and Redis are the machine's own services,
reached through BENCH_DATABASE_URL (default the `bench` database) and BENCH_REDIS_URL
(default Redis db 7); each benchmark works in its own schema of that database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text

from app.config import DEV_ENCRYPTION_KEY
from app.db import Database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                                    "postgresql://postgres@127.0.0.1:5432/bench")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
DATABASE_NAME = BENCH_DATABASE_URL.rsplit("/", 1)[-1].split("?", 1)[0]
API_KEY = "loyalty-loop-bench-client-id"
API_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
# Small schemas that each run empties, and one that keeps the large seeded data between runs.
WORK_SCHEMA = "bench_work"
SEEDED_SCHEMA = "bench_seeded"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that the OS just handed out."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def schema_url(schema: str, base: str = BENCH_DATABASE_URL) -> str:
    """The database URL with its search_path set to `schema` (the app and Alembic follow it)."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


def ensure_database(base: str = BENCH_DATABASE_URL) -> None:
    """Create the benchmark database on a fresh machine, which has only `test` (and
    `postgres`, the maintenance database every PostgreSQL cluster has)."""
    from sqlalchemy.engine import make_url

    target = make_url(base)
    maintenance = Database(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        with maintenance.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": target.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        maintenance.dispose()


def ensure_schema(schema: str, base: str = BENCH_DATABASE_URL) -> str:
    """Create the database and schema if needed, migrate it to head; returns its URL."""
    from app.migrate import upgrade_head

    ensure_database(base)
    admin = Database(base)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        admin.dispose()
    url = schema_url(schema, base)
    upgrade_head(url)
    return url


def truncate_all(db: Database) -> None:
    """Empty every application table of the database's schema."""
    from app.db import Base

    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def flush_redis(url: str = BENCH_REDIS_URL) -> None:
    """Empty the benchmark's Redis database."""
    from redis import Redis

    conn = Redis.from_url(url)
    try:
        conn.flushdb()
    finally:
        conn.close()


def app_environment(database_url: str, redis_url: str | None = BENCH_REDIS_URL,
                    **extra: str) -> dict[str, str]:
    """The environment a production process of the app would get, pointed at bench services."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "SHOPIFY_", "APP_ENV"))}
    env.update(APP_ENV="production", DATABASE_URL=database_url,
               SHOPIFY_API_KEY=API_KEY, SHOPIFY_API_SECRET=API_SECRET,
               TOKEN_ENCRYPTION_KEY=DEV_ENCRYPTION_KEY, SHOPIFY_APP_URL="https://bench.invalid",
               SECRET_KEY="bench-flask-secret", PYTHONPATH=str(ROOT))
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def _wait_for_http(port: int, path: str, deadline_s: float, process: subprocess.Popen) -> None:
    """Poll until GET path answers 200, or fail when the process dies or time runs out."""
    import http.client

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {deadline_s} s")


class Gunicorn:
    """gunicorn serving wsgi:app (plus /bench/trivial) on a free port of 127.0.0.1."""

    def __init__(self, env: Mapping[str, str], *, workers: int = 4, worker_class: str = "sync",
                 threads: int = 1, access_log: Path | None = None) -> None:
        """Configure; nothing starts before start()."""
        self.env = dict(env)
        if access_log is not None:
            self.env["BENCH_ACCESS_LOG"] = str(access_log)
        self.port = free_port()
        self.args = [str(BIN / "gunicorn"), "-c", str(ROOT / "bench" / "gunicorn_conf.py"),
                     "-w", str(workers), "-k", worker_class, "--threads", str(threads),
                     "-b", f"127.0.0.1:{self.port}", "wsgi:app"]
        self.process: subprocess.Popen | None = None

    @property
    def command(self) -> str:
        """The command line, as a person would type it."""
        return " ".join(["gunicorn", *self.args[1:]]).replace(str(ROOT) + "/", "")

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start and wait until every route answers; returns the URL."""
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL)
        try:
            _wait_for_http(self.port, "/bench/trivial", 30, self.process)
        except BaseException:
            # A server that never became ready (its workers failing to boot, say) must not
            # outlive the benchmark: gunicorn would keep respawning them.
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Gunicorn:
        """Start on entry."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop on exit."""
        self.stop()


class RQWorkers:
    """`rq worker` processes, as production runs them (one forked work horse per job)."""

    def __init__(self, env: Mapping[str, str], count: int, *,
                 queues: Sequence[str] = ("webhooks",), worker_class: str | None = None,
                 config: str | None = None, burst: bool = False) -> None:
        """Configure `count` workers; nothing starts before start()."""
        self.env = dict(env)
        args = [str(BIN / "rq"), "worker", "-u", self.env["REDIS_URL"], "-q"]
        if worker_class:
            args += ["-w", worker_class]
        if config:
            args += ["-c", config]
        if burst:
            args.append("--burst")
        self.args = [*args, *queues]
        self.count = count
        self.processes: list[subprocess.Popen] = []

    @property
    def command(self) -> str:
        """One worker's command line."""
        return " ".join(["rq", *self.args[1:]])

    def start(self) -> None:
        """Start every worker."""
        for _ in range(self.count):
            self.processes.append(subprocess.Popen(self.args, cwd=ROOT, env=self.env,
                                                   stdout=subprocess.DEVNULL))

    def wait(self, timeout: float) -> None:
        """Wait for burst workers to finish."""
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))

    def stop(self) -> None:
        """Warm shutdown (SIGTERM: finish the current job), then SIGKILL stragglers."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def __enter__(self) -> RQWorkers:
        """Start on entry."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop on exit."""
        self.stop()


@contextmanager
def database(url: str) -> Iterator[Database]:
    """A Database for the benchmark process itself, disposed afterwards."""
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
