"""POST /webhooks: verify, store once, answer in milliseconds, then enqueue (design.md §1)."""

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
    response = current_app.response_class("", 200)
    # The job is queued once the answer has been sent: Shopify's clock stops at the stored
    # row, and a slow or hung Redis (2 s socket timeout) costs this worker, not the delivery.
    # A crash in between leaves the event to the inbox sweep, as a Redis outage does.
    if stored.needs_processing:
        event_id = stored.event_id
        response.call_on_close(lambda: enqueue_or_leave_to_sweep(
            runtime.queue, "app.jobs.process_event", event_id, job_id=f"event-{event_id}",
            new=True))
    return response
