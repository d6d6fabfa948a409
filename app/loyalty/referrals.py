"""Referrals: a member's share link, the friend's first-order discount, fair fraud checks, and
the advocate's points once the friend's order has outlived its return window.

features.md pain point 7 sets the bar: a real household is not punished for sharing an IP,
a flagged referral waits for the merchant and is never paid on a timeout, and every rejection
carries its reason. The checks run in a fixed order and the first that fires decides:
self_referral, not_new_customer, cap_reached, then same_ip (which flags before it rejects).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db import insert_once
from app.errors import DomainError
from app.loyalty.labels import money_label, number_label
from app.loyalty.ledger import post
from app.loyalty.members import guest_member, member_for_customer, normalise_email
from app.loyalty.program import ProgramSettings
from app.models import LedgerEntry, Member, Message, Order, Referral, Shop

PENDING, FLAGGED, REWARDED, REJECTED = "pending", "flagged", "rewarded", "rejected"
SELF_REFERRAL, NOT_NEW_CUSTOMER, SAME_IP, CAP_REACHED = (
    "self_referral", "not_new_customer", "same_ip", "cap_reached")
ORDER_CANCELLED, ORDER_REFUNDED, MERCHANT_REJECTED = (
    "order_cancelled", "order_refunded", "merchant_rejected")

# Where a referral code can travel with an order: the share link's `?ref=` lands on the storefront
# and the theme copies it into cart attributes, which reach the order as note_attributes.
REF_ATTRIBUTES = ("ref", "loyalty_ref")
# Dynamic IPs get reassigned: only the referrer's recent orders say anything about a friend.
RECENT_IP_WINDOW = timedelta(days=90)
_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


class ReferralDecisionError(DomainError):
    """The referral is not in a state the merchant's decision applies to."""

    code, status = "not_decidable", 409


@dataclass(frozen=True)
class FriendDiscount:
    """The discount the platform creates for a referrer's friends (DiscountIssuer arguments)."""

    code: str
    title: str
    percentage: Decimal | None   # a fraction, 0.1 = 10 %
    amount: Decimal | None
    applies_once_per_customer: bool
    usage_limit: int | None
    customer_gid: str | None


def fold_email(email: str | None) -> str | None:
    """An email with its aliases folded: `+tag` dropped everywhere, dots too at Gmail.

    ada.l+shop@googlemail.com and adal@gmail.com reach the same inbox, so they are one person
    for the self-referral check (never for sending mail).
    """
    email = normalise_email(email)
    if email is None or "@" not in email:
        return email
    local, domain = email.rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def friend_offer_label(settings: ProgramSettings, currency: str) -> str:
    """What the friend gets, in words: '10% off' or '$5 off'."""
    value = Decimal(str(settings.referrals["friend_discount_value"]))
    if settings.referrals["friend_discount_kind"] == "percent_off":
        return f"{number_label(value)}% off"
    return f"{money_label(value, currency)} off"


def share_url(shop: Shop, member: Member) -> str:
    """The member's link: the shop's storefront (its primary domain when known) with ?ref=."""
    return f"https://{shop.storefront_host}/?ref={quote(member.referral_code)}"


def share_text(shop: Shop, settings: ProgramSettings, url: str) -> str:
    """The pre-filled message a member sends with their link."""
    store = shop.name or shop.domain
    return (f"Here's {friend_offer_label(settings, shop.currency)} your first order at {store}"
            f" - use my link: {url}")


def referral_contract(shop: Shop, member: Member, settings: ProgramSettings) -> dict[str, str]:
    """The widget's and thank-you page's `referral` object: code, url, share_text."""
    url = share_url(shop, member)
    return {"code": member.referral_code, "url": url, "share_text": share_text(shop, settings, url)}


def friend_discount_for(code: str, settings: ProgramSettings, currency: str) -> FriendDiscount:
    """The discount the platform must create so friends can use a referrer's code.

    One shared code per referrer (their referral code, ADA-7K3Q), usable once per customer,
    rather than a code per friend: a friend is anonymous until checkout, so a per-friend code
    would mean an Admin API call (and rate-limit budget) for every link click, and the link and
    share text could not carry it. The shared code is also the attribution key on the order.
    Leaking it to coupon sites cannot pay the referrer more than the fraud checks and monthly
    cap allow; the merchant's exposure is the friend discount, once per customer.
    """
    value = Decimal(str(settings.referrals["friend_discount_value"]))
    percent = settings.referrals["friend_discount_kind"] == "percent_off"
    return FriendDiscount(
        code=code, title=f"Referral {code}: {friend_offer_label(settings, currency)} first order",
        percentage=value / 100 if percent else None, amount=None if percent else value,
        applies_once_per_customer=True, usage_limit=None, customer_gid=None)


