"""The holdout: a small random share of new customers who get no program, so its effect can be
measured against them (app/insights/effect.py).

While a shop runs a holdout, every customer the program first sees (a sign-up, a first order,
a first visit to the widget) is assigned once: HMAC-SHA256 of the shop and the Shopify customer
id under the shop's own holdout key, read as a number in [0, 1), below the share means
control. The assignment is stored on the member with its time, so it is sticky, and anyone
holding the key can recompute it. Customers seen before the holdout started, and guests without
a customer account, are never assigned: they stay in the program and out of the comparison.

A held-out customer earns nothing (their orders are still recorded), sees no launcher, member
view or thank-you block and gets no loyalty email. Ending the holdout lets everyone in from then
on; the members keep their group and get the time they were released.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import Member, Shop

CONTROL, PROGRAM = "control", "program"
# The share a merchant is offered first, and the most they may hold out.
DEFAULT_SHARE, MAX_SHARE = 10, 50
# The answer of every shopper-facing endpoint to a held-out customer.
NOT_IN_PROGRAM_CODE = "not_in_program"
NOT_IN_PROGRAM_MESSAGE = "the loyalty program is not available to this customer"

_SCALE = float(2**64)


class HoldoutError(ValueError):
    """A holdout change that cannot be made, with the reason a merchant can read."""


def assignment_draw(key: str, shop_domain: str, customer_id: int) -> float:
    """The customer's fixed number in [0, 1) for this key: the first 8 bytes of
    HMAC-SHA256(key, "shop|customer id")."""
    digest = hmac.new(key.encode(), f"{shop_domain}|{customer_id}".encode(),
                      hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def group_for(key: str, shop_domain: str, customer_id: int, share: int) -> str:
    """CONTROL for a draw below `share` percent, else PROGRAM."""
    return CONTROL if assignment_draw(key, shop_domain, customer_id) * 100 < share else PROGRAM


def is_running(shop: Shop) -> bool:
    """Whether customers first seen now are being assigned."""
    return shop.holdout_share > 0 and shop.holdout_key is not None


def assignment_columns(shop: Shop, customer_id: int | None, now: datetime) -> dict[str, Any]:
    """The holdout columns of a new member row: empty unless a holdout runs and the member is a
    customer (written by the member's own INSERT, so assigning costs no statement)."""
    if customer_id is None or not is_running(shop):
        return {}
    return {"holdout_group": group_for(shop.holdout_key or "", shop.domain, customer_id,
                                       shop.holdout_share),
            "holdout_assigned_at": now}


def is_held_out(member: Member | None) -> bool:
    """Whether this member gets no program: in control and not released."""
    return (member is not None and member.holdout_group == CONTROL
            and member.holdout_released_at is None)


def held_out_customer(shop: Shop, member: Member | None, customer_id: int | None) -> bool:
    """Whether a customer is held out, or would be once first seen: a thank-you page can ask
    before the order that enrols them has been processed."""
    if member is not None:
        return is_held_out(member)
    if customer_id is None or not is_running(shop):
        return False
    return group_for(shop.holdout_key or "", shop.domain, customer_id,
                     shop.holdout_share) == CONTROL


def start(shop: Shop, share: int, now: datetime) -> None:
    """Start holding out `share` percent of the customers first seen from now on, with a new
    key (an earlier holdout's members keep theirs)."""
    if isinstance(share, bool) or not isinstance(share, int) or not 1 <= share <= MAX_SHARE:
        raise HoldoutError(f"the share must be a whole number from 1 to {MAX_SHARE} percent")
    if is_running(shop):
        raise HoldoutError("a holdout is already running")
    shop.holdout_share = share
    shop.holdout_key = secrets.token_hex(32)
    shop.holdout_started_at = now
    shop.holdout_ended_at = None


def end(session: Session, shop: Shop, now: datetime) -> list[int]:
    """End the running holdout: every held-out customer joins the program now. Returns the
    released members' ids (their storefront metafields need writing again)."""
    if not is_running(shop):
        raise HoldoutError("no holdout is running")
    shop.holdout_share = 0
    shop.holdout_ended_at = now
    released = list(session.scalars(
        update(Member).where(Member.shop_id == shop.id, Member.holdout_group == CONTROL,
                             Member.holdout_released_at.is_(None))
        .values(holdout_released_at=now).returning(Member.id),
        execution_options={"synchronize_session": False}))
    return released


def held_out_count(session: Session, shop_id: int) -> int:
    """How many of the shop's customers are held out now."""
    return session.execute(select(func.count(Member.id)).where(
        Member.shop_id == shop_id, Member.holdout_group == CONTROL,
        Member.holdout_released_at.is_(None))).scalar_one()
