"""What we hold about a shop and its customers: uninstall, export and redaction, no Flask.

customers/data_request, customers/redact and shop/redact (notes §2; shopify.dev/docs/apps/
build/compliance/privacy-law-compliance). They can arrive after uninstall, need no access
token, and are keyed by shop domain. The caller owns the transaction.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, false, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from app.loyalty.members import normalise_email
from app.models import (
    ImportChunk,
    ImportRun,
    LedgerEntry,
    Member,
    Message,
    Order,
    OrderRefund,
    Redemption,
    Referral,
    RefusedWebhook,
    Reward,
    SettingsVersion,
    Shop,
    SurveyResponse,
    TierChange,
    WebhookEvent,
)
from app.shopify.domains import shop_handle, valid_shop

log = logging.getLogger(__name__)

# What a redacted inbox payload becomes: the row stays so a redelivery is still a duplicate.
REDACTED_PAYLOAD = '{"redacted": true}'


@dataclass(frozen=True)
class Redaction:
    """What a redaction did: `code` (`redacted`, `unknown_shop`, `shop_installed`), row counts."""

    shop: str
    code: str
    counts: Mapping[str, int] = field(default_factory=dict)


def _shop(session: Session, shop_domain: str) -> Shop | None:
    """The shop row by domain, locked for the rest of the transaction."""
    domain = valid_shop(shop_domain)
    if domain is None:
        raise ValueError("not a myshopify.com shop domain")
    return session.execute(select(Shop).where(Shop.domain == domain)
                           .with_for_update()).scalar_one_or_none()


# --- app/uninstalled ---------------------------------------------------------------------------

def mark_uninstalled(session: Session, shop_domain: str, now: datetime,
                     occurred_at: datetime | None = None) -> bool:
    """Record an uninstall: tokens cleared, scheduled messages cancelled; True if anything changed.

    Idempotent. app/uninstalled may arrive late and more than once: one that happened before
    the shop's latest install (`occurred_at`, from X-Shopify-Triggered-At) is ignored. Jobs
    stop because the shop is no longer `is_installed` and has no token to call Shopify with.
    """
    shop = _shop(session, shop_domain)
    if shop is None:
        return False
    installed_at = shop.installed_at
    if occurred_at is not None and installed_at is not None and occurred_at < installed_at:
        log.info("stale uninstall ignored", extra={"shop": shop.domain, "code": "stale_uninstall"})
        return False
    changed = shop.uninstalled_at is None or any(
        (shop.access_token_enc, shop.refresh_token_enc, shop.access_token_expires_at,
         shop.refresh_token_expires_at))
    if shop.uninstalled_at is None:
        shop.uninstalled_at = now
    shop.access_token_enc = shop.refresh_token_enc = None
    shop.access_token_expires_at = shop.refresh_token_expires_at = None
    cancelled = session.execute(
        update(Message).where(Message.shop_id == shop.id, Message.status == "scheduled")
        .values(status="cancelled", reason="app_uninstalled")).rowcount
    log.info("shop uninstalled", extra={"shop": shop.domain, "code": "uninstalled",
                                        "cancelled_messages": cancelled})
    return changed or bool(cancelled)


# --- the customer's footprint ------------------------------------------------------------------

@dataclass(frozen=True)
class _Customer:
    """Everything that identifies one customer of one shop in our tables."""

    shop: Shop
    customer_id: int | None
    email: str | None
    member_ids: tuple[int, ...]
    shopify_order_ids: frozenset[int]


def _customer(session: Session, shop: Shop, payload: Mapping[str, Any],
              order_key: str) -> _Customer:
    """The member rows and order ids that belong to the payload's customer."""
    customer = payload.get("customer") or {}
    raw_id = customer.get("id")
    customer_id = int(raw_id) if raw_id is not None and str(raw_id).isdigit() else None
    email = normalise_email(customer.get("email"))
    by_identity = [Member.customer_id == customer_id] if customer_id is not None else []
    if email:
        # A guest member (no customer id yet) is the same person when the email matches.
        by_identity.append((Member.customer_id.is_(None)) & (func.lower(Member.email) == email))
    member_ids = tuple(session.execute(
        select(Member.id).where(Member.shop_id == shop.id, or_(false(), *by_identity))
    ).scalars()) if by_identity else ()
    requested = {int(o) for o in payload.get(order_key) or [] if str(o).isdigit()}
    order_match = [Order.shopify_order_id.in_(requested)] if requested else []
    if member_ids:
        order_match.append(Order.member_id.in_(member_ids))
    if email:
        order_match.append(func.lower(Order.email) == email)
    known_orders = set(session.execute(
        select(Order.shopify_order_id).where(Order.shop_id == shop.id, or_(false(), *order_match))
    ).scalars()) if order_match else set()
    return _Customer(shop=shop, customer_id=customer_id, email=email, member_ids=member_ids,
                     shopify_order_ids=frozenset(requested | known_orders))


