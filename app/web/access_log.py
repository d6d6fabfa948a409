"""Access logs that never record a credential a URL carries.

Shopify puts credentials in query strings: the admin's session token (`id_token`), the OAuth
authorization `code`, the `hmac` of install and OAuth links and the app proxy's `signature`.
A log line with them is a replayable credential (a code until it is exchanged, a session token
for a minute, a signed link for its window) in a file many people and tools read. Their values
are replaced by `[redacted]` in every request line, query string, Referer and Location a log
line can show, also when the query is nested percent-encoded in another parameter (App Bridge's
`shopify-reload`).

Two servers log requests: gunicorn in production (`gunicorn.conf.py` sets `RedactingLogger`)
and werkzeug's development server behind `python wsgi.py` and the demo (`RedactingRequestHandler`).
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger
from werkzeug.serving import WSGIRequestHandler

SECRET_PARAMETERS = ("id_token", "code", "hmac", "signature")
REDACTED = "[redacted]"

# A parameter starts the text or follows `?`, `&` or `;`, raw or percent-encoded once; its
# value runs to the next separator, whitespace, quote or terminal escape.
_SECRET = re.compile(
    r"(?P<lead>^|[?&;]|%3F|%26|%3B)(?P<name>" + "|".join(SECRET_PARAMETERS) + r")"
    r"(?P<eq>=|%3D)(?P<value>(?:(?!%26|%3B)[^&;\s\"'\x1b#])*)",
    re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the value of every credential parameter replaced by `[redacted]`."""
    return _SECRET.sub(lambda m: f"{m['lead']}{m['name']}{m['eq']}{REDACTED}", text)


def _redacted(value: Any) -> Any:
    """Strings redacted, anything else as it is."""
    return redact(value) if isinstance(value, str) else value


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler whose log lines (requests and errors) are redacted."""

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's name
        """Log as werkzeug does, credentials redacted."""
        super().log(type, message, *(_redacted(arg) for arg in args))


class RedactingLogger(Logger):
    """gunicorn's logger whose access-log atoms (request line, query, headers, environ) are
    redacted, whatever `access_log_format` picks from them."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """gunicorn's atoms with every string value redacted."""
        return {key: _redacted(value)
                for key, value in super().atoms(resp, req, environ, request_time).items()}
