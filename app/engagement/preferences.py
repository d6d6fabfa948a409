"""What a shopper does with an email: unsubscribe (honoured at once), resubscribe, open, click."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Member, Message


def member_of_shop(session: Session, shop_id: int, member_id: int) -> Member | None:
    """The member, only if it belongs to that shop."""
    return session.execute(select(Member).where(
        Member.id == member_id, Member.shop_id == shop_id)).scalar_one_or_none()


def unsubscribe(session: Session, shop_id: int, member_id: int, now: datetime) -> Member | None:
    """Stop every engagement email to the member from now on (the dispatcher checks it at
    send time, so messages already scheduled are suppressed with reason `unsubscribed`)."""
    member = member_of_shop(session, shop_id, member_id)
    if member is not None and member.unsubscribed_at is None:
        member.unsubscribed_at = now
        session.flush()
    return member


def resubscribe(session: Session, shop_id: int, member_id: int) -> Member | None:
    """Undo an unsubscribe (the member clicked "subscribe again")."""
    member = member_of_shop(session, shop_id, member_id)
    if member is not None:
        member.unsubscribed_at = None
        session.flush()
    return member


def record_click(session: Session, message_id: int, now: datetime) -> None:
    """The first click of a message's tracked links (later ones change nothing)."""
    session.execute(update(Message).where(Message.id == message_id,
                                          Message.clicked_at.is_(None))
                    .values(clicked_at=now))


def record_open(session: Session, message_id: int, now: datetime) -> None:
    """The first open of a message (only with the shop's tracking pixel switched on)."""
    session.execute(update(Message).where(Message.id == message_id,
                                          Message.opened_at.is_(None))
                    .values(opened_at=now))
