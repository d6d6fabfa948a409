"""Loyalty Loop: a Shopify app that turns the moment after a purchase into the next one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from app.config import load_settings
from app.db import Database
from app.pipeline.queueing import InlineQueue
from app.pipeline.runtime import Runtime, build_runtime


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings from the environment, then `config` overrides."""
    from dotenv import load_dotenv

    load_dotenv(override=False)
    overrides = dict(config or {})
    db = overrides.pop("DATABASE", None)
    settings = load_settings(overrides=overrides)
    runtime = build_runtime(settings, db if isinstance(db, Database) else None)

    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key,
                      MAX_CONTENT_LENGTH=settings.webhook_max_bytes)
    app.extensions["runtime"] = runtime
    _defer_inline_jobs(app, runtime)

    from app.web import register_blueprints

    register_blueprints(app, settings)
    from app.web import headers

    headers.install(app)
    from app.cli import register_commands

    register_commands(app)
    return app


def _defer_inline_jobs(app: Flask, runtime: Runtime) -> None:
    """Without Redis, run a request's jobs after its response is built, not inside it."""
    queue = runtime.queue
    if not isinstance(queue, InlineQueue):
        return

    @app.before_request
    def _defer() -> None:
        queue.defer()

    @app.after_request
    def _flush_on_close(response):  # noqa: ANN001, ANN202 - Flask hook signature
        response.call_on_close(queue.flush)
        return response
