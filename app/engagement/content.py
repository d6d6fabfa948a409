"""Each flow's declaration (the `Flow` registry's entries), what it says, and whether what it
is about is still true when it is due.

`compose` re-checks the flow's facts (an order refunded since, a member who ordered again, a
tier already secured) and answers either a cancel reason or the personalised context the
templates render: name, balance, tier, the relevant reward and the flow's own details, with
signed links for the answer pages and the one-click unsubscribe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engagement import links as link_kinds
from app.engagement.flows import (
    DETRACTOR_ALERT,
    FLOWS,
    Flow,
    flow_settings,
    key_parts,
    register,
)
from app.engagement.links import LinkSigner
from app.engagement.reorder import latest_order_id
from app.engagement.rules import local_time
from app.engagement.schedule import order_refunded, tier_at_risk
from app.loyalty.expiry import expires_at
from app.loyalty.labels import money_label, number_label
from app.loyalty.ledger import ledger_balances
from app.loyalty.order_records import earn_entry, order_ref
from app.loyalty.program import ProgramSettings
from app.loyalty.reversals import reversed_points
from app.loyalty.rewards import available_rewards, shop_rewards
from app.loyalty.tiers import tier_named
from app.models import LedgerEntry, Member, Message, Order, Shop, SurveyResponse, TierChange
from app.models.review import PurchasedProduct, Review

NPS_SCORES = tuple(range(11))


@dataclass
class Content:
    """Who gets the message and what it says, or why it should no longer be sent."""

    recipient: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    offer_points: int = 0
    cancel_reason: str | None = None


@dataclass(frozen=True)
class Due:
    """A due shopper message and everything needed to write it."""

    session: Session
    shop: Shop
    settings: ProgramSettings
    message: Message
    member: Member
    signer: LinkSigner
    now: datetime

    def link(self, path: str, purpose: str, **claims: Any) -> str:
        """A signed link for this message."""
        return self.signer.url(path, purpose, self.now, x=self.message.id, **claims)

    def order(self, shopify_order_id: int) -> Order | None:
        """One of the shop's orders by its Shopify id."""
        return shop_order(self.session, self.shop, shopify_order_id)


def cancelled(reason: str) -> Content:
    """Content for a message whose fact no longer holds."""
    return Content(cancel_reason=reason)


def shop_order(session: Session, shop: Shop, shopify_order_id: int) -> Order | None:
    """The shop's order with that Shopify id."""
    return session.execute(select(Order).where(
        Order.shop_id == shop.id, Order.shopify_order_id == shopify_order_id)
    ).scalar_one_or_none()


def suggested_reward(session: Session, shop: Shop, member: Member,
                     settings: ProgramSettings) -> dict[str, Any] | None:
    """The best reward the member can take now, else the nearest one and how far it is."""
    rewards = available_rewards(member, settings, shop_rewards(session, shop.id))
    affordable = [r for r in rewards if r["affordable"]]
    if affordable:
        best = max(affordable, key=lambda r: r["cost"])
        return {"title": best["title"], "cost": best["cost"], "affordable": True,
                "points_to_go": 0}
    if not rewards:
        return None
    nearest = min(rewards, key=lambda r: r["cost"])
    return {"title": nearest["title"], "cost": nearest["cost"], "affordable": False,
            "points_to_go": nearest["cost"] - member.points_available}


def date_label(moment: datetime, shop: Shop) -> str:
    """A date as the shopper reads it, in the shop's timezone: 'December 22, 2026'."""
    local = local_time(moment, shop)
    return f"{local:%B} {local.day}, {local.year}"


def compose(session: Session, shop: Shop, settings: ProgramSettings, message: Message,
            member: Member | None, signer: LinkSigner, now: datetime) -> Content:
    """The message's recipient and context, or the reason its fact no longer holds."""
    if message.kind == DETRACTOR_ALERT:
        return _detractor_alert(session, shop, message)
    if member is None:
        return Content()
    due = Due(session, shop, settings, message, member, signer, now)
    return FLOWS[message.kind].compose(due, _common(due))


