"""The rewards catalog: what points buy, who may buy it, and the ladder every shop starts with.

Defaults follow features.md: 500 / 1,000 / 2,500 points = 5 / 10 / 25 off, plus free shipping
at 400 (the first reward within one average order). Store credit is a kind a merchant can add:
it works at checkout on every plan and never conflicts with other discounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.errors import FieldErrors
from app.inputs import NUL_MESSAGE, has_nul
from app.loyalty.program import ProgramSettings
from app.loyalty.reward_kinds import KINDS, stacking
from app.models import Member, Reward, Shop

# rewards.title is VARCHAR(255).
TITLE_MAX = 255

# Why a reward is not available to a member: stable codes the widget and admin can show.
INACTIVE, OTHER_SHOP, TIER_REQUIRED, UNKNOWN_TIER = (
    "inactive", "other_shop", "tier_required", "unknown_tier")


@dataclass(frozen=True)
class RewardTemplate:
    """One rung of the default ladder, in units of the shop's currency."""

    kind: str
    cost: int
    value: Decimal
    # A reward never pays for more than half the order: 5 off needs a 10 subtotal.
    min_subtotal: Decimal | None
    # Whether it stacks with the shop's other order and product discounts (features.md pain
    # point 4: combinations are set when a code is created, so the default has to be right).
    combines: bool


DEFAULT_CATALOG: tuple[RewardTemplate, ...] = (
    # Free shipping is a shipping-class discount: it stacks with order discounts by default.
    RewardTemplate("free_shipping", 400, Decimal(0), None, True),
    RewardTemplate("amount_off", 500, Decimal(5), Decimal(10), False),
    RewardTemplate("amount_off", 1000, Decimal(10), Decimal(20), False),
    RewardTemplate("amount_off", 2500, Decimal(25), Decimal(50), False),
)


class RewardError(FieldErrors, ValueError):
    """A reward that cannot be saved; `errors` maps a field to a message."""

    code = "invalid_reward"


def reward_title(kind: str, value: Decimal, currency: str) -> str:
    """The title a shopper reads: '$5 off', '10% off', 'Free shipping', '$5 store credit'."""
    return KINDS[kind].title(value, currency)


def validate_reward(kind: str, cost: Any, value: Any, min_subtotal: Any,
                    tier_required: str | None, settings: ProgramSettings, *,
                    title: str | None = None) -> dict[str, str]:
    """Field errors of a reward definition; empty when it can be saved."""
    errors: dict[str, str] = {}
    if title is not None and len(title.strip()) > TITLE_MAX:
        errors["title"] = f"must be at most {TITLE_MAX} characters"
    elif has_nul(title):
        errors["title"] = NUL_MESSAGE
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    if isinstance(cost, bool) or not isinstance(cost, int) or not 1 <= cost <= 10**7:
        errors["cost"] = "must be a whole number of points from 1 to 10,000,000"
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["value"] = "must be a number"
        amount = None
    problem = KINDS[kind].value_problem(amount) if amount is not None and kind in KINDS else None
    if problem is not None:
        errors["value"] = problem
    if min_subtotal is not None:
        try:
            if not Decimal(0) <= Decimal(str(min_subtotal)) <= Decimal(10**7):
                errors["min_subtotal"] = "must be 0 or more"
        except (InvalidOperation, ValueError):
            errors["min_subtotal"] = "must be a number"
    if tier_required is not None and tier_required not in {t.name for t in settings.tiers}:
        errors["tier_required"] = "must name one of the program's tiers"
    return errors


def create_reward(session: Session, shop: Shop, settings: ProgramSettings, *, kind: str,
                  cost: int, value: Decimal | str | int, now: datetime,
                  title: str | None = None, min_subtotal: Decimal | str | None = None,
                  tier_required: str | None = None, combines: bool = False,
                  position: int | None = None) -> Reward:
    """Validate and add one reward to a shop's catalog."""
    errors = validate_reward(kind, cost, value, min_subtotal, tier_required, settings,
                             title=title)
    if errors:
        raise RewardError(errors)
    amount = KINDS[kind].stored_value(value)
    if position is None:
        position = len(shop_rewards(session, shop.id, active_only=False))
    reward = Reward(
        shop_id=shop.id, kind=kind, cost=cost, value=amount,
        title=(title or "").strip() or reward_title(kind, amount, shop.currency),
        min_subtotal=Decimal(str(min_subtotal)) if min_subtotal is not None else None,
        tier_required=tier_required, combines=combines, active=True, position=position,
        created_at=now)
    session.add(reward)
    session.flush()
    return reward


