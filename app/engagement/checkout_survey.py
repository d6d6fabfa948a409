"""The NPS answer the thank-you and order-status blocks send (POST /api/checkout/nps).

The order view that asks for it is app/loyalty/checkout_view.py's; answers land in the same
table as the email survey's (app/engagement/surveys.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.engagement.surveys import (
    DETRACTOR_MAX_SCORE,
    MAX_COMMENT_CHARS,
    nps_bonus,
    store_answer,
)
from app.errors import DomainError
from app.inputs import NUL_MESSAGE, has_nul
from app.loyalty.bonuses import award_nps
from app.loyalty.checkout_view import NotLoggedIn, OrderNotFound, recorded_order
from app.loyalty.program import current_settings
from app.models import Member, Shop

NPS_MAX_SCORE = 10
SURVEY_CHANNELS = {"checkout": "thank_you", "customer_account": "order_status"}


class InvalidNps(DomainError, ValueError):
    """An NPS answer that cannot be stored; `code` is stable (invalid_score, invalid_comment)."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the stable code next to the message."""
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NpsReceipt:
    """What storing an answer did: the bonus it earned (now or earlier) and the flag it got."""

    bonus_points: int
    detractor: bool
    survey_response_id: int


def validate_nps(score: object, comment: object) -> tuple[int, str | None]:
    """A whole score 0-10 and a comment of at most 1000 characters (blank means none)."""
    if isinstance(score, bool) or not isinstance(score, int) or not (
            0 <= score <= NPS_MAX_SCORE):
        raise InvalidNps("invalid_score", "score must be a whole number from 0 to 10")
    if comment is None:
        return score, None
    if not isinstance(comment, str):
        raise InvalidNps("invalid_comment", "comment must be text")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidNps("invalid_comment",
                         f"comment must be at most {MAX_COMMENT_CHARS} characters")
    if has_nul(comment):
        raise InvalidNps("invalid_comment", f"comment {NUL_MESSAGE}")
    return score, comment or None


def record_nps(session: Session, shop: Shop, shopify_order_id: int, customer_id: int | None,
               score: object, comment: object, now: datetime, *,
               surface: str = "checkout") -> NpsReceipt:
    """POST /api/checkout/nps: store the order customer's answer, pay the bonus once.

    Raises NotLoggedIn without a customer, InvalidNps for a bad score or comment, and
    OrderNotFound unless the order is recorded and belongs to this customer.
    """
    if customer_id is None:
        raise NotLoggedIn()
    score, comment = validate_nps(score, comment)
    order = recorded_order(session, shop, shopify_order_id)
    member = session.get(Member, order.member_id) if order and order.member_id else None
    if member is None or member.customer_id != customer_id:
        raise OrderNotFound()
    channel = SURVEY_CHANNELS.get(surface, SURVEY_CHANNELS["checkout"])
    response_id = store_answer(session, member, shopify_order_id, score, comment, channel,
                               now)
    # The ledger's source key (nps:{order}) pays it once, however often the shopper posts.
    award_nps(session, member, current_settings(session, shop.id), now,
              order_id=shopify_order_id)
    return NpsReceipt(nps_bonus(session, shop.id, shopify_order_id),
                      score <= DETRACTOR_MAX_SCORE, response_id)
