"""Email delivery: SMTP from `SMTP_URL`, or an outbox folder of .eml files in development.

`SMTP_URL` is `smtp://[user:password@]host[:port][?starttls=1&from=rewards@example.com]` or
`smtps://…` for implicit TLS. A refused recipient is a permanent failure; a connection or
server error is transient (the dispatcher retries it later).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from app.config import Settings


class MailError(Exception):
    """A message could not be handed over; `transient` when trying again may work."""

    def __init__(self, message: str, *, transient: bool) -> None:
        """Remember whether a retry makes sense."""
        super().__init__(message)
        self.transient = transient


class Mailer(Protocol):
    """Something that delivers a finished email."""

    sender: str

    def send(self, email: EmailMessage) -> None:
        """Hand the email over, or raise MailError."""


@dataclass
class SmtpMailer:
    """Delivers through an SMTP server, one connection per message."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str, default_sender: str) -> SmtpMailer:
        """Parse `smtp://…` or `smtps://…`."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(host=parts.hostname, port=parts.port or (465 if implicit else 25),
                   sender=query.get("from") or default_sender,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   implicit_tls=implicit,
                   starttls=query.get("starttls", "").lower() in ("1", "true", "yes"))

    def send(self, email: EmailMessage) -> None:
        """Deliver one email; MailError tells a refused recipient from an unreachable server."""
        try:
            if self.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout,
                    context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"recipient refused: {exc}", transient=False) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server's final word on this message; 4xx means "later".
            raise MailError(f"smtp {exc.smtp_code}", transient=exc.smtp_code < 500) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"smtp unavailable: {type(exc).__name__}", transient=True) from exc


@dataclass
class OutboxMailer:
    """Development without SMTP: each email becomes a .eml file to open in any mail client."""

    folder: Path
    sender: str

    def send(self, email: EmailMessage) -> None:
        """Write the email to the outbox folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = (email["Message-ID"] or "message").strip("<>").replace("@", "_").replace("/", "_")
        (self.folder / f"{name}.eml").write_bytes(bytes(email))


def default_sender(settings: Settings) -> str:
    """rewards@ the app's host: the address emails come from unless SMTP_URL says `from=`."""
    host = urlsplit(settings.shopify_app_url).hostname or "localhost"
    return f"rewards@{host}"


def mailer_for(settings: Settings) -> Mailer | None:
    """SMTP when SMTP_URL is set; an outbox folder outside production; else None (not sent)."""
    sender = default_sender(settings)
    if settings.smtp_url:
        return SmtpMailer.from_url(settings.smtp_url, sender)
    if settings.is_production:
        return None
    return OutboxMailer(Path(settings.extra.get("OUTBOX_DIR", "instance/outbox")), sender)