def _orders_of(c: _Customer) -> Select[Any]:
    """The customer's orders in this shop."""
    match = [Order.shopify_order_id.in_(c.shopify_order_ids)] if c.shopify_order_ids else []
    if c.member_ids:
        match.append(Order.member_id.in_(c.member_ids))
    return select(Order).where(Order.shop_id == c.shop.id, or_(false(), *match))


def _referrals_as_friend(c: _Customer) -> list[Any]:
    """Conditions for referrals in which the customer was the friend."""
    match = []
    if c.member_ids:
        match.append(Referral.referee_id.in_(c.member_ids))
    if c.customer_id is not None:
        match.append(Referral.referee_customer_id == c.customer_id)
    if c.email:
        match.append(func.lower(Referral.referee_email) == c.email)
    if c.shopify_order_ids:
        match.append(Referral.order_id.in_(c.shopify_order_ids))
    return match


def _surveys_of(c: _Customer) -> list[Any]:
    """Conditions for the customer's survey answers."""
    match = []
    if c.member_ids:
        match.append(SurveyResponse.member_id.in_(c.member_ids))
    if c.shopify_order_ids:
        match.append(SurveyResponse.order_id.in_(c.shopify_order_ids))
    return match


def _row(obj: Any, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """A model row as a dict of its columns."""
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs
            if attr.key not in leave_out}


def _json_default(value: Any) -> Any:
    """JSON for Decimal, datetime and date."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")


# --- customers/data_request --------------------------------------------------------------------

def export_customer_data(session: Session, shop_domain: str, payload: Mapping[str, Any],
                         now: datetime, export_dir: str | os.PathLike[str]) -> Path:
    """Write everything we hold about the customer to a JSON file for the merchant; its path.

    Other people's data is left out: a friend the customer referred appears by status only.
    """
    domain = valid_shop(shop_domain)
    if domain is None:
        raise ValueError("not a myshopify.com shop domain")
    customer = payload.get("customer") or {}
    request_id = str((payload.get("data_request") or {}).get("id") or "unknown")
    document: dict[str, Any] = {
        "shop": domain, "generated_at": now, "data_request_id": request_id,
        "customer": {"id": customer.get("id"), "email": customer.get("email")},
        "orders_requested": payload.get("orders_requested") or [],
        "members": [], "ledger": [], "orders": [], "order_refunds": [], "redemptions": [],
        "referrals_made": [], "referred_by": [], "survey_responses": [], "messages": [],
        "tier_changes": [],
    }
    shop = session.execute(select(Shop).where(Shop.domain == domain)).scalar_one_or_none()
    if shop is not None:
        c = _customer(session, shop, payload, "orders_requested")
        ids = c.member_ids
        document["members"] = [_row(m, ("referred_by_id",)) for m in session.execute(
            select(Member).where(Member.id.in_(ids))).scalars()]
        document["ledger"] = [_row(e) for e in session.execute(
            select(LedgerEntry).where(LedgerEntry.member_id.in_(ids))
            .order_by(LedgerEntry.id)).scalars()]
        document["orders"] = [_row(o) for o in session.execute(
            _orders_of(c).order_by(Order.id)).scalars()]
        customer_orders = _orders_of(c).with_only_columns(Order.shopify_order_id)
        document["order_refunds"] = [_row(r) for r in session.execute(
            select(OrderRefund).where(OrderRefund.shop_id == shop.id,
                                      OrderRefund.shopify_order_id.in_(customer_orders))
            .order_by(OrderRefund.id)).scalars()]
        document["redemptions"] = [_row(r) for r in session.execute(
            select(Redemption).where(Redemption.member_id.in_(ids))).scalars()]
        document["referrals_made"] = [
            {"code": r.code, "status": r.status, "reason": r.reason, "created_at": r.created_at}
            for r in session.execute(select(Referral).where(
                Referral.referrer_id.in_(ids))).scalars()]
        document["referred_by"] = [
            {"code": r.code, "status": r.status, "order_id": r.order_id,
             "created_at": r.created_at}
            for r in session.execute(select(Referral).where(
                Referral.shop_id == shop.id, or_(false(), *_referrals_as_friend(c)))).scalars()]
        document["survey_responses"] = [_row(s) for s in session.execute(
            select(SurveyResponse).where(SurveyResponse.shop_id == shop.id,
                                         or_(false(), *_surveys_of(c)))).scalars()]
        document["messages"] = [_row(m) for m in session.execute(
            select(Message).where(Message.member_id.in_(ids))).scalars()]
        document["tier_changes"] = [_row(t) for t in session.execute(
            select(TierChange).where(TierChange.member_id.in_(ids))).scalars()]
    directory = Path(export_dir)
    directory.mkdir(parents=True, exist_ok=True)
    safe_request = "".join(ch for ch in request_id if ch.isalnum())[:40] or "unknown"
    customer_part = _as_int(customer.get("id")) or "unknown"
    path = directory / f"{shop_handle(domain)}-customer-{customer_part}-request-{safe_request}.json"
    # Written whole or not at all: a merchant never receives half an export.
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, default=_json_default, indent=2, sort_keys=True)
    os.replace(tmp, path)
    log.info("customer data exported", extra={"shop": domain, "code": "data_exported"})
    return path


# --- customers/redact --------------------------------------------------------------------------

def _as_int(value: Any) -> int | None:
    """An id as int, or None."""
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def _inbox_mentions(topic: str, body: str, c: _Customer) -> bool:
    """Whether a stored delivery is about this customer or one of their orders."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    customer_ids = {_as_int(customer.get("id"))}
    if topic.startswith("customers/"):
        customer_ids.add(_as_int(data.get("id")))  # the payload is the customer itself
    if c.customer_id is not None and c.customer_id in customer_ids:
        return True
    emails = {normalise_email(v) for v in (data.get("email"), data.get("contact_email"),
                                          customer.get("email")) if isinstance(v, str)}
    if c.email and c.email in emails:
        return True
    order_ids = {_as_int(data.get("order_id"))}
    if topic.startswith("orders/"):
        order_ids.add(_as_int(data.get("id")))
    return bool(order_ids & c.shopify_order_ids)


