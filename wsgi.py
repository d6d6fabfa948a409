"""WSGI entry point: `gunicorn wsgi:app`, or `python wsgi.py`, which reads PORT itself."""

import os

from app import create_app
from app.web.access_log import RedactingRequestHandler

# With HOST_BIND set, create_app refuses a public address while a development secret is in use.
app = create_app()

if __name__ == "__main__":
    # The Shopify CLI runs shopify.web.toml commands without a shell, so no $PORT expansion.
    app.run(host=app.extensions["runtime"].settings.bind_host or "127.0.0.1",
            port=int(os.environ.get("PORT", "8000")),
            request_handler=RedactingRequestHandler)
