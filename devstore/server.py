"""Serving a WSGI app on 127.0.0.1 and an OS-chosen port, in a thread, with a clean stop."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """The dev server's per-request log lines would drown test output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Say nothing about successful requests."""


class BackgroundServer:
    """werkzeug's threaded server in a daemon thread; stop() joins every request thread."""

    def __init__(self, wsgi_app: Any, host: str = "127.0.0.1", port: int = 0):
        """Remember what to serve; nothing listens until start()."""
        self.wsgi_app = wsgi_app
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """http://host:port of the running server."""
        if self._server is None:
            raise RuntimeError("server is not running")
        return f"http://{self.host}:{self._server.port}"

    def start(self) -> str:
        """Bind the port (0: the OS picks a free one), serve in a thread, return the base URL."""
        if self._server is not None:
            return self.url
        server = make_server(self.host, self.port, self.wsgi_app, threaded=True,
                             request_handler=_QuietHandler)
        # Track request threads so server_close() joins them: nothing outlives stop().
        server.daemon_threads = False  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"devstore-server-{server.port}", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop accepting, finish in-flight requests, close the listening socket."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        thread.join()
        server.server_close()