def _codes_in_landing_site(landing_site: str | None) -> list[str]:
    """`ref` values in the landing page's query string (/?ref=ADA-7K3Q&utm_source=…)."""
    if not landing_site:
        return []
    query = parse_qs(urlsplit(landing_site).query)
    return [v for key in REF_ATTRIBUTES for v in query.get(key, [])]


def candidate_codes(discount_codes: Iterable[str], note_attributes: Mapping[str, str],
                    landing_site: str | None) -> list[str]:
    """Possible referral codes on an order, most reliable first, upper-cased, no repeats."""
    attributes = {k.strip().lower(): v for k, v in note_attributes.items()}
    raw = [*discount_codes, *(attributes.get(k, "") for k in REF_ATTRIBUTES),
           *_codes_in_landing_site(landing_site)]
    seen: list[str] = []
    for code in raw:
        code = (code or "").strip().upper()
        if code and code not in seen:
            seen.append(code)
    return seen


def _referrer_for(session: Session, shop_id: int, codes: list[str]) -> tuple[Member, str] | None:
    """The member whose referral code appears first among the candidates."""
    if not codes:
        return None
    members = {m.referral_code: m for m in session.execute(select(Member).where(
        Member.shop_id == shop_id, Member.referral_code.in_(codes))).scalars()}
    return next(((members[c], c) for c in codes if c in members), None)


def _insert_once(session: Session, values: dict[str, Any]) -> Referral:
    """The order's referral: inserted now, or the one an earlier delivery recorded."""
    return insert_once(session, Referral, values, ["shop_id", "order_id"]) \
        or session.execute(select(Referral).where(
            Referral.shop_id == values["shop_id"], Referral.order_id == values["order_id"])
        ).scalar_one()


def _month_start(now: datetime) -> datetime:
    """Midnight UTC on the first of now's month: the monthly cap's period."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _self_referral(session: Session, referrer: Member, referee: Member | None,
                   customer_id: int | None, email: str | None, address_digest: str | None,
                   shopify_order_id: int) -> str | None:
    """Why the friend is the referrer themselves, or None."""
    if referee is not None and referee.id == referrer.id:
        return "the referrer's own order"
    if customer_id is not None and customer_id == referrer.customer_id:
        return "same customer account as the referrer"
    folded = fold_email(email)
    if folded is not None and folded == fold_email(referrer.email):
        return "same email as the referrer once aliases are folded"
    if address_digest and session.execute(select(Order.id).where(
            Order.shop_id == referrer.shop_id, Order.member_id == referrer.id,
            Order.address_digest == address_digest,
            Order.shopify_order_id != shopify_order_id).limit(1)).first():
        return "ships to the same address as the referrer's orders"
    return None


def _earlier_paid_order(session: Session, shop_id: int, referee: Member | None,
                        email: str | None, shopify_order_id: int) -> bool:
    """Whether the friend has a paid order in this shop other than this one."""
    who = []
    if referee is not None:
        who.append(Order.member_id == referee.id)
    if email is not None:
        who.append(func.lower(Order.email) == email)
    if not who:
        return False
    return session.execute(select(Order.id).where(
        Order.shop_id == shop_id, Order.shopify_order_id != shopify_order_id,
        Order.paid_at.is_not(None), or_(*who)).limit(1)).first() is not None


def _referrer_ips(session: Session, referrer: Member, now: datetime) -> set[str]:
    """Browser IPs of the referrer's recent orders."""
    return set(session.execute(select(Order.browser_ip).where(
        Order.shop_id == referrer.shop_id, Order.member_id == referrer.id,
        Order.browser_ip.is_not(None), Order.created_at >= now - RECENT_IP_WINDOW)).scalars())


def _count_referrals(session: Session, referrer: Member, *conditions: Any) -> int:
    """How many of the referrer's referrals meet the conditions."""
    return session.execute(select(func.count(Referral.id)).where(
        Referral.referrer_id == referrer.id, *conditions)).scalar_one()