def _common(due: Due) -> Content:
    """What every shopper email has: who, balance, tier, reward, store and unsubscribe links."""
    shop, member = due.shop, due.member
    store_url = f"https://{shop.storefront_host}/"
    links = {
        "store": due.link("c", link_kinds.CLICK, to=store_url),
        "unsubscribe": due.link("unsubscribe", link_kinds.UNSUBSCRIBE, s=shop.id, m=member.id),
    }
    if due.settings.engagement["open_tracking"]:
        links["open_pixel"] = due.link("o", link_kinds.OPEN)
    return Content(recipient=member.email, context={
        "kind": due.message.kind,
        "shop": {"name": shop.name or shop.domain, "url": store_url},
        "member": {"first_name": member.display_name, "email": member.email},
        "points": {"available": member.points_available, "pending": member.points_pending},
        "tier": member.tier,
        "reward": suggested_reward(due.session, shop, member, due.settings),
        "links": links,
    })


def _welcome(due: Due, content: Content) -> Content:
    """Welcome: what the first order earned, when it unlocks, how earning works."""
    first = due.session.execute(select(LedgerEntry).where(
        LedgerEntry.member_id == due.member.id, LedgerEntry.kind == "earn_order")
        .order_by(LedgerEntry.created_at, LedgerEntry.id).limit(1)).scalar_one_or_none()
    order = due.order(first.order_id) if first is not None and first.order_id else None
    # What the order still earns: a partial refund before the welcome took some back.
    earned = first.points - reversed_points(due.session, order) if order is not None else 0
    content.context["welcome"] = {
        "order_points": max(earned, 0),
        "unlocks_on": (date_label(first.available_at, due.shop)
                       if first is not None and first.available_at > due.now else None),
        "points_per_unit": number_label(due.settings.points_per_unit),
        "unit": money_label(Decimal(1), due.shop.currency),
    }
    return content


def _points_unlocked(due: Due, content: Content) -> Content:
    """Unlocked: the order's points that are still its own after any refund."""
    [order_id] = key_parts(due.message.natural_key)
    order = due.order(int(order_id))
    entry = earn_entry(due.session, due.shop.id, int(order_id))
    if order is None or entry is None or order.status == "cancelled":
        return cancelled("order_cancelled")
    remaining = entry.points - reversed_points(due.session, order)
    if remaining <= 0:
        return cancelled("order_refunded")
    content.context["unlocked"] = {"points": remaining, "order": order_ref(order)}
    return content


def _order_no_longer_stands(session: Session, order: Order | None) -> str | None:
    """Why an order no longer deserves a follow-up (cancelled, refunded), or None."""
    if order is None or order.status == "cancelled":
        return "order_cancelled"
    if order_refunded(session, order):
        return "order_refunded"
    return None


def _review_request(due: Due, content: Content) -> Content:
    """Review request: the order's products the member has not reviewed yet."""
    [order_id] = key_parts(due.message.natural_key)
    order = due.order(int(order_id))
    reason = _order_no_longer_stands(due.session, order)
    if reason is not None:
        return cancelled(reason)
    reviewed = select(Review.product_id).where(Review.shop_id == due.shop.id,
                                               Review.member_id == due.member.id)
    products = due.session.execute(select(PurchasedProduct).where(
        PurchasedProduct.shop_id == due.shop.id,
        PurchasedProduct.order_id == order.shopify_order_id,
        PurchasedProduct.product_id.not_in(reviewed)).order_by(PurchasedProduct.id)
    ).scalars().all()
    if not products:
        return cancelled("already_reviewed")
    content.context["review"] = {
        "order": order_ref(order),
        "products": [p.title or "Your item" for p in products],
        "bonus": due.settings.bonuses.get("review", 0),
        "url": due.link("review", link_kinds.REVIEW, s=due.shop.id, m=due.member.id,
                        o=order.shopify_order_id),
    }
    return content


