"""Spending points on a reward without ever losing them (features.md: "Where we win").

A redemption spans an external call, so it is the one place in the domain that owns its
transactions, three steps apart:

1. Reserve (transaction 1): check the reward, debit the points atomically, write the
   Redemption as `pending` with its code; commit.
2. Issue (no transaction open): ask Shopify, through the DiscountIssuer port, for the
   discount code or store credit.
3. Settle (transaction 2): `issued` with Shopify's id, or on any failure `failed` with the
   error and a `redeem_refund` entry that gives the points back (source `redeem:{id}:refund`).

A crash between 1 and 3 leaves a `pending` row: `recover_stuck_redemptions` asks Shopify whether
the code exists, retries issuance, or refunds. Every settlement is a conditional move out of
`pending` under a row lock, so the request, a retry and the recovery sweep settle it once.

A client's `request_key` is stored on the redemption, unique per (shop, member, key): a
repeated request finds the first one by it, and two racing requests cannot both insert it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import DomainError
from app.loyalty import flow_triggers
from app.loyalty.codes import unused_discount_code
from app.loyalty.experiments import reward_cost
from app.loyalty.issuing import CombinesWith, DiscountIssuer, IssueRequest, customer_gid
from app.loyalty.ledger import InsufficientPoints, debit_available, post
from app.loyalty.program import current_settings
from app.loyalty.reward_kinds import KINDS
from app.loyalty.rewards import unavailable_reason
from app.models import LedgerEntry, Member, Redemption, Reward, Shop

__all__ = [
    "CannotVoid", "CombinesWith", "DiscountIssuer", "InsufficientPoints", "IssueRequest",
    "NotAMember", "RewardUnavailable", "cancel_redemption", "mark_redemptions_used",
    "recover_stuck_redemptions", "redeem", "void_redemption",
]

PENDING, ISSUED, USED, EXPIRED, FAILED, REFUNDED = (
    "pending", "issued", "used", "expired", "failed", "refunded")
# The kind of a stuck redemption whose reward row is gone (rewards.id ON DELETE SET NULL).
ORPHANED = "orphaned"
# What storeCreditAccountCredit returns: money already in the shopper's account, which no
# discount deletion can take back, so its points never come back either.
STORE_CREDIT_ID_PREFIX = "gid://shopify/StoreCreditAccountCreditTransaction/"

# Two shoppers drawing the same 49-bit code in the same instant is all but impossible; the
# unique constraint decides, and the loser simply reserves again.
RESERVE_ATTEMPTS = 3
MAX_REQUEST_KEY = 100
_REQUEST_KEY = re.compile(r"^[A-Za-z0-9._:-]+$")
# Between the reward and its code in the debit's ledger note, which the shopper reads in their
# activity.
NOTE_SEPARATOR = " · "


class RewardUnavailable(DomainError):
    """The reward does not exist in this shop, is switched off, or needs a higher tier."""

    code, status = "reward_unavailable", 409
    public_message = "this reward is not available to you"

    def __init__(self, reason: str) -> None:
        super().__init__(f"reward unavailable: {reason}")
        self.reason = reason


class NotAMember(DomainError):
    """No member of this shop with a customer account to restrict the discount to."""

    code, status = "reward_unavailable", 409
    public_message = "this reward is not available to you"


class InvalidRequestKey(DomainError, ValueError):
    """A client's request key that is not 1-100 characters of letters, digits, . _ : -."""

    code = "invalid_request_key"


class CannotVoid(Exception):
    """The redemption is in flight or was used: its points cannot come back."""

    def __init__(self, status: str) -> None:
        super().__init__(f"a {status} redemption cannot be voided")
        self.status = status


def _call_issuer(issuer: DiscountIssuer, req: IssueRequest) -> str:
    """Create the discount or credit for one redemption; Shopify's id of what was made."""
    return KINDS[req.kind].issue(issuer, req)


