"""gunicorn's settings for `gunicorn wsgi:app`, read from the working directory by default.

- Access logs (when switched on with `--access-logfile`) go through a logger that redacts
  `id_token`, `code`, `hmac` and `signature` values from every atom, whatever
  `--access-logformat` is used (app/web/access_log.py).
- The server refuses to start on an address other than loopback while a built-in development
  secret is in use (app/config.py).
"""

from typing import Any

logger_class = "app.web.access_log.RedactingLogger"


def on_starting(server: Any) -> None:
    """Check the bind addresses against the settings before any worker starts."""
    from dotenv import load_dotenv

    from app.config import load_settings, refuse_development_secrets_in_public

    load_dotenv(override=False)
    hosts = [address[0] if isinstance(address, tuple) else f"unix:{address}"
             for address in server.cfg.address]
    refuse_development_secrets_in_public(load_settings(), hosts)