def _decide(session: Session, settings: ProgramSettings, referrer: Member,
            referee: Member | None, *, customer_id: int | None, email: str | None,
            browser_ip: str | None, address_digest: str | None, shopify_order_id: int,
            first_order: bool | None, now: datetime) -> tuple[str, str | None, str | None]:
    """(status, reason, detail) of a new referral under the fraud rules."""
    why = _self_referral(session, referrer, referee, customer_id, email, address_digest,
                         shopify_order_id)
    if why is not None:
        return REJECTED, SELF_REFERRAL, why
    if first_order is False or _earlier_paid_order(session, referrer.shop_id, referee, email,
                                                   shopify_order_id):
        return REJECTED, NOT_NEW_CUSTOMER, "the friend had already ordered from this shop"
    cap = int(settings.referrals["monthly_cap"])
    # A cap of 0 means no cap; switching referrals off is `enabled`.
    if cap and _count_referrals(session, referrer, Referral.created_at >= _month_start(now),
                                Referral.status.in_([PENDING, FLAGGED, REWARDED])) >= cap:
        return REJECTED, CAP_REACHED, f"{cap} referrals this month already"
    if browser_ip is not None and browser_ip in _referrer_ips(session, referrer, now):
        allowance = int(settings.referrals["household_ip_allowance"])
        used = _count_referrals(session, referrer, Referral.reason == SAME_IP)
        if used >= allowance:
            return REJECTED, SAME_IP, (
                f"same IP as the referrer's orders, household allowance of {allowance} used")
        # IP alone never rejects: a partner or flatmate is a real friend. The merchant decides.
        return FLAGGED, SAME_IP, (
            f"same IP as the referrer's orders ({used + 1} of {allowance} household referrals)")
    return PENDING, None, None


def attribute_order(session: Session, shop: Shop, settings: ProgramSettings, *,
                    shopify_order_id: int, customer_id: int | None, email: str | None,
                    browser_ip: str | None, address_digest: str | None,
                    discount_codes: Iterable[str] = (),
                    note_attributes: Mapping[str, str] | None = None,
                    landing_site: str | None = None, first_order: bool | None = None,
                    paid_at: datetime | None = None, now: datetime) -> Referral | None:
    """Attribute a paid order to the referrer whose code it carries, and judge it.

    Returns None when referrals are off or no code on the order belongs to a member. A
    referral is recorded for every order that carries a code, accepted (pending), flagged or
    rejected with its reason; the same order is attributed once, whatever the deliveries.
    `first_order` is what Shopify knows about the customer (numberOfOrders == 1), when known.
    """
    if not settings.referrals.get("enabled", True):
        return None
    found = _referrer_for(session, shop.id, candidate_codes(
        discount_codes, note_attributes or {}, landing_site))
    if found is None:
        return None
    referrer, code = found
    existing = session.execute(select(Referral).where(
        Referral.shop_id == shop.id, Referral.order_id == shopify_order_id)).scalar_one_or_none()
    if existing is not None:
        return existing
    email = normalise_email(email)
    referee = (member_for_customer(session, shop, customer_id) if customer_id is not None
               else None) or guest_member(session, shop, email)
    status, reason, detail = _decide(
        session, settings, referrer, referee, customer_id=customer_id, email=email,
        browser_ip=browser_ip, address_digest=address_digest,
        shopify_order_id=shopify_order_id, first_order=first_order, now=now)
    order = session.execute(select(Order).where(
        Order.shop_id == shop.id, Order.shopify_order_id == shopify_order_id)
    ).scalar_one_or_none()
    paid = paid_at or (order.paid_at if order is not None else None) or now
    referral = _insert_once(session, {
        "shop_id": shop.id, "referrer_id": referrer.id,
        "referee_id": referee.id if referee is not None else None,
        "referee_customer_id": customer_id, "referee_email": email,
        "order_id": shopify_order_id, "code": code, "status": status, "reason": reason,
        "detail": detail, "browser_ip": browser_ip,
        "reward_due_at": paid + timedelta(days=settings.pending_days)
        if status != REJECTED else None,
        "decided_at": now if status == REJECTED else None, "created_at": now,
    })
    if order is not None:
        order.referral_code = code
    if status != REJECTED and referee is not None and referee.referred_by_id is None:
        referee.referred_by_id = referrer.id
    session.flush()
    return referral


