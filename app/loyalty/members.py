"""Who is in the program: members from customers and guest emails, with referral codes."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from app.db import insert_once
from app.loyalty.holdout import assignment_columns
from app.loyalty.ledger import ledger_balances
from app.loyalty.rollup import mark_stale
from app.models import (
    ImportedRow,
    LedgerEntry,
    Member,
    Message,
    Order,
    PurchasedProduct,
    Redemption,
    Referral,
    Review,
    Shop,
    SurveyResponse,
)

# No 0/O, 1/I/L: codes are read aloud and typed from phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def normalise_email(email: str | None) -> str | None:
    """Lowercased, trimmed email, or None when empty."""
    email = (email or "").strip().lower()
    return email or None


def referral_code_for(first_name: str | None, suffix_length: int = 4) -> str:
    """A readable, unguessable-enough code like ADA-7K3Q (uniqueness is checked by the caller)."""
    ascii_name = unicodedata.normalize("NFKD", first_name or "").encode("ascii", "ignore").decode()
    prefix = re.sub(r"[^A-Z]", "", ascii_name.upper())[:8] or "FRIEND"
    suffix = "".join(secrets.choice(CODE_ALPHABET) for _ in range(suffix_length))
    return f"{prefix}-{suffix}"


# Draws before giving up; every fifth draw makes the code one character longer.
CODE_ATTEMPTS = 20


def _unique_referral_code(session: Session, shop_id: int, first_name: str | None) -> str:
    for attempt in range(CODE_ATTEMPTS):
        code = referral_code_for(first_name, 4 + attempt // 5)
        taken = session.execute(select(Member.id).where(
            Member.shop_id == shop_id, Member.referral_code == code)).first()
        if not taken:
            return code
    raise RuntimeError("could not find a free referral code")


# Built once: the storefront reads a member on every request (bench/storefront.py).
_MEMBER_OF_CUSTOMER = select(Member).where(Member.shop_id == bindparam("shop_id"),
                                           Member.customer_id == bindparam("customer_id"))


def member_for_customer(session: Session, shop: Shop, customer_id: int) -> Member | None:
    """The member of this shop with that Shopify customer id."""
    return session.execute(_MEMBER_OF_CUSTOMER, {"shop_id": shop.id, "customer_id": customer_id}
                           ).scalar_one_or_none()


def guest_member(session: Session, shop: Shop, email: str | None) -> Member | None:
    """The guest (no customer id yet) member of this shop with that email."""
    email = normalise_email(email)
    if email is None:
        return None
    return session.execute(select(Member).where(
        Member.shop_id == shop.id, Member.customer_id.is_(None), Member.email == email)
        .order_by(Member.id).limit(1)).scalar_one_or_none()


def _customer_and_guest(session: Session, shop: Shop, customer_id: int | None,
                        email: str | None) -> tuple[Member | None, Member | None]:
    """The customer's member and the oldest guest with that email, in one query."""
    if not customer_id:
        return None, guest_member(session, shop, email)
    if email is None:
        return member_for_customer(session, shop, customer_id), None
    rows = session.execute(select(Member).where(
        Member.shop_id == shop.id,
        or_(Member.customer_id == customer_id,
            and_(Member.customer_id.is_(None), Member.email == email)))
        .order_by(Member.id)).scalars().all()
    member = next((m for m in rows if m.customer_id == customer_id), None)
    guest = next((m for m in rows if m.customer_id is None), None)
    return member, guest


def _create(session: Session, shop: Shop, values: dict) -> tuple[Member, bool]:
    """A new member row; (member, True), or (theirs, False) when another transaction created
    the same customer's member first.

    Two events about a new customer (two orders, or the sign-up and an order) may be applied
    at once by two workers: ON CONFLICT makes the second wait for the first's row and use
    it, where a plain INSERT failed the event and left it to a retry. The referral code is
    not looked up first: a code already taken is a conflict too, and the next try draws
    another (one statement instead of two for every new customer).
    """
    if values["customer_id"] is None:
        member = Member(**values,
                        referral_code=_unique_referral_code(session, shop.id,
                                                            values["first_name"]))
        session.add(member)
        session.flush()
        return member, True
    for attempt in range(CODE_ATTEMPTS):
        code = referral_code_for(values["first_name"], 4 + attempt // 5)
        member = insert_once(session, Member, {**values, "referral_code": code}, None)
        if member is not None:
            return member, True
        theirs = member_for_customer(session, shop, values["customer_id"])
        if theirs is not None:
            return theirs, False
    raise RuntimeError("could not find a free referral code")


def enrol(session: Session, shop: Shop, *, now: datetime, customer_id: int | None,
          email: str | None = None, first_name: str | None = None,
          last_name: str | None = None, accepts_marketing: bool | None = None,
          locale: str | None = None) -> Member:
    """Find or create the member for a customer (or a guest email), claiming guest points.

    `locale` is the shopper's language when the event says it (an order's customer_locale).

    A customer who shopped as a guest with the same email takes over that guest's ledger,
    so points earned before signing up are never lost.
    """
    email = normalise_email(email)
    member, guest = _customer_and_guest(session, shop, customer_id, email)
    if member is None and guest is not None and customer_id:
        guest.customer_id = customer_id
        # The guest's past orders are a member's now, on the dashboard too.
        mark_stale(session, shop.id, session.execute(
            select(func.min(Order.paid_at)).where(Order.shop_id == shop.id,
                                                  Order.member_id == guest.id)).scalar_one())
        member = guest
        guest = None
    if member is None and customer_id is None:
        member = guest
        guest = None
    created = False
    if member is None:
        # guest is None here: a guest with this email was taken over above.
        member, created = _create(session, shop, {
            "shop_id": shop.id, "customer_id": customer_id, "email": email,
            "first_name": first_name, "last_name": last_name,
            "accepts_marketing": bool(accepts_marketing), "locale": locale,
            "created_at": now, "last_activity_at": now,
            **assignment_columns(shop, customer_id, now)})
    if not created:
        member.email = email or member.email
        member.first_name = first_name or member.first_name
        member.last_name = last_name or member.last_name
        if locale is not None and member.locale != locale:
            member.locale = locale
        if accepts_marketing is not None:
            member.accepts_marketing = accepts_marketing
    if guest is not None and guest.id != member.id:
        merge_guest_into(session, guest, member, now)
        session.flush()
    return member


def merge_guest_into(session: Session, guest: Member, member: Member, now: datetime) -> None:
    """Move a guest's history to the customer's member; balances are recomputed from the ledger."""
    for model in (LedgerEntry, Order, Redemption, SurveyResponse, Message, Review,
                  PurchasedProduct, ImportedRow):
        session.execute(update(model).where(model.member_id == guest.id)
                        .values(member_id=member.id))
    for column in (Referral.referee_id, Referral.referrer_id):
        session.execute(update(Referral).where(column == guest.id)
                        .values({column: member.id}))
    session.flush()
    sums = ledger_balances(session, member.id, now)
    member.points_available, member.points_pending = sums.available, sums.pending
    member.points_lifetime, member.next_unlock_at = sums.lifetime, sums.next_unlock_at
    session.delete(guest)
    session.flush()

