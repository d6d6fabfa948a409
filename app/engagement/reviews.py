"""Product reviews from the review-request email: stored once per product per member, rewarded
once through the ledger, shown on the storefront once the merchant approves them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import dialect_insert, get_for_shop
from app.errors import DomainError, NotFound
from app.inputs import NUL_MESSAGE, has_nul
from app.loyalty.bonuses import award_review
from app.loyalty.program import current_settings
from app.models import Member
from app.models.review import PurchasedProduct, Review

MAX_BODY_CHARS = 2000
RATINGS = range(1, 6)
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class InvalidReview(DomainError, ValueError):
    """A review that cannot be stored; `code` is stable (invalid_rating, not_purchased, …)."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the stable code next to the message."""
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ReviewReceipt:
    """The stored review, whether this call stored it, and the bonus it earned."""

    review: Review
    created: bool
    bonus: int


def reviewable_products(session: Session, shop_id: int, member_id: int,
                        order_id: int) -> list[PurchasedProduct]:
    """The products of the member's order that they have not reviewed yet."""
    reviewed = select(Review.product_id).where(Review.shop_id == shop_id,
                                               Review.member_id == member_id)
    return list(session.execute(select(PurchasedProduct).where(
        PurchasedProduct.shop_id == shop_id, PurchasedProduct.order_id == order_id,
        PurchasedProduct.member_id == member_id, PurchasedProduct.product_id.not_in(reviewed))
        .order_by(PurchasedProduct.id)).scalars())


def validate_review(rating: Any, body: Any) -> tuple[int, str | None]:
    """A whole rating 1-5 and an optional text of at most MAX_BODY_CHARS."""
    try:
        rating = int(str(rating))
    except ValueError:
        raise InvalidReview("invalid_rating", "choose from 1 to 5 stars") from None
    if rating not in RATINGS:
        raise InvalidReview("invalid_rating", "choose from 1 to 5 stars")
    text = (body or "").strip() if isinstance(body, str) or body is None else None
    if text is None:
        raise InvalidReview("invalid_body", "the review must be text")
    if len(text) > MAX_BODY_CHARS:
        raise InvalidReview("invalid_body", f"keep it under {MAX_BODY_CHARS} characters")
    if has_nul(text):
        raise InvalidReview("invalid_body", f"the review {NUL_MESSAGE}")
    return rating, text or None


def submit_review(session: Session, member: Member, *, order_id: int, product_id: int,
                  rating: Any, body: Any, now: datetime) -> ReviewReceipt:
    """Store the member's review of a product they bought in that order, and pay the bonus.

    Once per product per member, by the unique constraint (a double submit stores one
    review) and by the ledger's source key `review:{member}:{product}` (pays once).
    """
    rating, text = validate_review(rating, body)
    product = session.execute(select(PurchasedProduct).where(
        PurchasedProduct.shop_id == member.shop_id, PurchasedProduct.order_id == order_id,
        PurchasedProduct.product_id == product_id,
        PurchasedProduct.member_id == member.id)).scalar_one_or_none()
    if product is None:
        raise InvalidReview("not_purchased", "that product is not in this order")
    insert = dialect_insert(session)
    review_id = session.execute(
        insert(Review).values(shop_id=member.shop_id, member_id=member.id,
                              product_id=product_id, product_title=product.title,
                              order_id=order_id, rating=rating, body=text, status=PENDING,
                              created_at=now)
        .on_conflict_do_nothing(index_elements=["shop_id", "member_id", "product_id"])
        .returning(Review.id)).scalar_one_or_none()
    created = review_id is not None
    if not created:
        review = session.execute(select(Review).where(
            Review.shop_id == member.shop_id, Review.member_id == member.id,
            Review.product_id == product_id)).scalar_one()
        return ReviewReceipt(review, False, 0)
    entry = award_review(session, member, current_settings(session, member.shop_id), now,
                         product_id=product_id, with_photo=False)
    return ReviewReceipt(session.get(Review, review_id), True, entry.points if entry else 0)


def pending_reviews(session: Session, shop_id: int) -> list[Review]:
    """Reviews waiting for the merchant, oldest first."""
    return list(session.execute(select(Review).where(
        Review.shop_id == shop_id, Review.status == PENDING)
        .order_by(Review.created_at, Review.id)).scalars())


def _shop_review(session: Session, shop_id: int, review_id: int) -> Review:
    """The shop's review with that id; NotFound for any other id."""
    review = get_for_shop(session, Review, shop_id, review_id)
    if review is None:
        raise NotFound("no such review in this shop")
    return review


def reviewer_names(session: Session, member_ids: set[int]) -> dict[int, str]:
    """Member id → 'Ada Lovelace' (or their email when they gave no name)."""
    if not member_ids:
        return {}
    return {member_id: " ".join(filter(None, (first, last))) or email or "Customer"
            for member_id, first, last, email in session.execute(
                select(Member.id, Member.first_name, Member.last_name, Member.email)
                .where(Member.id.in_(member_ids)))}


def approve_review(session: Session, shop_id: int, review_id: int, now: datetime) -> Review:
    """Publish a review (scoped by shop: another shop's id is not found)."""
    review = _shop_review(session, shop_id, review_id)
    if review.status != APPROVED:
        review.status, review.approved_at = APPROVED, now
        session.flush()
    return review


def reject_review(session: Session, shop_id: int, review_id: int) -> Review:
    """Keep a review off the storefront for good (scoped by shop: another shop's id is not
    found); an approved review is withdrawn."""
    review = _shop_review(session, shop_id, review_id)
    if review.status != REJECTED:
        review.status, review.approved_at = REJECTED, None
        session.flush()
    return review


def approved_reviews(session: Session, shop_id: int, *, product_id: int | None = None,
                     limit: int = 20) -> list[dict[str, Any]]:
    """Published reviews for the loyalty page block, newest first, with the author's first
    name and last initial only."""
    query = (select(Review, Member.first_name, Member.last_name)
             .join(Member, Member.id == Review.member_id)
             .where(Review.shop_id == shop_id, Review.status == APPROVED))
    if product_id is not None:
        query = query.where(Review.product_id == product_id)
    rows = session.execute(query.order_by(Review.approved_at.desc(), Review.id.desc())
                           .limit(limit))
    return [{"product_id": str(review.product_id), "product": review.product_title,
             "rating": review.rating, "body": review.body,
             "author": (f"{first} {last[0]}." if first and last else first or "A shopper"),
             "date": review.created_at.date().isoformat()}
            for review, first, last in rows]