def _nps_request(due: Due, content: Content) -> Content:
    """Survey: eleven one-click scores, unless the order was answered on the thank-you page."""
    [order_id] = key_parts(due.message.natural_key)
    order = due.order(int(order_id))
    if order is None or order.status == "cancelled":
        return cancelled("order_cancelled")
    answered = due.session.execute(select(SurveyResponse.id).where(
        SurveyResponse.shop_id == due.shop.id,
        SurveyResponse.order_id == order.shopify_order_id)).first()
    if answered is not None:
        return cancelled("already_answered")
    base = due.link("nps", link_kinds.SURVEY, s=due.shop.id, m=due.member.id,
                    o=order.shopify_order_id)
    content.context["survey"] = {
        "order": order_ref(order), "bonus": due.settings.bonuses.get("nps", 0),
        "scores": [{"score": n, "url": f"{base}?score={n}"} for n in NPS_SCORES],
    }
    return content


def _expiry_warning(due: Due, content: Content) -> Content:
    """Expiry warning: still the same deadline (no activity since) and points left to lose."""
    _member_id, day = key_parts(due.message.natural_key)
    deadline = expires_at(due.member, due.settings)
    if deadline is None or f"{deadline:%Y%m%d}" != day:
        return cancelled("active_since")
    points = ledger_balances(due.session, due.member.id, deadline).available
    if points <= 0:
        return cancelled("nothing_to_expire")
    content.context["expiry"] = {"points": points, "on": date_label(deadline, due.shop)}
    return content


def _tier_upgraded(due: Due, content: Content) -> Content:
    """Upgrade: the tier reached, if the member still holds it, and what it brings."""
    [change_id] = key_parts(due.message.natural_key)
    change = due.session.get(TierChange, int(change_id))
    if change is None or due.member.tier != change.to_tier:
        return cancelled("tier_changed")
    tier = tier_named(due.settings, change.to_tier)
    content.context["upgrade"] = {
        "tier": change.to_tier, "benefits": tier.benefits if tier else "",
        "multiplier": number_label(tier.multiplier) if tier else "1"}
    return content


def _tier_at_risk(due: Due, content: Content) -> Content:
    """Tier at risk: the review date and what is still needed to keep the tier."""
    _member_id, since = key_parts(due.message.natural_key)
    member = due.member
    if member.tier_since is None or f"{member.tier_since:%Y%m%dT%H%M%S}" != since:
        return cancelled("tier_changed")
    risk = tier_at_risk(due.session, member, due.settings, due.now)
    if risk is None:
        return cancelled("tier_secured")
    review, shortfall = risk
    needed = (f"{int(shortfall)} points" if due.settings.tier_basis == "lifetime_points"
              else money_label(Decimal(shortfall).quantize(Decimal("0.01")),
                               due.shop.currency))
    content.context["at_risk"] = {"tier": member.tier, "on": date_label(review, due.shop),
                                  "needed": needed}
    return content


def _birthday(due: Due, content: Content) -> Content:
    """Birthday: the bonus the daily round paid today."""
    _member_id, year = key_parts(due.message.natural_key)
    points = due.session.execute(select(LedgerEntry.points).where(
        LedgerEntry.shop_id == due.shop.id,
        LedgerEntry.source_key == f"birthday:{due.member.id}:{year}")).scalar_one_or_none()
    content.context["birthday"] = {"bonus": points or 0}
    return content


def _quiet_spell(due: Due, content: Content) -> Content:
    """Replenishment and win-back: still quiet since that order, and what it bought."""
    _member_id, last = key_parts(due.message.natural_key)
    if latest_order_id(due.session, due.member, due.settings) != int(last):
        return cancelled("ordered_since")
    order = due.order(int(last))
    titles = due.session.execute(select(PurchasedProduct.title).where(
        PurchasedProduct.shop_id == due.shop.id, PurchasedProduct.order_id == int(last))
        .order_by(PurchasedProduct.id)).scalars().all()
    content.context["last_order"] = {
        "order": order_ref(order) if order else last,
        "products": [t or "Your item" for t in titles],
        "days": (due.now - order.paid_at).days if order and order.paid_at else None,
    }
    return content


