"""POST /webhooks: verify, store once, answer in milliseconds, then enqueue (design.md §1)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request
from sqlalchemy.exc import OperationalError

from app.db import utcnow
from app.pipeline import enqueue
from app.pipeline.inbox import record_refusal, store_once, stored_shop_id
from app.pipeline.runtime import Runtime
from app.shopify.verify import secrets_of
from app.shopify.webhooks import (
    WebhookCheck,
    order_shop_refusal,
    shop_id_refusal,
    verify_delivery,
)
from app.web.context import now
from app.web.responses import error

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


def _refused(runtime: Runtime, check: WebhookCheck) -> object:
    """The answer to a refused delivery, after recording a signed one's refusal."""
    if check.refusal is not None:
        try:
            record_refusal(runtime.db.autocommit_engine, check.refusal, utcnow())
        except OperationalError:
            log.error("refusal not recorded: database unavailable",
                      extra={"code": check.refusal.reason})
    return error(check.code, "webhook rejected", check.status)


@bp.post("/webhooks")
def receive_webhook():  # noqa: ANN201 - Flask view
    """Every topic arrives here; the topic is in X-Shopify-Topic."""
    runtime: Runtime = current_app.extensions["runtime"]
    body = request.get_data(cache=False)
    check = verify_delivery(secrets_of(runtime.settings), request.headers, body, clock=now)
    if not check.ok:
        return _refused(runtime, check)
    try:
        if check.delivery.named_shop_id is not None:
            # Only the destructive topics name a shop id; orders never pay this round trip.
            stored_id = stored_shop_id(runtime.db.autocommit_engine, check.delivery.shop_domain)
            mismatch = shop_id_refusal(check.delivery, stored_id)
            if mismatch is not None:
                return _refused(runtime, mismatch)
        # One statement in autocommit: one round trip instead of BEGIN, INSERT and COMMIT. For
        # an order it also compares the shop id its status URL names with the stored one.
        stored = store_once(runtime.db.autocommit_engine, check.delivery, utcnow())
    except OperationalError:
        # Shopify retries non-2xx deliveries for hours: a 503 loses nothing.
        log.error("database unavailable; asking Shopify to retry",
                  extra={"webhook_id": check.delivery.webhook_id})
        return error("unavailable", "database unavailable, retry later", 503)
    if stored.shop_mismatch:
        return _refused(runtime, order_shop_refusal(check.delivery))
    response = current_app.response_class("", 200)
    # The job is queued once the answer has been sent: Shopify's clock stops at the stored
    # row, and a slow or hung Redis (2 s socket timeout) costs this worker, not the delivery.
    # A crash in between leaves the event to the inbox sweep, as a Redis outage does.
    if stored.needs_processing:
        event_id = stored.event_id
        response.call_on_close(lambda: enqueue.enqueue(
            runtime.queue, enqueue.process_event(event_id, new=True)))
    return response
