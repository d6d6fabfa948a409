"""What the storefront widget shows: the program for visitors, the member's state for shoppers.

The shapes are the app-proxy contract in design.md §4 (README "Storefront contract").
Balances come from the member's cached columns, never summed per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, String, and_, bindparam, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.loyalty.labels import money_label, number_label
from app.loyalty.ledger import release_unlocked
from app.loyalty.program import ProgramSettings
from app.loyalty.redemption import ISSUED, STORE_CREDIT_ID_PREFIX
from app.loyalty.referrals import friend_offer_label, referral_contract
from app.loyalty.rewards import available_rewards, shop_rewards
from app.loyalty.tiers import tier_basis_value, tier_progress
from app.models import LedgerEntry, Member, Order, Redemption, Reward, Shop

ACTIVITY_SIZE = 10
# The kind the code rows carry in the activity-and-codes read; no ledger kind is named so.
CODE_ROW = "reward_code"

# What a shopper reads for an entry without a note of its own.
KIND_LABELS = {
    "earn_order": "Order", "refund_reversal": "Refund", "cancel_reversal": "Order cancelled",
    "redeem": "Reward", "redeem_refund": "Reward returned", "expire": "Points expired",
    "adjust": "Adjustment", "bonus_signup": "Welcome bonus", "bonus_birthday": "Birthday bonus",
    "bonus_review": "Review bonus", "bonus_nps": "Thanks for your feedback",
    "referral_referrer": "Friend referred", "referral_referee": "Referral welcome",
    "import": "Points from our previous program",
}


def _iso_z(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def program_view(session: Session, shop: Shop, settings: ProgramSettings,
                 rewards: Sequence[Reward] | None = None) -> dict[str, Any]:
    """GET /proxy/program: how to earn and redeem, for anyone (`rewards`: the shop's active
    catalog when the caller has it already)."""
    per_unit = settings.points_per_unit
    bonuses = settings.bonuses
    ways = [{"title": f"Every {money_label(Decimal(1), shop.currency)} you spend",
             "points": int(per_unit)}]
    for key, title in (("signup", "Create an account"), ("birthday", "Your birthday"),
                       ("review", "Review a product"), ("nps", "Tell us how we did")):
        if bonuses.get(key, 0) > 0:
            ways.append({"title": title, "points": bonuses[key]})
    rewards = available_rewards(None, settings, shop_rewards(session, shop.id)
                                if rewards is None else rewards)
    return {"program": {
        "name": shop.name or shop.domain,
        "currency": shop.currency,
        "earn": {"points_per_unit": float(per_unit) if per_unit % 1 else int(per_unit),
                 "label": f"{number_label(per_unit)} points per "
                          f"{money_label(Decimal(1), shop.currency)}"},
        "ways_to_earn": ways,
        "rewards": [{"id": r["id"], "title": r["title"], "cost": r["cost"]} for r in rewards],
        "tiers": [{"name": t.name, "threshold": str(t.threshold.quantize(Decimal("0.01"))),
                   "multiplier": float(t.multiplier), "benefits": t.benefits}
                  for t in settings.tiers],
        "referral": {"friend_gets": friend_offer_label(settings, shop.currency),
                     "you_get": int(settings.referrals.get("referrer_points", 0))},
    }}


# Only the columns the widget shows: loading whole LedgerEntry objects cost more CPU than the
# database spent finding them (bench/storefront.py). An order's points are dated by the order
# (when the shopper placed it), not by when its webhook was processed; the newest entries are
# then shown newest first by the date the shopper reads.
_ACTIVITY = (select(func.coalesce(case((LedgerEntry.kind == "earn_order", Order.placed_at)),
                                  LedgerEntry.created_at).label("at"),
                    LedgerEntry.points, LedgerEntry.kind,
                    LedgerEntry.note, LedgerEntry.available_at, LedgerEntry.shortfall,
                    literal(None, String).label("code"), literal(None, String).label("title"))
             .outerjoin(Order, and_(LedgerEntry.kind == "earn_order",
                                    Order.shop_id == LedgerEntry.shop_id,
                                    Order.shopify_order_id == LedgerEntry.order_id))
             .where(LedgerEntry.member_id == bindparam("member_id"))
             .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
             .limit(ACTIVITY_SIZE))

# The member's codes still to use at checkout, newest first: issued, so neither used by an
# order nor expired, refunded or failed. Reward codes carry no end date (redemption.py issues
# them with ends_at None), so an issued code is an unexpired one. Store credit is already in
# the shopper's account, so it is no code to show.
_CODES = (select(Redemption.created_at.label("at"), literal(0).label("points"),
                 literal(CODE_ROW).label("kind"), literal(None, String).label("note"),
                 literal(None, DateTime).label("available_at"), literal(0).label("shortfall"),
                 Redemption.code.label("code"), Reward.title.label("title"))
          .outerjoin(Reward, Reward.id == Redemption.reward_id)
          .where(Redemption.member_id == bindparam("member_id"), Redemption.status == ISSUED,
                 Redemption.shopify_discount_id.not_like(f"{STORE_CREDIT_ID_PREFIX}%"))
          .order_by(Redemption.created_at.desc(), Redemption.id.desc()))

# Both in one round trip: a member read is a handful of statements, each one a visible share
# of the widget's server time (bench/storefront.py).
_activity_rows = _ACTIVITY.subquery()
_code_rows = _CODES.subquery()
_ACTIVITY_AND_CODES = union_all(select(_activity_rows), select(_code_rows))


def activity_label(kind: str, note: str | None, shortfall: int) -> str:
    """What the shopper reads for an entry; a reversal says what it forgave.

    A refund of points already spent takes what the balance holds and forgives the rest
    (still taken from lifetime points), so the shopper sees why lifetime fell by more.
    """
    label = note or KIND_LABELS.get(kind, kind)
    if shortfall > 0:
        label += f" ({shortfall:,} points forgiven)"
    return label


def _activity(rows: Sequence[Any], now: datetime) -> list[dict[str, Any]]:
    """The recent ledger entries as the shopper reads them, newest first."""
    entries = sorted(rows, key=lambda e: e.at, reverse=True)
    return [{"at": _iso_z(e.at), "points": e.points, "kind": e.kind,
             "label": activity_label(e.kind, e.note, e.shortfall),
             "status": "pending" if e.available_at > now else "available"}
            for e in entries if e.points != 0 or e.shortfall > 0]


def code_contract(code: str, title: str | None) -> dict[str, str]:
    """A reward code as the widget shows it, with the link that puts it in the cart."""
    return {"code": code, "title": title or "", "apply_url": f"/discount/{code}"}


def _codes(rows: Sequence[Any]) -> list[dict[str, str]]:
    """Code rows, newest first."""
    return [code_contract(row.code, row.title)
            for row in sorted(rows, key=lambda r: r.at, reverse=True)]


def unused_codes(session: Session, member: Member) -> list[dict[str, str]]:
    """The member's reward codes that an order can still use, newest first."""
    return _codes(session.execute(_CODES, {"member_id": member.id}).all())