def _find_issued(issuer: DiscountIssuer, req: IssueRequest) -> str | None:
    """Shopify's id of what an earlier, unanswered attempt created for this redemption.

    An orphan's reward (and so its kind) is gone: only a discount code can be looked up."""
    if req.kind == ORPHANED:
        return issuer.find_discount(req.code)
    return KINDS[req.kind].find_issued(issuer, req)


def _describe(exc: BaseException) -> str:
    """An error for the redemption row: the exception's type and message, bounded."""
    return f"{type(exc).__name__}: {exc}"[:1000]


def _issue(issuer: DiscountIssuer, req: IssueRequest) -> tuple[str | None, str | None]:
    """Step 2, outside any transaction: (Shopify id, None) or (None, error)."""
    try:
        return _call_issuer(issuer, req), None
    except Exception as exc:  # noqa: BLE001 - any failure must give the points back
        error = _describe(exc)
    # A timeout may hide a success: ask before refunding, or the shopper keeps both.
    try:
        found = _find_issued(issuer, req)
    except Exception:  # noqa: BLE001 - unknown outcome: refund, the code stays recorded
        found = None
    return (found, None) if found else (None, error)


def _redemption_for_request(session: Session, shop_id: int, member_id: int,
                            request_key: str) -> Redemption | None:
    """The redemption an earlier request with this key made, if any."""
    return session.execute(select(Redemption).where(
        Redemption.shop_id == shop_id, Redemption.member_id == member_id,
        Redemption.request_key == request_key)).scalar_one_or_none()


def _issue_request(redemption: Redemption, reward: Reward, member: Member,
                   shop: Shop) -> IssueRequest:
    """The frozen description of what Shopify must create for a redemption."""
    return IssueRequest(
        redemption_id=redemption.id, kind=reward.kind, code=redemption.code,
        title=f"Loyalty reward: {reward.title} ({redemption.points} points)",
        customer_gid=customer_gid(member.customer_id), value=reward.value,
        min_subtotal=reward.min_subtotal, combines=reward.combines, currency=shop.currency,
        created_at=redemption.created_at)


def _reserve(db: Database, shop_id: int, member_id: int, reward_id: int, now: datetime,
             request_key: str | None) -> tuple[Redemption, IssueRequest | None]:
    """Step 1: debit and record a pending redemption, or find the one this request made."""
    with db.transaction() as s:
        member = s.execute(select(Member).where(
            Member.id == member_id, Member.shop_id == shop_id)).scalar_one_or_none()
        if member is None or member.redacted_at is not None or member.customer_id is None:
            raise NotAMember(f"no member {member_id} with a customer account in this shop")
        if request_key is not None:
            earlier = _redemption_for_request(s, shop_id, member_id, request_key)
            if earlier is not None:
                return earlier, None
        reward = s.execute(select(Reward).where(
            Reward.id == reward_id, Reward.shop_id == shop_id)).scalar_one_or_none()
        if reward is None:
            raise RewardUnavailable("not_found")
        reason = unavailable_reason(member, current_settings(s, shop_id), reward)
        if reason is not None:
            raise RewardUnavailable(reason)
        shop = s.get(Shop, shop_id)
        # A member in an A/B test of this reward's price pays their arm's price.
        cost = reward_cost(s, member, reward)
        # The row goes in before the debit: on PostgreSQL a concurrent request with the same
        # key blocks on the unique index here until this transaction ends, then fails on it
        # (redeem() turns that into "return the first one"), so it never reaches the debit.
        redemption = Redemption(
            shop_id=shop_id, member_id=member.id, reward_id=reward.id, points=cost,
            code=unused_discount_code(s, shop_id), request_key=request_key, status=PENDING,
            created_at=now, updated_at=now)
        s.add(redemption)
        s.flush()
        entry = debit_available(s, member, points=cost, kind="redeem",
                                source_key=f"redeem:{redemption.id}", now=now,
                                note=f"{reward.title}{NOTE_SEPARATOR}{redemption.code}")
        if entry is None:
            raise RuntimeError(f"redemption {redemption.id} was already debited")
        return redemption, _issue_request(redemption, reward, member, shop)


