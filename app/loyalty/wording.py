"""Program text in the shopper's language: what the app wrote translates, what the merchant
typed stays as typed.

The app writes a reward's title ("$5 off") and the default tiers' names and benefits in
English when it seeds them; a shopper reads them from the catalogs instead while they are
still the app's own words. A title or tier the merchant wrote is shown exactly as written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.i18n import Language
from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings, Tier
from app.loyalty.reward_kinds import KINDS
from app.loyalty.rewards import reward_title

# Default tier name → its catalog section (tiers.bronze.name, tiers.bronze.benefits).
_DEFAULT_TIERS = {level["name"]: (level["name"].lower(), level["benefits"])
                  for level in DEFAULT_SETTINGS["tiers"]["levels"]}


def reward_title_in(lang: Language, kind: str, value: Decimal, currency: str) -> str:
    """The title the app gives a reward, in this language: '$5 off', '5 € de réduction'."""
    return KINDS[kind].title_in(lang, value, currency)


def shown_reward_title(lang: Language, title: str, kind: str | None, value: Decimal | None,
                       currency: str) -> str:
    """A stored reward title as the shopper reads it: translated while it is the app's."""
    if kind is None or value is None or title != reward_title(kind, Decimal(value), currency):
        return title
    return reward_title_in(lang, kind, Decimal(value), currency)


def reward_titles(lang: Language, rewards: Any, currency: str) -> dict[str, str]:
    """Stored title → shown title for a catalog (activity notes name rewards by title)."""
    return {r.title: shown_reward_title(lang, r.title, r.kind, r.value, currency)
            for r in rewards}


def tier_name(lang: Language, name: str | None) -> str | None:
    """A tier's name as the shopper reads it: Silver is Argent in French, 'VIP' stays VIP."""
    if name is None or name not in _DEFAULT_TIERS:
        return name
    return lang.t(f"tiers.{_DEFAULT_TIERS[name][0]}.name")


def tier_benefits(lang: Language, tier: Tier) -> str:
    """A tier's benefits: translated while they are still the default text of a default tier."""
    default = _DEFAULT_TIERS.get(tier.name)
    if default is None or tier.benefits != default[1]:
        return tier.benefits
    return lang.t(f"tiers.{default[0]}.benefits")


def friend_offer(lang: Language, settings: ProgramSettings, currency: str) -> str:
    """What a referred friend gets: '10% off', '5 € de réduction'."""
    value = Decimal(str(settings.referrals["friend_discount_value"]))
    if settings.referrals["friend_discount_kind"] == "percent_off":
        return lang.t("rewards.percent_off", percent=lang.percent(value))
    return lang.t("rewards.amount_off", amount=lang.price(value, currency))


def earn_label(lang: Language, settings: ProgramSettings, currency: str) -> str:
    """'5 points per $1', '2,5 points par tranche de 1 €'."""
    return lang.t("program.earn_label", count=settings.points_per_unit,
                  amount=lang.price(Decimal(1), currency))