def _redact_inbox(session: Session, c: _Customer, now: datetime) -> int:
    """Blank stored deliveries about the customer; how many."""
    needles = [str(c.customer_id)] if c.customer_id is not None else []
    needles += [c.email] if c.email else []
    needles += [str(o) for o in c.shopify_order_ids]
    if not needles:
        return 0
    candidates = session.execute(
        select(WebhookEvent.id, WebhookEvent.topic, WebhookEvent.payload).where(
            WebhookEvent.shop_domain == c.shop.domain,
            WebhookEvent.payload != REDACTED_PAYLOAD,
            or_(*[func.lower(WebhookEvent.payload).contains(n) for n in needles]))).all()
    redacted = 0
    for event_id, topic, body in candidates:
        if not _inbox_mentions(topic, body, c):
            continue
        session.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(
            payload=REDACTED_PAYLOAD))
        # An unprocessed event would bring the customer back: close it.
        session.execute(update(WebhookEvent).where(
            WebhookEvent.id == event_id, WebhookEvent.processed_at.is_(None)).values(
            processed_at=now, outcome="redacted"))
        redacted += 1
    return redacted


def redact_customer(session: Session, shop_domain: str, payload: Mapping[str, Any],
                    now: datetime) -> Redaction:
    """Delete the customer's member rows, ledger, orders and everything that names them.

    Ledger entries go with the member (the one exception to the append-only ledger), orders
    of the customer and in `orders_to_redact` are deleted with their recorded refunds,
    referrals in which they were the friend lose the friend's identity, and inbox payloads
    that mention them are blanked.
    """
    shop = _shop(session, shop_domain)
    if shop is None:
        return Redaction(shop=shop_domain, code="unknown_shop")
    c = _customer(session, shop, payload, "orders_to_redact")
    counts: dict[str, int] = {}
    ids = c.member_ids

    def _delete(name: str, model: Any, *where: Any) -> None:
        """Delete matching rows of one table and count them."""
        counts[name] = session.execute(delete(model).where(*where)).rowcount

    counts["referrals_anonymised"] = session.execute(
        update(Referral).where(Referral.shop_id == shop.id,
                               or_(false(), *_referrals_as_friend(c)),
                               Referral.referrer_id.not_in(ids))
        .values(referee_id=None, referee_customer_id=None, referee_email=None,
                browser_ip=None, detail=None)).rowcount
    _delete("survey_responses", SurveyResponse, SurveyResponse.shop_id == shop.id,
            or_(false(), *_surveys_of(c)))
    _delete("ledger_entries", LedgerEntry, LedgerEntry.member_id.in_(ids))
    _delete("redemptions", Redemption, Redemption.member_id.in_(ids))
    _delete("messages", Message, Message.member_id.in_(ids))
    _delete("tier_changes", TierChange, TierChange.member_id.in_(ids))
    _delete("referrals_made", Referral, Referral.referrer_id.in_(ids))
    order_match = [Order.shopify_order_id.in_(c.shopify_order_ids)] if c.shopify_order_ids else []
    redacted_orders = select(Order.shopify_order_id).where(
        Order.shop_id == shop.id, or_(false(), Order.member_id.in_(ids), *order_match))
    # Refund rows carry no name, but they are the redacted orders' history: they go too,
    # including an early refund's, whose order row (never paid) only orders_to_redact names.
    _delete("order_refunds", OrderRefund, OrderRefund.shop_id == shop.id,
            OrderRefund.shopify_order_id.in_(redacted_orders))
    _delete("orders", Order, Order.shop_id == shop.id,
            or_(false(), Order.member_id.in_(ids), *order_match))
    session.execute(update(Member).where(Member.referred_by_id.in_(ids))
                    .values(referred_by_id=None))
    _delete("members", Member, Member.id.in_(ids))
    counts["import_files_discarded"] = _discard_import_files(session, shop.id)
    counts["inbox_payloads"] = _redact_inbox(session, c, now)
    log.info("customer redacted", extra={"shop": shop.domain, "code": "customer_redacted"})
    return Redaction(shop=shop.domain, code="redacted", counts=counts)


