"""GET /healthz: whether the database and Redis answer."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.pipeline.runtime import Runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # noqa: ANN201 - Flask view
    """200 when every configured dependency answers, 503 otherwise."""
    runtime: Runtime = current_app.extensions["runtime"]
    database_ok = runtime.db.ping()
    redis_ok = runtime.queue.ping()
    body = {
        "database": "ok" if database_ok else "unreachable",
        "redis": ("ok" if redis_ok else "unreachable") if runtime.settings.redis_url
        else "not configured (jobs run inline)",
    }
    return jsonify(body), 200 if database_ok and redis_ok else 503
