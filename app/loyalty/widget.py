"""What the storefront widget shows: the program for visitors, the member's state for shoppers.

The shapes are the app-proxy contract in design.md §4 (README "Storefront contract").
Balances come from the member's cached columns, never summed per request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DateTime,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.i18n import Language, shopper_language
from app.loyalty.experiments import reward_costs_for_member
from app.loyalty.ledger import release_unlocked
from app.loyalty.program import ProgramSettings
from app.loyalty.redemption import ISSUED, NOTE_SEPARATOR, STORE_CREDIT_ID_PREFIX
from app.loyalty.referrals import referral_contract
from app.loyalty.rewards import available_rewards, shop_rewards
from app.loyalty.tiers import tier_basis_value, tier_progress
from app.loyalty.wording import (
    earn_label,
    friend_offer,
    reward_titles,
    shown_reward_title,
    tier_benefits,
    tier_name,
)
from app.models import LedgerEntry, Member, Order, Redemption, Reward, Shop

ACTIVITY_SIZE = 10
# The kind the code rows carry in the activity-and-codes read; no ledger kind is named so.
CODE_ROW = "reward_code"

# Entries whose label names their order (activity.earn_order: "Order #1042").
ORDER_KINDS = {"earn_order": "order", "refund_reversal": "refund",
               "cancel_reversal": "order_cancelled"}
# The one kind whose note the merchant wrote (the reason of a manual adjustment): shown as typed.
MERCHANT_NOTE_KINDS = {"adjust"}
ENGLISH = shopper_language(None)


def _iso_z(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def program_view(session: Session, shop: Shop, settings: ProgramSettings,
                 rewards: Sequence[Reward] | None = None,
                 lang: Language = ENGLISH) -> dict[str, Any]:
    """GET /proxy/program: how to earn and redeem, for anyone (`rewards`: the shop's active
    catalog when the caller has it already), in the shopper's language."""
    per_unit = settings.points_per_unit
    bonuses = settings.bonuses
    ways = [{"title": lang.t("program.ways.spend", amount=lang.price(Decimal(1), shop.currency)),
             "points": int(per_unit)}]
    for key in ("signup", "birthday", "review", "nps"):
        if bonuses.get(key, 0) > 0:
            ways.append({"title": lang.t(f"program.ways.{key}"), "points": bonuses[key]})
    rewards = shop_rewards(session, shop.id) if rewards is None else rewards
    shown = _shown_rewards(available_rewards(None, settings, rewards), rewards, shop, lang)
    return {"program": {
        "name": shop.name or shop.domain,
        "currency": shop.currency,
        "earn": {"points_per_unit": float(per_unit) if per_unit % 1 else int(per_unit),
                 "label": earn_label(lang, settings, shop.currency)},
        "ways_to_earn": ways,
        "rewards": [{"id": r["id"], "title": r["title"], "cost": r["cost"]} for r in shown],
        "tiers": [{"name": tier_name(lang, t.name),
                   "threshold": str(t.threshold.quantize(Decimal("0.01"))),
                   "multiplier": float(t.multiplier), "benefits": tier_benefits(lang, t)}
                  for t in settings.tiers],
        "referral": {"friend_gets": friend_offer(lang, settings, shop.currency),
                     "you_get": int(settings.referrals.get("referrer_points", 0))},
    }}


def _shown_rewards(listed: list[dict[str, Any]], rewards: Sequence[Reward], shop: Shop,
                   lang: Language) -> list[dict[str, Any]]:
    """The widget's reward list with each title as the shopper reads it."""
    by_id = {r.id: r for r in rewards}
    return [{**item, "title": shown_reward_title(lang, item["title"], by_id[item["id"]].kind,
                                                 by_id[item["id"]].value, shop.currency)}
            for item in listed]