def _settle(db: Database, req: IssueRequest, shopify_id: str | None, error: str | None,
            now: datetime) -> Redemption:
    """Step 3: issued, or failed with the points given back; only a pending row moves."""
    with db.transaction() as s:
        redemption = s.execute(
            select(Redemption).where(Redemption.id == req.redemption_id).with_for_update()
            .execution_options(populate_existing=True)).scalar_one()
        if redemption.status != PENDING:
            return redemption
        redemption.updated_at = now
        if shopify_id is not None:
            redemption.status, redemption.shopify_discount_id = ISSUED, shopify_id
            redemption.error = None
            reward = s.get(Reward, redemption.reward_id) if redemption.reward_id else None
            flow_triggers.reward_redeemed(s, s.get(Member, redemption.member_id), redemption,
                                          reward.title if reward else req.title, now)
            return redemption
        redemption.status, redemption.error = FAILED, error
        _refund(s, redemption, now, note=f"{req.title}: could not be issued, points returned")
        return redemption


def _refund(session: Session, redemption: Redemption, now: datetime, note: str,
            actor: str | None = None) -> LedgerEntry | None:
    """Give a redemption's points back, once (its refund source key)."""
    member = session.get(Member, redemption.member_id)
    return post(session, member, points=redemption.points, kind="redeem_refund",
                source_key=f"redeem:{redemption.id}:refund", now=now, note=note, actor=actor)


def redeem(db: Database, shop_id: int, member_id: int, reward_id: int,
           issuer: DiscountIssuer, now: datetime, request_key: str | None = None) -> Redemption:
    """Spend a member's points on a reward and get its Shopify code or credit.

    Raises NotAMember, RewardUnavailable or InsufficientPoints before anything is spent.
    Returns the redemption: `issued`, or `failed` with the points already back. A repeated
    `request_key` (a double click, a client retry) returns the first request's redemption,
    in whatever state it is, and spends nothing more.
    """
    if request_key is not None and (len(request_key) > MAX_REQUEST_KEY
                                    or not _REQUEST_KEY.match(request_key)):
        raise InvalidRequestKey("a request key is 1-100 characters of letters, digits, . _ : -")
    for attempt in range(RESERVE_ATTEMPTS):
        try:
            redemption, req = _reserve(db, shop_id, member_id, reward_id, now, request_key)
            break
        except IntegrityError:
            # Either a request with the same key committed first (its unique constraint is the
            # guard: no pre-check can see an uncommitted twin), or another redemption drew the
            # same code between our check and insert.
            if request_key is not None:
                with db.transaction() as s:
                    earlier = _redemption_for_request(s, shop_id, member_id, request_key)
                if earlier is not None:
                    return earlier
            if attempt == RESERVE_ATTEMPTS - 1:
                raise
    if req is None:
        return redemption
    shopify_id, error = _issue(issuer, req)
    return _settle(db, req, shopify_id, error, now)


def recover_stuck_redemptions(db: Database, shop_id: int, issuer: DiscountIssuer,
                              now: datetime, older_than: timedelta,
                              limit: int = 100) -> list[Redemption]:
    """Settle this shop's redemptions left pending by a crash, oldest first.

    `older_than` must exceed the longest a live request can spend talking to Shopify, so the
    sweep never races a request still in flight. For each: if Shopify already holds the code
    (or the credit), it is marked issued; otherwise issuance is retried, and a failure refunds.
    When Shopify cannot even be asked, the row stays pending for the next sweep.
    """
    with db.transaction() as s:
        rows = s.execute(
            select(Redemption, Reward, Member, Shop)
            .outerjoin(Reward, Reward.id == Redemption.reward_id)
            .join(Member, Member.id == Redemption.member_id)
            .join(Shop, Shop.id == Redemption.shop_id)
            .where(Redemption.shop_id == shop_id, Redemption.status == PENDING,
                   Redemption.created_at <= now - older_than)
            .order_by(Redemption.id).limit(limit)).all()
        requests = [_issue_request(r, reward, member, shop) if reward is not None
                    else _orphan_request(r, member, shop) for r, reward, member, shop in rows]
    settled = []
    for req in requests:
        try:
            found = _find_issued(issuer, req)
        except Exception:  # noqa: BLE001 - Shopify unreachable: try again next sweep
            continue
        if found is not None:
            settled.append(_settle(db, req, found, None, now))
        elif req.kind == ORPHANED:
            settled.append(_settle(db, req, None, "the reward was deleted before it was issued",
                                   now))
        else:
            shopify_id, error = _issue(issuer, req)
            settled.append(_settle(db, req, shopify_id, error, now))
    return settled


