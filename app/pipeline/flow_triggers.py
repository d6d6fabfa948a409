"""Send the program's Shopify Flow triggers with the Admin API's `flowTriggerReceive`.

Once the change a trigger reports has committed, the job app.pipeline.jobs.send_flow_trigger
calls `record_and_send`: it writes the trigger's row (once per shop and event key: a job run
twice, or the same event reported twice, finds it) and sends the shop's pending rows. Each
row is claimed (pending → sending) by one UPDATE before it is sent, so two jobs of the same
shop never send it twice; Shopify's answer marks it sent, or pending again for the next job
(a userError or an unreachable Shopify), and failed after MAX_ATTEMPTS.
https://shopify.dev/docs/api/admin-graphql/latest/mutations/flowTriggerReceive
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from app.db import insert_once, utcnow
from app.models import FlowTrigger, Shop
from app.pipeline.runtime import Runtime
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, ShopifyError
from app.shopify.tokens import TokenUnavailable, access_token_for

log = logging.getLogger(__name__)

FLOW_TRIGGER_MUTATION = """mutation LoyaltyFlowTriggerReceive($handle: String!, $payload: JSON!) {
  flowTriggerReceive(handle: $handle, payload: $payload) {
    userErrors { field message }
  }
}"""

MAX_ATTEMPTS = 5
# A shop's rows sent per job run; the next run (enqueued by the next change) sends the rest.
BATCH = 100


def send_flow_trigger(client: AdminClient, handle: str, payload: Mapping[str, Any]) -> None:
    """One flowTriggerReceive; ShopifyUserError when Shopify refuses it."""
    client._mutate("flowTriggerReceive", FLOW_TRIGGER_MUTATION,
                   {"handle": handle, "payload": dict(payload)})


def record_and_send(runtime: Runtime, shop_id: int, member_id: int, event_key: str,
                    handle: str, payload: dict[str, Any]) -> str:
    """Write the trigger's row once, then send the shop's pending triggers (the job
    app.pipeline.jobs.send_flow_trigger)."""
    with runtime.db.transaction() as session:
        if session.get(Shop, shop_id) is None:
            return "skipped: no such shop"
        insert_once(session, FlowTrigger, {
            "shop_id": shop_id, "member_id": member_id, "handle": handle,
            "event_key": event_key, "payload": payload, "status": "pending", "attempts": 0,
            "created_at": utcnow()}, ["shop_id", "event_key"])
    return send_flow_triggers(runtime, shop_id)


def _claim(session: Any, row_id: int) -> bool:
    """Whether this job took the row (pending → sending) before any other."""
    return session.execute(update(FlowTrigger).where(
        FlowTrigger.id == row_id, FlowTrigger.status == "pending")
        .values(status="sending")).rowcount == 1


def _settle(session: Any, row_id: int, error: str | None, now: datetime) -> None:
    """Sent; or back to pending (failed after MAX_ATTEMPTS) with the reason."""
    row = session.get(FlowTrigger, row_id)
    row.attempts += 1
    if error is None:
        row.status, row.sent_at, row.error = "sent", now, None
    else:
        row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
        row.error = error[:500]


def send_flow_triggers(runtime: Runtime, shop_id: int) -> str:
    """Send the shop's pending Flow triggers, oldest first; safe to run twice."""
    now = utcnow()
    settings = runtime.settings
    with runtime.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not shop.is_installed:
            return "skipped: shop not installed"
        domain = shop.domain
        ids = list(session.execute(select(FlowTrigger.id).where(
            FlowTrigger.shop_id == shop_id, FlowTrigger.status == "pending")
            .order_by(FlowTrigger.id).limit(BATCH)).scalars())
    if not ids:
        return "nothing to send"
    sent = 0
    with shop_http_client(settings) as http:
        with runtime.db.sessions() as session:
            try:
                token = access_token_for(session, domain, now, settings=settings, http=http)
            except TokenUnavailable:
                return "skipped: no access token"
        client = AdminClient(domain, token, settings=settings, http=http)
        for row_id in ids:
            with runtime.db.transaction() as session:
                if not _claim(session, row_id):
                    continue
                row = session.get(FlowTrigger, row_id)
                handle, payload = row.handle, dict(row.payload)
            error = None
            try:
                send_flow_trigger(client, handle, payload)
            except ShopifyError as exc:
                error = f"{exc.code}: {exc}"
                log.warning("flow trigger not sent", extra={"shop": domain, "code": exc.code})
            with runtime.db.transaction() as session:
                _settle(session, row_id, error, now)
            sent += error is None
    return f"sent {sent} of {len(ids)} flow triggers"
