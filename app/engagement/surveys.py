"""NPS answers from the survey email, and the closed loop: every detractor alerts the merchant.

Answers from the thank-you page (app/engagement/checkout_survey.py) land in the same table; the
run-due sweep raises alerts for detractors from any channel, so none is missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.engagement.flows import DETRACTOR_ALERT, detractor_alert_key
from app.engagement.schedule import schedule_message
from app.errors import DomainError
from app.inputs import NUL_MESSAGE, has_nul
from app.loyalty.bonuses import award_nps
from app.loyalty.program import current_settings
from app.models import LedgerEntry, Member, Message, Order, SurveyResponse

# The NPS method's detractors are 0-6, wherever the answer comes from (email or checkout).
DETRACTOR_MAX_SCORE = 6
MAX_COMMENT_CHARS = 1000
EMAIL_CHANNEL = "email"
# The score is one click in the email and the comment comes after: the alert waits this long
# so that it carries the comment.
COMMENT_GRACE = timedelta(minutes=15)
# How far back the sweep looks for detractors without an alert.
SWEEP_LOOKBACK = timedelta(days=30)


class InvalidAnswer(DomainError, ValueError):
    """An answer that cannot be stored; `code` is stable (invalid_score, not_your_order, …)."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the stable code next to the message."""
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SurveyAnswer:
    """The stored answer, the bonus the order's survey earned, whether it is a detractor, and
    the merchant's alert it scheduled (None if none was, or it was before)."""

    response: SurveyResponse
    bonus: int
    detractor: bool
    alert: Message | None = None


def validate_answer(score: Any, comment: Any) -> tuple[int, str | None]:
    """A whole score 0-10 and an optional comment of at most MAX_COMMENT_CHARS."""
    try:
        value = int(str(score))
    except ValueError:
        raise InvalidAnswer("invalid_score", "choose a score from 0 to 10") from None
    if not 0 <= value <= 10:
        raise InvalidAnswer("invalid_score", "choose a score from 0 to 10")
    if comment is not None and not isinstance(comment, str):
        raise InvalidAnswer("invalid_comment", "the comment must be text")
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise InvalidAnswer("invalid_comment",
                            f"keep the comment under {MAX_COMMENT_CHARS} characters")
    if has_nul(text):
        raise InvalidAnswer("invalid_comment", f"the comment {NUL_MESSAGE}")
    return value, text or None


def record_email_answer(session: Session, member: Member, order_id: int, score: Any,
                        comment: Any, now: datetime, *,
                        keep_comment: bool = False) -> SurveyAnswer:
    """Store the member's answer for their order (the latest wins), pay the bonus once, and
    raise the merchant's alert for a detractor.

    `keep_comment` keeps an earlier comment when this answer brings none (a score clicked
    again in the email after the comment was sent).
    """
    value, text = validate_answer(score, comment)
    owned = session.execute(select(Order.id).where(
        Order.shop_id == member.shop_id, Order.shopify_order_id == order_id,
        Order.member_id == member.id)).first()
    if owned is None:
        raise InvalidAnswer("not_your_order", "this survey is for another order")
    detractor = value <= DETRACTOR_MAX_SCORE
    response_id = store_answer(session, member, order_id, value, text, EMAIL_CHANNEL, now,
                               keep_comment=keep_comment)
    response = session.get(SurveyResponse, response_id)
    session.refresh(response)
    award_nps(session, member, current_settings(session, member.shop_id), now,
              order_id=order_id)
    bonus = nps_bonus(session, member.shop_id, order_id)
    alert = None
    if detractor:
        alert = raise_detractor_alert(session, response, now + COMMENT_GRACE, now)
    return SurveyAnswer(response, bonus, detractor, alert)