def _orphan_request(redemption: Redemption, member: Member, shop: Shop) -> IssueRequest:
    """A stuck redemption whose reward the merchant deleted: it can only be found or refunded."""
    return IssueRequest(
        redemption_id=redemption.id, kind=ORPHANED, code=redemption.code,
        title=f"Loyalty reward ({redemption.points} points)",
        customer_gid=customer_gid(member.customer_id), value=Decimal(0), min_subtotal=None,
        combines=False, currency=shop.currency, created_at=redemption.created_at)


def void_redemption(session: Session, redemption: Redemption, now: datetime, *,
                    expired: bool = False, actor: str | None = None) -> LedgerEntry | None:
    """Give an issued, unused redemption's points back: its reward was cancelled or expired.

    Returns the refund entry, or None when its points had already come back. Deleting the
    Shopify discount is the caller's part (do it before, so the code cannot still be used):
    `cancel_redemption` does both.
    """
    row = session.execute(
        select(Redemption).where(Redemption.id == redemption.id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()
    if not _voidable(row):
        return None
    row.status = EXPIRED if expired else REFUNDED
    row.updated_at = now
    why = "expired unused" if expired else "cancelled"
    return _refund(session, row, now, note=f"Reward {row.code} {why}, points returned",
                   actor=actor)


def _voidable(row: Redemption) -> bool:
    """False when the points already came back; raises CannotVoid for a pending, used or
    store-credit redemption."""
    if row.status in {FAILED, REFUNDED, EXPIRED}:
        return False
    if row.status != ISSUED:
        raise CannotVoid(row.status)
    if _is_store_credit(row):
        raise CannotVoid("store_credit")
    return True


def _is_store_credit(redemption: Redemption) -> bool:
    """Whether the redemption became store credit (read from Shopify's id: the reward may be
    deleted)."""
    return (redemption.shopify_discount_id or "").startswith(STORE_CREDIT_ID_PREFIX)


def cancel_redemption(db: Database, shop_id: int, redemption_id: int, issuer: DiscountIssuer,
                      now: datetime, *, expired: bool = False,
                      actor: str | None = None) -> LedgerEntry | None:
    """Delete an unused reward's Shopify discount, then give its points back, once.

    The discount goes first and outside any transaction, so the code is dead before the
    points return; if Shopify fails, nothing changes here and the call can be repeated.
    Raises CannotVoid for a pending, used or store-credit redemption.
    """
    with db.transaction() as s:
        row = s.execute(select(Redemption).where(
            Redemption.id == redemption_id, Redemption.shop_id == shop_id)).scalar_one()
        if not _voidable(row):
            return None
        discount_id = row.shopify_discount_id
    if discount_id:
        issuer.void_discount(discount_id)
    with db.transaction() as s:
        row = s.execute(select(Redemption).where(
            Redemption.id == redemption_id, Redemption.shop_id == shop_id)).scalar_one()
        return void_redemption(s, row, now, expired=expired, actor=actor)


def mark_redemptions_used(session: Session, shop_id: int, codes: Iterable[str],
                          shopify_order_id: int, now: datetime) -> list[Redemption]:
    """Record that an order used these reward codes, so they can no longer be voided."""
    wanted = {c.strip().upper() for c in codes if c and c.strip()}
    if not wanted:
        return []
    rows = list(session.execute(select(Redemption).where(
        Redemption.shop_id == shop_id, Redemption.code.in_(wanted),
        Redemption.status == ISSUED).with_for_update()).scalars())
    for row in rows:
        row.status, row.used_order_id, row.updated_at = USED, shopify_order_id, now
    session.flush()
    return rows