# Only the columns the widget shows: loading whole LedgerEntry objects cost more CPU than the
# database spent finding them (bench/storefront.py). An order's points are dated by the order
# (when the shopper placed it), not by when its webhook was processed; the newest entries are
# then shown newest first by the date the shopper reads.
# The order's name comes along for every entry about an order: the label is written in the
# shopper's language from the kind and that name ("Commande #1042"), not from the stored note.
_ACTIVITY = (select(func.coalesce(case((LedgerEntry.kind == "earn_order", Order.placed_at)),
                                  LedgerEntry.created_at).label("at"),
                    LedgerEntry.points, LedgerEntry.kind,
                    LedgerEntry.note, LedgerEntry.available_at, LedgerEntry.shortfall,
                    literal(None, String).label("code"), literal(None, String).label("title"),
                    Order.name.label("order_name"), LedgerEntry.order_id,
                    literal(None, String).label("reward_kind"),
                    cast(null(), Reward.value.type).label("reward_value"))
             .outerjoin(Order, and_(Order.shop_id == LedgerEntry.shop_id,
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
                 Redemption.code.label("code"), Reward.title.label("title"),
                 literal(None, String).label("order_name"),
                 literal(None, LedgerEntry.order_id.type).label("order_id"),
                 Reward.kind.label("reward_kind"), Reward.value.label("reward_value"))
          .outerjoin(Reward, Reward.id == Redemption.reward_id)
          .where(Redemption.member_id == bindparam("member_id"), Redemption.status == ISSUED,
                 Redemption.shopify_discount_id.not_like(f"{STORE_CREDIT_ID_PREFIX}%"))
          .order_by(Redemption.created_at.desc(), Redemption.id.desc()))

# Both in one round trip: a member read is a handful of statements, each one a visible share
# of the widget's server time (bench/storefront.py).
_activity_rows = _ACTIVITY.subquery()
_code_rows = _CODES.subquery()
_ACTIVITY_AND_CODES = union_all(select(_activity_rows), select(_code_rows))


def activity_label(kind: str, note: str | None, shortfall: int, *, lang: Language = ENGLISH,
                   order_name: str | None = None, order_id: int | None = None,
                   titles: dict[str, str] | None = None) -> str:
    """What the shopper reads for an entry, in their language; a reversal says what it forgave.

    The label comes from the entry's kind (and its order's name), so it reads in the
    shopper's language whatever language the stored note was written in; only a manual
    adjustment shows its note, the reason the merchant typed. A redeemed reward keeps its
    code and its title (translated while it is the app's). A refund of points already spent
    takes what the balance holds and forgives the rest (still taken from lifetime points), so
    the shopper sees why lifetime fell by more.
    """
    if kind in MERCHANT_NOTE_KINDS and note:
        label = note
    elif kind in ORDER_KINDS:
        ref = order_name or (str(order_id) if order_id is not None else None)
        label = (lang.t(f"activity.{kind}", order=ref) if ref
                 else lang.t(f"activity.{ORDER_KINDS[kind]}"))
    elif kind == "redeem" and note and NOTE_SEPARATOR in note:
        title, code = note.rsplit(NOTE_SEPARATOR, 1)
        label = lang.t("activity.redeem", title=(titles or {}).get(title, title), code=code)
    elif kind == "redeem":
        label = lang.t("activity.reward")
    else:
        try:
            label = lang.t(f"activity.{kind}")
        except KeyError:
            label = note or kind
    if shortfall > 0:
        label = lang.t("activity.forgiven", label=label, count=shortfall)
    return label


def _activity(rows: Sequence[Any], now: datetime, lang: Language,
              titles: dict[str, str]) -> list[dict[str, Any]]:
    """The recent ledger entries as the shopper reads them, newest first."""
    entries = sorted(rows, key=lambda e: e.at, reverse=True)
    return [{"at": _iso_z(e.at), "points": e.points, "kind": e.kind,
             "label": activity_label(e.kind, e.note, e.shortfall, lang=lang,
                                     order_name=e.order_name, order_id=e.order_id,
                                     titles=titles),
             "status": "pending" if e.available_at > now else "available"}
            for e in entries if e.points != 0 or e.shortfall > 0]


def code_contract(code: str, title: str | None) -> dict[str, str]:
    """A reward code as the widget shows it, with the link that puts it in the cart."""
    return {"code": code, "title": title or "", "apply_url": f"/discount/{code}"}


def _codes(rows: Sequence[Any], lang: Language, currency: str) -> list[dict[str, str]]:
    """Code rows, newest first, titled in the shopper's language."""
    return [code_contract(row.code, row.title and shown_reward_title(
                lang, row.title, row.reward_kind, row.reward_value, currency))
            for row in sorted(rows, key=lambda r: r.at, reverse=True)]


def unused_codes(session: Session, member: Member, currency: str,
                 lang: Language = ENGLISH) -> list[dict[str, str]]:
    """The member's reward codes that an order can still use, newest first."""
    return _codes(session.execute(_CODES, {"member_id": member.id}).all(), lang, currency)


def activity_and_codes(session: Session, member: Member, now: datetime, *, currency: str,
                       lang: Language = ENGLISH, titles: dict[str, str] | None = None
                       ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The member's recent activity and unused codes, read in one statement."""
    rows = session.execute(_ACTIVITY_AND_CODES, {"member_id": member.id}).all()
    return (_activity([r for r in rows if r.kind != CODE_ROW], now, lang, titles or {}),
            _codes([r for r in rows if r.kind == CODE_ROW], lang, currency))


def member_view(session: Session, shop: Shop, member: Member, settings: ProgramSettings,
                now: datetime, rewards: Sequence[Reward] | None = None,
                lang: Language = ENGLISH, *,
                reward_costs: Mapping[int, int] | None = None) -> dict[str, Any]:
    """GET /proxy/member: balances, tier progress, rewards, unused codes, referral link, recent
    activity (`rewards`: the shop's active catalog when the caller has it already), in the
    shopper's language. `reward_costs`: the prices the member's A/B test arm gives, when the
    caller has them already (app/loyalty/experiments.py)."""
    release_unlocked(session, member, now)
    rewards = shop_rewards(session, shop.id) if rewards is None else rewards
    activity, codes = activity_and_codes(session, member, now, currency=shop.currency, lang=lang,
                                         titles=reward_titles(lang, rewards, shop.currency))
    progress = tier_progress(member, settings, tier_basis_value(session, member, settings, now))
    tier = progress.as_contract()
    tier["name"], tier["next"] = tier_name(lang, tier["name"]), tier_name(lang, tier["next"])
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
        "tier": tier,
        "rewards": _shown_rewards(
            available_rewards(member, settings, rewards,
                              reward_costs_for_member(session, member)
                              if reward_costs is None else reward_costs),
            rewards, shop, lang),
        "codes": codes,
        "referral": referral_contract(shop, member, settings, lang),
        "activity": activity,
    }
