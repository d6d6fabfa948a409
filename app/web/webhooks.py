"""POST /webhooks: verify, store once, enqueue, answer in milliseconds (design.md §1)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request
from sqlalchemy.exc import OperationalError

from app.db import utcnow
from app.inbox import store_once
from app.queueing import enqueue_or_leave_to_sweep
from app.runtime import Runtime
from app.shopify.verify import secrets_of
from app.shopify.webhooks import verify_delivery
from app.web.responses import error

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks")
def receive_webhook():  # noqa: ANN201 - Flask view
    """Every topic arrives here; the topic is in X-Shopify-Topic."""
    runtime: Runtime = current_app.extensions["runtime"]
    body = request.get_data(cache=False)
    check = verify_delivery(secrets_of(runtime.settings), request.headers, body)
    if not check.ok:
        return error(check.code, "webhook rejected", check.status)
    try:
        # One statement in autocommit: one round trip instead of BEGIN, INSERT and COMMIT.
        stored = store_once(runtime.db.autocommit_engine, check.delivery, utcnow())
    except OperationalError:
        # Shopify retries non-2xx deliveries for hours: a 503 loses nothing.
        log.error("database unavailable; asking Shopify to retry",
                  extra={"webhook_id": check.delivery.webhook_id})
        return error("unavailable", "database unavailable, retry later", 503)
    if stored.needs_processing:
        enqueue_or_leave_to_sweep(runtime.queue, "app.jobs.process_event", stored.event_id,
                                  job_id=f"event-{stored.event_id}", new=True)
    return "", 200