def activity_and_codes(session: Session, member: Member, now: datetime
                       ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The member's recent activity and unused codes, read in one statement."""
    rows = session.execute(_ACTIVITY_AND_CODES, {"member_id": member.id}).all()
    return (_activity([r for r in rows if r.kind != CODE_ROW], now),
            _codes([r for r in rows if r.kind == CODE_ROW]))


def member_view(session: Session, shop: Shop, member: Member, settings: ProgramSettings,
                now: datetime, rewards: Sequence[Reward] | None = None) -> dict[str, Any]:
    """GET /proxy/member: balances, tier progress, rewards, unused codes, referral link, recent
    activity (`rewards`: the shop's active catalog when the caller has it already)."""
    release_unlocked(session, member, now)
    activity, codes = activity_and_codes(session, member, now)
    progress = tier_progress(member, settings, tier_basis_value(session, member, settings, now))
    # Month and day only: the widget needs no more, and the year stays private.
    birthday = member.birthday.strftime("%m-%d") if member.birthday is not None else None
    return {
        "member": {"first_name": member.first_name, "birthday": birthday},
        "points": {
            "available": member.points_available, "pending": member.points_pending,
            "lifetime": member.points_lifetime,
            "pending_until": (member.next_unlock_at.date().isoformat()
                              if member.next_unlock_at else None),
        },
        "tier": progress.as_contract(),
        "rewards": available_rewards(member, settings, shop_rewards(session, shop.id)
                                     if rewards is None else rewards),
        "codes": codes,
        "referral": referral_contract(shop, member, settings),
        "activity": activity,
    }
