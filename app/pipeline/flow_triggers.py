"""Send the program's Shopify Flow triggers with the Admin API's `flowTriggerReceive`.

The rules write each trigger's row in the transaction of the change it reports (the outbox,
app/loyalty/flow_triggers.py); once it commits, the job app.pipeline.jobs.deliver_flow_trigger
sends that row with `deliver`. Shopify dedupes nothing for us, so a row is claimed before it
is sent: one UPDATE takes it (pending → sending, with the time), and a job that finds it taken
sends nothing. Shopify's answer marks it sent, or pending again (a userError, an unreachable
Shopify), and failed after MAX_ATTEMPTS claims.

The sweep (app.pipeline.jobs.sweep_flow_triggers, run by `flask sweep-inbox`) hands out again
what a lost job left: pending rows older than `--older-than` (the queue was down at commit, or
the send failed), and rows still `sending` CLAIM_TIMEOUT after their claim (the worker died
mid-send; Shopify may have received that one, the only way a trigger can arrive twice; after
MAX_ATTEMPTS such claims the row fails). Each is a job per row under the row's job id, so a
sweep racing a queued job adds nothing.
https://shopify.dev/docs/api/admin-graphql/latest/mutations/flowTriggerReceive
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

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
# A send takes seconds (the Admin client's timeouts); a claim this old was cut short.
CLAIM_TIMEOUT = timedelta(minutes=5)


def send_flow_trigger(client: AdminClient, handle: str, payload: Mapping[str, Any]) -> None:
    """One flowTriggerReceive; ShopifyUserError when Shopify refuses it."""
    client._mutate("flowTriggerReceive", FLOW_TRIGGER_MUTATION,
                   {"handle": handle, "payload": dict(payload)})


def _claimable(now: datetime) -> Any:
    """Rows a job may take: pending, or sending with a claim older than CLAIM_TIMEOUT (or none,
    a row claimed before claims had times), while attempts remain."""
    stale = now - CLAIM_TIMEOUT
    return and_(FlowTrigger.attempts < MAX_ATTEMPTS, or_(
        FlowTrigger.status == "pending",
        and_(FlowTrigger.status == "sending",
             or_(FlowTrigger.claimed_at.is_(None), FlowTrigger.claimed_at < stale))))


def _claim(session: Session, row_id: int, now: datetime) -> bool:
    """Whether this job took the row before any other; taking it counts an attempt."""
    return session.execute(update(FlowTrigger).where(
        FlowTrigger.id == row_id, _claimable(now))
        .values(status="sending", claimed_at=now, attempts=FlowTrigger.attempts + 1)
    ).rowcount == 1


def _settle(session: Session, row_id: int, error: str | None, now: datetime) -> None:
    """Sent; or back to pending (failed after MAX_ATTEMPTS) with the reason."""
    row = session.get(FlowTrigger, row_id)
    if error is None:
        row.status, row.sent_at, row.error = "sent", now, None
    else:
        row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
        row.error = error[:500]


def deliver(runtime: Runtime, trigger_id: int) -> str:
    """Send one committed trigger row unless it was sent or another job holds it; safe to run
    twice (the job app.pipeline.jobs.deliver_flow_trigger)."""
    now = utcnow()
    settings = runtime.settings
    with runtime.db.transaction() as session:
        row = session.get(FlowTrigger, trigger_id)
        if row is None:
            return "skipped: no such trigger"
        shop = session.get(Shop, row.shop_id)
        if shop is None or not shop.is_installed:
            return "skipped: shop not installed"
        domain = shop.domain
    with shop_http_client(settings) as http:
        with runtime.db.sessions() as session:
            try:
                token = access_token_for(session, domain, now, settings=settings, http=http)
            except TokenUnavailable:
                return "skipped: no access token"
        with runtime.db.transaction() as session:
            if not _claim(session, trigger_id, now):
                return "skipped: sent or being sent"
            row = session.get(FlowTrigger, trigger_id)
            handle, payload = row.handle, dict(row.payload)
        error = None
        try:
            send_flow_trigger(AdminClient(domain, token, settings=settings, http=http),
                              handle, payload)
        except ShopifyError as exc:
            error = f"{exc.code}: {exc}"
            log.warning("flow trigger not sent", extra={"shop": domain, "code": exc.code})
    with runtime.db.transaction() as session:
        _settle(session, trigger_id, error, utcnow())
    return "sent" if error is None else f"not sent: {error}"


def unsent_trigger_ids(session: Session, now: datetime, older_than: timedelta) -> list[int]:
    """Rows the sweep hands out again, oldest first: pending rows written more than
    `older_than` ago (a younger row's own job may still be on the way), and claims cut short,
    of installed shops (a shop that uninstalled keeps
    its rows until it comes back or is erased)."""
    return list(session.execute(select(FlowTrigger.id).join(
        Shop, Shop.id == FlowTrigger.shop_id).where(
        FlowTrigger.status.in_(("pending", "sending")),
        FlowTrigger.created_at <= now - older_than, _claimable(now),
        Shop.installed_at.is_not(None), Shop.uninstalled_at.is_(None))
        .order_by(FlowTrigger.id)).scalars())


def give_up_cut_short(session: Session, now: datetime) -> int:
    """Mark failed the rows whose every attempt was cut short (still `sending` past the claim
    timeout with no attempt left), so none stays `sending` for ever; returns how many."""
    return session.execute(update(FlowTrigger).where(
        FlowTrigger.status == "sending", FlowTrigger.attempts >= MAX_ATTEMPTS,
        or_(FlowTrigger.claimed_at.is_(None), FlowTrigger.claimed_at < now - CLAIM_TIMEOUT))
        .values(status="failed", error=f"cut short {MAX_ATTEMPTS} times")).rowcount


def record_from_old_job(runtime: Runtime, shop_id: int, member_id: int, event_key: str,
                        handle: str, payload: dict[str, Any]) -> str:
    """A job queued by a deployment that wrote the row in the job (its arguments are the
    trigger): write the row once, then send it."""
    with runtime.db.transaction() as session:
        if session.get(Shop, shop_id) is None:
            return "skipped: no such shop"
        insert_once(session, FlowTrigger, {
            "shop_id": shop_id, "member_id": member_id, "handle": handle,
            "event_key": event_key, "payload": payload, "status": "pending", "attempts": 0,
            "created_at": utcnow()}, ["shop_id", "event_key"])
        trigger_id = session.execute(select(FlowTrigger.id).where(
            FlowTrigger.shop_id == shop_id, FlowTrigger.event_key == event_key)).scalar_one()
    return deliver(runtime, trigger_id)