def store_answer(session: Session, member: Member, order_id: int, score: int,
                 comment: str | None, channel: str, now: datetime, *,
                 keep_comment: bool = False) -> int:
    """Insert the order's answer, or overwrite it with this newer one; returns its id.

    The thank-you block sends the score on tap, then again with a comment; the email's link
    and form do the same: the latest wins. One statement, so two posts racing each other
    cannot both insert. `keep_comment` keeps an earlier comment when this answer has none.
    """
    detractor = score <= DETRACTOR_MAX_SCORE
    changes: dict[str, Any] = {"score": score, "detractor": detractor, "member_id": member.id}
    if comment is not None or not keep_comment:
        changes["comment"] = comment
    return session.execute(
        dialect_insert(session)(SurveyResponse).values(
            shop_id=member.shop_id, member_id=member.id, order_id=order_id, score=score,
            comment=comment, channel=channel, detractor=detractor, created_at=now)
        .on_conflict_do_update(index_elements=["shop_id", "order_id"], set_=changes)
        .returning(SurveyResponse.id)).scalar_one()


def nps_bonus(session: Session, shop_id: int, order_id: int) -> int:
    """Points the order's survey answer earned (its ledger source key), 0 if none."""
    return session.execute(select(LedgerEntry.points).where(
        LedgerEntry.shop_id == shop_id, LedgerEntry.source_key == f"nps:{order_id}")
    ).scalar_one_or_none() or 0


def raise_detractor_alert(session: Session, response: SurveyResponse, at: datetime,
                          now: datetime) -> Message | None:
    """Schedule the merchant's alert for a detractor answer at `at`, once per answer."""
    if not response.detractor:
        return None
    return schedule_message(session, shop_id=response.shop_id, member_id=None,
                            kind=DETRACTOR_ALERT, natural_key=detractor_alert_key(response.id),
                            at=at, now=now)


def raise_missed_detractor_alerts(session: Session, shop_id: int,
                                  now: datetime) -> list[Message]:
    """Alerts for recent detractors of any channel (the thank-you page too) not alerted yet."""
    responses = session.execute(select(SurveyResponse).where(
        SurveyResponse.shop_id == shop_id, SurveyResponse.detractor.is_(True),
        SurveyResponse.created_at >= now - SWEEP_LOOKBACK)).scalars().all()
    if not responses:
        return []
    alerted = set(session.execute(select(Message.natural_key).where(
        Message.shop_id == shop_id, Message.kind == DETRACTOR_ALERT,
        Message.natural_key.in_([detractor_alert_key(r.id) for r in responses])
    )).scalars())
    raised = []
    for response in responses:
        if detractor_alert_key(response.id) not in alerted:
            message = raise_detractor_alert(
                session, response, max(response.created_at + COMMENT_GRACE, now), now)
            if message is not None:
                raised.append(message)
    return raised


def order_names(session: Session, shop_id: int, shopify_order_ids: list[int]) -> dict[int, str]:
    """Shopify order id → the order's name (#1042), for the orders this shop knows."""
    if not shopify_order_ids:
        return {}
    return {order_id: name for order_id, name in session.execute(
        select(Order.shopify_order_id, Order.name).where(
            Order.shop_id == shop_id, Order.shopify_order_id.in_(shopify_order_ids)))
        if name}


def detractor_alerts(session: Session, shop_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """Recent detractor answers with their alert's state, newest first (for the admin)."""
    rows = session.execute(
        select(SurveyResponse, Member.email, Message.status, Message.sent_at)
        .outerjoin(Member, Member.id == SurveyResponse.member_id)
        .outerjoin(Message, (Message.shop_id == SurveyResponse.shop_id)
                   & (Message.kind == DETRACTOR_ALERT)
                   & (Message.natural_key == literal(f"{DETRACTOR_ALERT}:")
                      + cast(SurveyResponse.id, String)))
        .where(SurveyResponse.shop_id == shop_id, SurveyResponse.detractor.is_(True))
        .order_by(SurveyResponse.created_at.desc(), SurveyResponse.id.desc()).limit(limit))
    return [{"order_id": str(response.order_id), "score": response.score,
             "comment": response.comment, "channel": response.channel, "email": email,
             "answered_at": response.created_at, "alert": status or "not_raised_yet",
             "alerted_at": sent_at}
            for response, email, status, sent_at in rows]