def _catalog_statement(active_only: bool):  # noqa: ANN202 - a Select
    query = select(Reward).where(Reward.shop_id == bindparam("shop_id"))
    if active_only:
        query = query.where(Reward.active.is_(True))
    return query.order_by(Reward.position, Reward.cost, Reward.id)


# Built once: the storefront reads the catalog on every request (bench/storefront.py).
_CATALOG = {flag: _catalog_statement(flag) for flag in (False, True)}


def shop_rewards(session: Session, shop_id: int, *, active_only: bool = True) -> list[Reward]:
    """A shop's catalog in display order (position, then cheapest first)."""
    return list(session.execute(_CATALOG[active_only], {"shop_id": shop_id}).scalars())


def seed_default_rewards(session: Session, shop: Shop, now: datetime) -> list[Reward]:
    """Give a shop the default ladder, once: a shop that has any reward keeps its catalog."""
    existing = shop_rewards(session, shop.id, active_only=False)
    if existing:
        return existing
    rewards = [
        Reward(shop_id=shop.id, kind=t.kind, cost=t.cost, value=t.value,
               title=reward_title(t.kind, t.value, shop.currency), min_subtotal=t.min_subtotal,
               tier_required=None, combines=t.combines, active=True, position=i,
               created_at=now)
        for i, t in enumerate(DEFAULT_CATALOG)]
    session.add_all(rewards)
    session.flush()
    return rewards


def retitle_for_currency(session: Session, shop_id: int, old_currency: str,
                         new_currency: str) -> list[Reward]:
    """Follow a change of the shop's currency in the titles the app wrote; returns those changed.

    The default ladder is seeded at install, before the Admin API has told the shop's currency,
    and a shop may change currency later. A title still equal to the one generated for the old
    currency is the app's and follows; any other title the merchant wrote and is left alone.
    """
    changed = []
    for reward in shop_rewards(session, shop_id, active_only=False):
        if reward.title == reward_title(reward.kind, reward.value, old_currency):
            title = reward_title(reward.kind, reward.value, new_currency)
            if title != reward.title:
                reward.title = title
                changed.append(reward)
    return changed


def tier_rank(settings: ProgramSettings, name: str | None) -> int | None:
    """A tier's place on the ladder (0 = entry tier); None for a name the program lacks.

    A member with no tier yet stands on the entry tier.
    """
    if name is None:
        return 0
    names = [t.name for t in settings.tiers]
    return names.index(name) if name in names else None


def unavailable_reason(member: Member | None, settings: ProgramSettings,
                       reward: Reward) -> str | None:
    """Why this member may not redeem this reward (ignoring points), or None if they may."""
    if not reward.active:
        return INACTIVE
    if member is not None and member.shop_id != reward.shop_id:
        return OTHER_SHOP
    if reward.tier_required is None:
        return None
    required = tier_rank(settings, reward.tier_required)
    if required is None:
        # The merchant renamed or removed the tier: nobody qualifies until the reward is edited.
        return UNKNOWN_TIER
    held = tier_rank(settings, member.tier if member is not None else None)
    if held is None or held < required:
        return TIER_REQUIRED
    return None


def available_rewards(member: Member | None, settings: ProgramSettings,
                      rewards: Iterable[Reward],
                      costs: Mapping[int, int] | None = None) -> list[dict[str, Any]]:
    """The widget's `rewards` list: rewards this member's tier allows, and whether they can pay.

    A logged-out visitor (member None) sees the rewards open to everyone, none affordable.
    `costs` holds the prices the member's A/B test arm gives (app/loyalty/experiments.py).
    """
    balance = member.points_available if member is not None else 0
    price = {r.id: r.cost for r in rewards} | dict(costs or {})
    allowed: Sequence[Reward] = sorted(
        (r for r in rewards if unavailable_reason(member, settings, r) is None),
        key=lambda r: (r.position, r.cost, r.id))
    return [{"id": r.id, "title": r.title, "cost": price[r.id],
             "affordable": member is not None and balance >= price[r.id],
             "stacking": stacking(r.kind, r.combines)} for r in allowed]