def _discard_import_files(session: Session, shop_id: int) -> int:
    """Drop the staged files of the shop's imports not yet done (they may hold the customer);
    those runs are discarded and ask for the file again. Returns how many."""
    runs = session.execute(select(ImportRun).where(
        ImportRun.shop_id == shop_id, ImportRun.state.not_in(("done", "discarded")))
    ).scalars().all()
    for run in runs:
        session.execute(delete(ImportChunk).where(ImportChunk.run_id == run.id))
        run.state = "discarded"
        run.error = "a customer's data was deleted on Shopify's request: upload the file again"
    return len(runs)


# --- shop/redact -------------------------------------------------------------------------------

def redact_shop(session: Session, shop_domain: str, now: datetime) -> Redaction:
    """Delete everything we hold for a shop that uninstalled us 48 hours ago.

    A shop that is installed again is left alone: Shopify only asks after an uninstall, and
    wiping a merchant who came back would be unrecoverable. The shop/redact delivery itself
    (shop id and domain only) stays in the inbox as the record of the request.
    """
    domain = valid_shop(shop_domain)
    if domain is None:
        raise ValueError("not a myshopify.com shop domain")
    shop = _shop(session, domain)
    counts: dict[str, int] = {}
    if shop is not None and shop.is_installed:
        log.warning("shop/redact for an installed shop ignored",
                    extra={"shop": domain, "code": "shop_installed"})
        return Redaction(shop=domain, code="shop_installed")
    if shop is not None:
        for name, model in (("ledger_entries", LedgerEntry), ("redemptions", Redemption),
                            ("tier_changes", TierChange), ("messages", Message),
                            ("survey_responses", SurveyResponse), ("referrals", Referral),
                            ("order_refunds", OrderRefund), ("orders", Order), ("rewards", Reward),
                            ("settings_versions", SettingsVersion)):
            counts[name] = session.execute(delete(model).where(model.shop_id == shop.id)).rowcount
        session.execute(update(Member).where(Member.shop_id == shop.id)
                        .values(referred_by_id=None))
        counts["members"] = session.execute(
            delete(Member).where(Member.shop_id == shop.id)).rowcount
        session.execute(delete(Shop).where(Shop.id == shop.id))
        counts["shops"] = 1
    counts["inbox_events"] = session.execute(delete(WebhookEvent).where(
        WebhookEvent.shop_domain == domain, WebhookEvent.topic != "shop/redact")).rowcount
    counts["refused_deliveries"] = session.execute(delete(RefusedWebhook).where(
        RefusedWebhook.shop_domain == domain)).rowcount
    log.info("shop redacted", extra={"shop": domain, "code": "shop_redacted"})
    return Redaction(shop=domain, code="redacted" if shop is not None else "unknown_shop",
                     counts=counts)
