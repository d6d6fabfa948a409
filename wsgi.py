"""WSGI entry point: `gunicorn wsgi:app`, or `python wsgi.py`, which reads PORT itself."""

import os

from app import create_app

app = create_app()

if __name__ == "__main__":
    # The Shopify CLI runs shopify.web.toml commands without a shell, so no $PORT expansion.
    app.run(host=os.environ.get("HOST_BIND", "127.0.0.1"),
            port=int(os.environ.get("PORT", "8000")))
