"""Sending what is due: one message per transaction, decided by app/engagement, then mailed.

For each due message: lock its row (two workers cannot both send it) and its member's row
(the frequency cap is counted by one sender at a time), re-check its facts (content.compose),
apply the rules (rules.judge), then render and hand it to the mailer before recording it as
sent in the same transaction. Delivery is at least once: if the database fails after the
SMTP server accepted the email, the message is sent again later with the same Message-ID.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.engagement.content import compose
from app.engagement.flows import DETRACTOR_ALERT, FLOWS, flow_settings, transactional_kinds
from app.engagement.links import LinkSigner
from app.engagement.rules import OFFER_ACTOR, judge
from app.engagement.schedule import (
    CANCELLED,
    FAILED,
    SCHEDULED,
    SENT,
    SUPPRESSED,
    ceil_second,
)
from app.engagement.surveys import raise_missed_detractor_alerts
from app.loyalty.experiments import settings_for_member
from app.loyalty.ledger import post, release_unlocked
from app.loyalty.program import current_settings
from app.messaging.mailer import Mailer, MailError, mailer_for
from app.messaging.templates import build_email, render_email
from app.models import Member, Message, Shop

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(minutes=10)
_RETRY_REASON = re.compile(r"^smtp_retry_(\d+)$")


# Asks for the wake-ups of messages (re)scheduled in a session's transaction, after it commits.
Wake = Callable[[Session, Iterable[Message]], None]


@dataclass
class Dispatcher:
    """The database, the mailer (None: nothing can be sent yet), the link signer, and who
    wakes a message it defers or retries (the pipeline's job queue)."""

    db: Database
    mailer: Mailer | None
    signer: LinkSigner
    wake: Wake


def link_signer_for(settings: Settings) -> LinkSigner:
    """Links signed with the app secret's derived key, pointing at the app's public URL."""
    return LinkSigner([settings.shopify_api_secret, settings.shopify_old_api_secret],
                      settings.shopify_app_url)


def dispatcher(db: Database, settings: Settings, wake: Wake) -> Dispatcher:
    """The dispatcher of these settings."""
    return Dispatcher(db, mailer_for(settings), link_signer_for(settings), wake)


def due_message_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Due messages, transactional notices first, then oldest first."""
    first = case((Message.kind.in_((*transactional_kinds(), DETRACTOR_ALERT)), 0), else_=1)
    return list(session.execute(
        select(Message.id).where(Message.status == SCHEDULED, Message.scheduled_at <= now)
        .order_by(first, Message.scheduled_at, Message.id).limit(limit)).scalars())


def send_due(dispatcher: Dispatcher, now: datetime, batch: int = 500, *,
             failed_shop_ids: set[int] | None = None,
             deferrals: Counter[tuple[int, datetime]] | None = None) -> Counter[str]:
    """Raise missed detractor alerts, then send every due message, batch after batch.

    One message that cannot be rendered or stored is logged and skipped, never blocking the
    rest (its flow's max_delay eventually cancels it as too late); its shop goes into
    `failed_shop_ids` when given, so the operator learns whose messages failed. Each deferred
    message counts in `deferrals`, when given, under its shop and the time it will go out.
    """
    with dispatcher.db.transaction() as session:
        shop_ids = session.execute(select(Shop.id).where(
            Shop.installed_at.is_not(None), Shop.uninstalled_at.is_(None))).scalars().all()
        for shop_id in shop_ids:
            dispatcher.wake(session, raise_missed_detractor_alerts(session, shop_id, now))
    outcomes: Counter[str] = Counter()
    seen: set[int] = set()
    while True:
        with dispatcher.db.sessions() as session:
            ids = [i for i in due_message_ids(session, now, batch + len(seen)) if i not in seen]
        for message_id in ids:
            seen.add(message_id)
            try:
                outcome = send_message(dispatcher, message_id, now)
                outcomes[outcome] += 1
                if outcome == "deferred" and deferrals is not None:
                    deferrals[_shop_and_time(dispatcher, message_id)] += 1
            except Exception:  # noqa: BLE001 - one broken message must not stop the sweep
                log.exception("message could not be sent", extra={"message_id": message_id})
                outcomes["error"] += 1
                if failed_shop_ids is not None:
                    with dispatcher.db.sessions() as session:
                        failed_shop_ids.add(session.execute(select(Message.shop_id).where(
                            Message.id == message_id)).scalar_one())
        if len(ids) < batch:
            return outcomes


def _shop_and_time(dispatcher: Dispatcher, message_id: int) -> tuple[int, datetime]:
    """A message's shop and when it is now scheduled."""
    with dispatcher.db.sessions() as session:
        shop_id, scheduled_at = session.execute(select(Message.shop_id, Message.scheduled_at)
                                                .where(Message.id == message_id)).one()
    return shop_id, scheduled_at


def _lock(session: Session, model: type, row_id: int):  # noqa: ANN202 - the model's instance
    """The row, locked for this transaction and read fresh."""
    return session.execute(select(model).where(model.id == row_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one_or_none()


def _close(message: Message, status: str, reason: str | None) -> str:
    """Record a message's final state; returns it as the outcome."""
    message.status, message.reason = status, reason
    return status


def send_message(dispatcher: Dispatcher, message_id: int, now: datetime) -> str:
    """Send one message if it is scheduled and due; returns what happened. Safe to run twice."""
    try:
        with dispatcher.db.transaction() as session:
            return _send_locked(dispatcher, session, message_id, now)
    except MailError as exc:
        log.warning("email not delivered", extra={"message_id": message_id,
                                                   "code": "smtp_error"})
        return _record_failure(dispatcher, message_id, exc, now)


def _send_locked(dispatcher: Dispatcher, session: Session, message_id: int,
                 now: datetime) -> str:
    """The decision and the send, inside the message's transaction."""
    message = _lock(session, Message, message_id)
    if message is None or message.status != SCHEDULED:
        return "not_scheduled"
    if message.scheduled_at is not None and message.scheduled_at > now:
        return "not_due"
    shop = session.get(Shop, message.shop_id)
    if shop is None or not shop.is_installed:
        return _close(message, SUPPRESSED, "shop_uninstalled")
    settings = current_settings(session, shop.id)
    member = _lock(session, Member, message.member_id) if message.member_id else None
    if member is not None:
        release_unlocked(session, member, now)
    content = compose(session, shop, settings, message, member, dispatcher.signer, now)
    if content.cancel_reason is not None:
        return _close(message, CANCELLED, content.cancel_reason)
    verdict = judge(session, shop, settings, message, member, now,
                    offer_points=content.offer_points)
    if verdict.action == "suppress":
        return _close(message, SUPPRESSED, verdict.reason)
    if verdict.action == "cancel":
        return _close(message, CANCELLED, verdict.reason)
    if verdict.action == "defer":
        message.scheduled_at, message.reason = verdict.until, verdict.reason
        dispatcher.wake(session, [message])
        return "deferred"
    if dispatcher.mailer is None or not content.recipient:
        # Nothing to send with (production without SMTP_URL): it stays due for later.
        return "no_mailer" if dispatcher.mailer is None else _close(message, SUPPRESSED,
                                                                     "no_email")
    if content.offer_points > 0 and member is not None:
        post(session, member, points=content.offer_points, kind="adjust",
             source_key=f"offer:{message.id}", now=now, actor=OFFER_ACTOR,
             note="Bonus points: we miss you")
        content.context["points"]["available"] = member.points_available
    # The merchant's own subject for this flow, if any: a member in an A/B test of it gets
    # their arm's.
    subject = None
    if member is not None and message.kind in FLOWS:
        subject = flow_settings(settings_for_member(session, member, settings, now),
                                message.kind).get("subject") or None
    rendered = render_email(message.kind, content.context, subject=subject)
    mailer = dispatcher.mailer
    email = build_email(
        rendered, sender=mailer.sender, sender_name=shop.name or shop.domain,
        recipient=content.recipient,
        message_id=f"<loyalty-{shop.id}-{message.id}@{mailer.sender.rpartition('@')[2]}>",
        reply_to=shop.email if message.kind != DETRACTOR_ALERT else None,
        unsubscribe_url=content.context["links"].get("unsubscribe"))
    mailer.send(email)
    message.status, message.sent_at = SENT, now
    return SENT


def _record_failure(dispatcher: Dispatcher, message_id: int, error: MailError,
                    now: datetime) -> str:
    """Try a transient failure again later (a few times); record a permanent one as failed."""
    with dispatcher.db.transaction() as session:
        message = _lock(session, Message, message_id)
        if message is None or message.status != SCHEDULED:
            return "not_scheduled"
        previous = _RETRY_REASON.match(message.reason or "")
        attempt = (int(previous[1]) if previous else 0) + 1
        if error.transient and attempt < MAX_SEND_ATTEMPTS:
            message.scheduled_at = ceil_second(now + RETRY_BACKOFF * attempt)
            message.reason = f"smtp_retry_{attempt}"
            dispatcher.wake(session, [message])
            return "retry"
        return _close(message, FAILED,
                      "smtp_unavailable" if error.transient else "recipient_refused")