def _win_back(due: Due, content: Content) -> Content:
    """Win-back: the quiet spell, and the bonus points offered to come back."""
    content = _quiet_spell(due, content)
    if content.cancel_reason is None:
        points = int(flow_settings(due.settings, "win_back").get("bonus_points", 0))
        content.offer_points = points
        content.context["offer"] = {
            "points": points,
            "value": money_label(Decimal(points) * due.settings.point_value,
                                 due.shop.currency)}
    return content


def _detractor_alert(session: Session, shop: Shop, message: Message) -> Content:
    """The merchant's alert: score, comment, order and who answered."""
    [response_id] = key_parts(message.natural_key)
    response = session.get(SurveyResponse, int(response_id))
    if response is None:
        return cancelled("answer_gone")
    if not response.detractor:
        # The shopper changed their score within the grace period: nothing to follow up.
        return cancelled("no_longer_detractor")
    order = shop_order(session, shop, response.order_id)
    member = session.get(Member, response.member_id) if response.member_id else None
    customer = "A guest"
    if member is not None:
        full_name = f"{member.first_name or ''} {member.last_name or ''}".strip()
        customer = full_name or member.email or "A member"
    handle = shop.domain.removesuffix(".myshopify.com")
    return Content(recipient=shop.email, context={
        "kind": DETRACTOR_ALERT,
        "shop": {"name": shop.name or shop.domain, "url": f"https://{shop.storefront_host}/"},
        "alert": {
            "score": response.score, "comment": response.comment,
            "order": order_ref(order) if order else str(response.order_id),
            "channel": response.channel, "customer": customer,
            "email": member.email if member else None,
            "admin_url": f"https://admin.shopify.com/store/{handle}/orders/{response.order_id}",
        },
        "links": {},
    })


# The shopper flows, in the order the admin lists them. A new flow is one declaration here
# with its builder above, its planning in app/engagement/schedule.py and its two templates.
register(
    Flow("welcome", "Welcome", promotional=False, max_delay=timedelta(days=3),
         subject="Welcome to {{ shop.name }} rewards, {{ member.first_name }}",
         compose=_welcome),
    Flow("points_unlocked", "Points unlocked", promotional=False, max_delay=timedelta(days=3),
         subject="Your {{ unlocked.points }} points are ready to use",
         compose=_points_unlocked),
    Flow("review_request", "Review request", promotional=True, max_delay=timedelta(days=7),
         subject="How is your order {{ review.order }}? Earn {{ review.bonus }} points",
         compose=_review_request),
    Flow("nps_request", "NPS question", promotional=True, max_delay=timedelta(days=7),
         subject="One quick question about order {{ survey.order }}",
         compose=_nps_request),
    Flow("expiry_warning", "Points expiry warning", promotional=False,
         max_delay=timedelta(days=7),
         subject="{{ expiry.points }} points expire on {{ expiry.on }}",
         compose=_expiry_warning, defaults={"enabled": True, "days_before": 30}),
    Flow("tier_upgraded", "Tier upgrade", promotional=False, max_delay=timedelta(days=3),
         subject="You're {{ upgrade.tier }} now", compose=_tier_upgraded),
    Flow("tier_at_risk", "Tier at risk", promotional=True, max_delay=timedelta(days=7),
         subject="Keep your {{ at_risk.tier }} status", compose=_tier_at_risk,
         defaults={"enabled": True, "days_before": 30}),
    Flow("birthday", "Birthday", promotional=True, max_delay=timedelta(days=2),
         subject="Happy birthday, {{ member.first_name }}!", compose=_birthday),
    Flow("replenishment", "Time to reorder", promotional=True, max_delay=timedelta(days=7),
         subject="Time to restock, {{ member.first_name }}?", compose=_quiet_spell),
    Flow("win_back", "Win-back", promotional=True, max_delay=timedelta(days=7), offer=True,
         subject="We miss you: {{ offer.points }} bonus points inside", compose=_win_back,
         defaults={"enabled": True, "bonus_points": 200}),
)
