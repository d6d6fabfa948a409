"""A real SMTP server (aiosmtpd) on a free local port, keeping every email it receives.

    from tests.support.smtp_fixture import smtp_server  # noqa: F401 (fixture)

    def test_something(smtp_server):
        settings = {"smtp_url": smtp_server.url}
        ...
        [email] = smtp_server.to("ada@example.com")
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session


class SmtpTestServer:
    """aiosmtpd's SMTP protocol on an asyncio loop in a thread, bound to 127.0.0.1:0."""

    def __init__(self) -> None:
        """Not listening until start()."""
        self.received: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.refuse: set[str] = set()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        """Accept a recipient unless a test asked for it to be refused."""
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,  # noqa: N802
                          envelope: Envelope) -> str:
        """Keep the parsed email."""
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        with self._lock:
            self.received.append(parsed)
            self.raw.append(raw)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpTestServer:
        """Listen on a port the OS picks; returns once the server accepts connections."""
        ready = threading.Event()

        def serve() -> None:
            """Run the loop in this thread until stop()."""
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(self._loop.create_server(
                lambda: SMTP(self, hostname="smtp.test"), "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="smtp-test-server", daemon=True)
        self._thread.start()
        if not ready.wait(5):
            raise RuntimeError("the SMTP test server did not start")
        return self

    def stop(self) -> None:
        """Close the server and its loop, leaving no socket or thread behind."""

        async def close() -> None:
            """Stop listening and wait for open sessions to end."""
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    @property
    def url(self) -> str:
        """The SMTP_URL that reaches this server."""
        return f"smtp://127.0.0.1:{self.port}?from=rewards@loyalty.test"

    def messages(self) -> list[EmailMessage]:
        """Everything received so far."""
        with self._lock:
            return list(self.received)

    def to(self, address: str) -> list[EmailMessage]:
        """What was received for one address."""
        return [m for m in self.messages() if m["To"] == address]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least `count` emails have arrived (for workers in other processes)."""
        deadline = time.monotonic() + timeout
        while len(self.messages()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages()


def body_text(email: EmailMessage) -> str:
    """The plain-text part of an email, with plain newlines."""
    return email.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def body_html(email: EmailMessage) -> str:
    """The HTML part of an email."""
    return email.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A running SMTP server for this test."""
    server = SmtpTestServer().start()
    yield server
    server.stop()
