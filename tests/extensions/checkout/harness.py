"""What the checkout extension tests need: the CLI build, and one origin for the real app.

The bundles inline SHOPIFY_APP_URL when `shopify app build` runs, so the session builds them
once for an `AppSlot`: a loopback origin on a free port where each test mounts the real Flask
app it runs (its own database, its own Shopify emulator). The browser then renders the BUILT
bundles against the real /api/checkout/* from another origin, CORS preflights included.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.conftest import SERVICES_REQUIRED
from tests.faults.processes import kill_group

REPO_ROOT = Path(__file__).resolve().parents[3]
SHOPIFY_CLI = REPO_ROOT / "node_modules" / ".bin" / "shopify"
TSC = REPO_ROOT / "node_modules" / ".bin" / "tsc"
# Debian's Chromium, never a browser downloaded by `playwright install`.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TEST_OUTPUT = REPO_ROOT / "test-output"

# handle -> extension folder; the bundle is <folder>/dist/<handle>.js.
EXTENSIONS = {"loyalty-thank-you": "thank-you", "loyalty-order-status": "order-status",
              "loyalty-account": "account-page", "loyalty-account-profile": "account-profile",
              "loyalty-checkout-rewards": "checkout-rewards", "loyalty-pos": "pos-loyalty"}
# Shopify rejects UI extension bundles over 64 KB compressed (API 2025-10+); ours aim lower.
SHOPIFY_COMPRESSED_LIMIT = 64 * 1024
OUR_COMPRESSED_BUDGET = 20 * 1024
BUILD_TIMEOUT_S = 180
BUILD_ERROR_GRACE_S = 10
# What the CLI prints when something failed, even when it then exits 0 or hangs.
BUILD_ERROR_MARKERS = re.compile(r"\[ERROR\]|\[error\]|─ error ─|Error:|✘|❌")


def require_tool(tool: str, reason: str) -> None:
    """Skip when a developer machine lacks the tool; fail in CI, where it must be installed."""
    message = f"{tool} unavailable: {reason}"
    if SERVICES_REQUIRED:
        pytest.fail(message + " (CI/REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(message)


def require_node_modules() -> None:
    """The repository's npm workspace must be installed (`npm ci` at the root)."""
    if not os.access(SHOPIFY_CLI, os.X_OK) or not os.access(TSC, os.X_OK):
        require_tool("node_modules", "run `npm ci` at the repository root")


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class AppSlot:
    """One loopback origin for the whole session, where each test mounts the app it runs.

    Every request is recorded (method, path, query, Authorization, Origin, JSON body), so tests
    can see the preflights and the exact calls the bundles made.
    """

    url: str = ""
    app: WSGIApp | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def mount(self, app: WSGIApp) -> Iterator[None]:
        """Serve `app` here for the `with` block."""
        with self.lock:
            self.app, self.received = app, []
        try:
            yield
        finally:
            with self.lock:
                self.app = None

    def requests_to(self, method: str, path: str) -> list[dict[str, Any]]:
        """The recorded requests with this method and path."""
        with self.lock:
            return [r for r in self.received if r["method"] == method and r["path"] == path]

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]
             ) -> Iterable[bytes]:
        """Record the request, then hand it to the mounted app (503 while none is)."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        # The app reads the body again from the start.
        environ["wsgi.input"] = io.BytesIO(body)
        request = Request(environ)
        record = {"method": request.method, "path": request.path,
                  "query": request.query_string.decode("latin-1"),
                  "authorization": request.headers.get("Authorization"),
                  "origin": request.headers.get("Origin"),
                  "json": json.loads(body) if body.startswith(b"{") else None}
        with self.lock:
            self.received.append(record)
            app = self.app
        if app is None:
            return Response("no app mounted", status=503)(environ, start_response)
        return app(environ, start_response)


@dataclass(frozen=True)
class Build:
    """One `shopify app build` run: its exit code, its output, and whether it ran offline."""

    returncode: int | None
    output: str
    offline: bool

    def bundle(self, handle: str) -> Path:
        """The built JavaScript of one UI extension."""
        return REPO_ROOT / "extensions" / EXTENSIONS[handle] / "dist" / f"{handle}.js"


def _network_namespace_available() -> bool:
    """Whether `unshare -n` works here (root or user namespaces): then builds run offline."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


def run_shopify_build(app_url: str) -> Build:
    """`shopify app build` as CI and deploys run it, without network when the host allows.

    The CLI has been seen to print an esbuild error and then hang instead of exiting, so an
    error line gives it a short grace period before it is stopped (returncode None).
    """
    offline = _network_namespace_available()
    command = [str(SHOPIFY_CLI), "app", "build", "--skip-dependencies-installation"]
    if offline:
        command = ["unshare", "-n", *command]
    env = {**os.environ, "SHOPIFY_APP_URL": app_url, "SHOPIFY_CLI_NO_ANALYTICS": "1",
           "NO_COLOR": "1", "FORCE_COLOR": "0"}
    lines: list[str] = []
    error_seen = threading.Event()
    # Its own process group: a stopped CLI's esbuild and node children go with it.
    with subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          start_new_session=True) as process:

        def collect() -> None:
            """Keep every output line; flag the first error line."""
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if BUILD_ERROR_MARKERS.search(line):
                    error_seen.set()

        reader = threading.Thread(target=collect, daemon=True)
        reader.start()
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while process.poll() is None and time.monotonic() < deadline:
            if error_seen.wait(timeout=0.2):
                deadline = min(deadline, time.monotonic() + BUILD_ERROR_GRACE_S)
        returncode = process.poll()
        if returncode is None:
            process.kill()
            process.wait()
        kill_group(process.pid)
        reader.join(timeout=10)
    return Build(returncode, "".join(lines), offline)


def compressed_size(data: bytes) -> int:
    """Deflate size, the measure of Shopify's 64 KB UI extension limit."""
    return len(zlib.compress(data))


@contextmanager
def served_on_loopback(host: Any) -> Iterator[Any]:
    """Serve `host.wsgi` on a free loopback port (its origin in `host.url`) while the block runs."""
    server = make_server("127.0.0.1", 0, host.wsgi, threaded=True)
    host.url = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
