"""Email templates: one HTML and one plain-text Jinja2 template per kind, in app/templates/emails;
the subject is the flow's own (app/engagement/flows.Flow.subject). Shopper emails are in the
recipient's language (`lang` in the context: app/i18n, app/locales/*.json); the merchant's
detractor alert is in English, as the admin is.

Rendered without Flask (workers have no app context). HTML is autoescaped; the text part is
not (it is never interpreted). StrictUndefined makes a missing value an error in tests, not a
blank in a shopper's inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.engagement.flows import subject_of

EMAIL_TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "emails"


@dataclass(frozen=True)
class RenderedEmail:
    """The three parts a message is made of."""

    subject: str
    text: str
    html: str


@cache
def _environment(autoescape: bool) -> Environment:
    """One Jinja2 environment per escaping mode, loaded once per process."""
    return Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",)) if autoescape else False,
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_email(kind: str, context: dict[str, Any], *,
                 subject: str | None = None) -> RenderedEmail:
    """Subject, plain text and HTML of one message kind for this context.

    `subject`: the merchant's own subject for the flow (engagement.flows.<name>.subject), used
    as it is written, never as a template (a merchant's text must not run template code)."""
    template = subject_of(kind)
    subject = " ".join((subject if subject is not None
                        else _environment(False).from_string(template).render(context)).split())
    text = _environment(False).get_template(f"{kind}.txt").render(context)
    # The subject is also the HTML document's title, which screen readers announce first.
    html = _environment(True).get_template(f"{kind}.html").render({**context, "subject": subject})
    return RenderedEmail(subject, text, html)


def build_email(rendered: RenderedEmail, *, sender: str, sender_name: str, recipient: str,
                message_id: str, reply_to: str | None = None,
                unsubscribe_url: str | None = None) -> EmailMessage:
    """A multipart/alternative email with the one-click unsubscribe headers (RFC 8058)."""
    # RFC 5322 allows 998-character lines: a long List-Unsubscribe URL must stay a plain <URL>,
    # which the default 78-character folding would turn into an encoded word clients ignore.
    email = EmailMessage(policy=policy.default.clone(max_line_length=998))
    email["Subject"] = rendered.subject
    email["From"] = formataddr((sender_name, sender))
    email["To"] = recipient
    email["Date"] = formatdate(localtime=False)
    # Stable per message: a resend after a crash is recognisably the same email.
    email["Message-ID"] = message_id
    if reply_to:
        email["Reply-To"] = reply_to
    if unsubscribe_url:
        email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    return email