def _lock(session: Session, referral: Referral) -> Referral:
    """The referral's row, locked and re-read for this transaction."""
    return session.execute(select(Referral).where(Referral.id == referral.id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def referrals_to_decide(session: Session, shop_id: int, *, limit: int = 100) -> list[Any]:
    """Flagged referrals and those waiting out the return window, with the referrer's first
    name and email: (referral, first_name, email) rows, flagged first, newest first."""
    return list(session.execute(
        select(Referral, Member.first_name, Member.email)
        .join(Member, Member.id == Referral.referrer_id)
        .where(Referral.shop_id == shop_id, Referral.status.in_([FLAGGED, PENDING]))
        .order_by(Referral.status, Referral.created_at.desc()).limit(limit)).all())


def approve_referral(session: Session, referral: Referral, *, actor: str,
                     now: datetime) -> Referral:
    """The merchant accepts a flagged referral: it is paid when its return window has passed."""
    row = _lock(session, referral)
    if row.status != FLAGGED:
        raise ReferralDecisionError(f"only a flagged referral can be approved, not {row.status}")
    row.status, row.decided_at, row.decided_by = PENDING, now, actor
    session.flush()
    return row


def reject_referral(session: Session, referral: Referral, *, actor: str, now: datetime,
                    detail: str | None = None) -> Referral:
    """The merchant turns down a flagged or pending referral; nothing is paid for it."""
    row = _lock(session, referral)
    if row.status not in {FLAGGED, PENDING}:
        raise ReferralDecisionError(f"a {row.status} referral cannot be rejected")
    # Keep why it had been flagged next to the merchant's own words.
    earlier = f"{row.status} ({row.reason}: {row.detail})" if row.reason else None
    row.detail = "; ".join(part for part in (detail, earlier) if part) or None
    row.status, row.reason = REJECTED, MERCHANT_REJECTED
    row.decided_at, row.decided_by = now, actor
    session.flush()
    return row


def _fully_refunded(order: Order) -> bool:
    """Whether refunds took back everything the order paid for."""
    return order.eligible_amount > 0 and order.refunded_amount >= order.eligible_amount


def _friend_label(referral: Referral) -> str:
    """How the referrer's activity names the friend's order, without the friend's email."""
    return f"Referral: a friend's first order ({referral.code})"


def pay_due_referrals(session: Session, shop: Shop, settings: ProgramSettings,
                      now: datetime) -> list[Referral]:
    """Pay referrers whose friends' orders outlived the return window; drop the undone ones.

    Only `pending` referrals are paid: a flagged one waits for the merchant however long it
    takes. A friend's order that was cancelled or fully refunded by then pays nothing. Each
    payment has the source key `referral:{id}:referrer`, so a second sweep pays nothing more.
    """
    rows = list(session.execute(
        select(Referral).where(Referral.shop_id == shop.id, Referral.status == PENDING,
                               Referral.reward_due_at <= now)
        .order_by(Referral.id).with_for_update(skip_locked=True)).scalars())
    referrer_points = int(settings.referrals["referrer_points"])
    referee_points = int(settings.referrals.get("referee_points", 0))
    decided = []
    for referral in rows:
        order = session.execute(select(Order).where(
            Order.shop_id == shop.id, Order.shopify_order_id == referral.order_id)
        ).scalar_one_or_none()
        if order is not None and order.status == "cancelled":
            referral.status, referral.reason = REJECTED, ORDER_CANCELLED
        elif order is not None and _fully_refunded(order):
            referral.status, referral.reason = REJECTED, ORDER_REFUNDED
        elif order is None or order.status != "paid":
            continue
        else:
            referral.status = REWARDED
            _pay(session, referral, referrer_points, referee_points, now)
        referral.decided_at = now
        decided.append(referral)
    session.flush()
    return decided


def _pay(session: Session, referral: Referral, referrer_points: int, referee_points: int,
         now: datetime) -> list[LedgerEntry]:
    """Post the referrer's points and the friend's optional welcome points, once each."""
    entries = []
    if referrer_points > 0:
        referrer = session.get(Member, referral.referrer_id)
        entries.append(post(session, referrer, points=referrer_points, kind="referral_referrer",
                            source_key=f"referral:{referral.id}:referrer", now=now,
                            order_id=referral.order_id, note=_friend_label(referral)))
    if referee_points > 0 and referral.referee_id is not None:
        referee = session.get(Member, referral.referee_id)
        entries.append(post(session, referee, points=referee_points, kind="referral_referee",
                            source_key=f"referral:{referral.id}:referee", now=now,
                            order_id=referral.order_id, note="Welcome: you were referred"))
    return [e for e in entries if e is not None]


def record_referral_share(session: Session, shop: Shop, member: Member, via: str,
                          now: datetime) -> bool:
    """Count a member copying or sharing their link, at most once a minute per way.

    Stored as a `referral_share` message (the merchant's funnel reads them); the natural key
    keeps a burst of clicks from inflating the count. True when this one was counted.
    """
    key = f"share:{member.id}:{via}:{now:%Y%m%d%H%M}"
    return insert_once(session, Message, {
        "shop_id": shop.id, "member_id": member.id, "kind": "referral_share", "channel": via,
        "natural_key": key, "status": "sent", "sent_at": now, "created_at": now,
    }, ["shop_id", "natural_key"]) is not None
