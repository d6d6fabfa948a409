"""A shop's program settings: defaults from features.md, validated, versioned, applied forward.

Settings are stored as JSON (SettingsVersion rows); the domain reads them as a typed,
frozen ProgramSettings so a rule can never see a half-valid value.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import SettingsVersion

DEFAULT_SETTINGS: dict[str, Any] = {
    "earning": {
        "points_per_unit": "5",
        # 100 points are worth 1 unit of shop currency.
        "point_value": "0.01",
        "exclude_shipping": True,
        "exclude_taxes": True,
        "exclude_tips": True,
        "exclude_gift_cards": True,
        "test_orders_earn": False,
    },
    "pending_days": 30,
    "expiry_months": 12,
    "allow_negative_balance": False,
    "tiers": {
        # spend_12m: eligible spend over a rolling 12 months; lifetime_points: points earned ever.
        "basis": "spend_12m",
        "retention_days": 365,
        "levels": [
            {"name": "Bronze", "threshold": "0", "multiplier": "1",
             "benefits": "Earn 5 points per 1 spent"},
            {"name": "Silver", "threshold": "300", "multiplier": "1.25",
             "benefits": "25% more points on every order"},
            {"name": "Gold", "threshold": "800", "multiplier": "1.5",
             "benefits": "50% more points and early access"},
        ],
    },
    "referrals": {
        "enabled": True,
        "friend_discount_kind": "percent_off",
        "friend_discount_value": "10",
        "referrer_points": 500,
        # Points for the friend on top of their first-order discount (off by default).
        "referee_points": 0,
        "monthly_cap": 10,
        # Referrals from the referrer's own IP allowed before IP becomes a reason (households).
        "household_ip_allowance": 1,
    },
    "bonuses": {"signup": 250, "birthday": 200, "review": 100, "review_photo": 200, "nps": 50},
}


class SettingsError(ValueError):
    """Settings that cannot be saved; `errors` maps a dotted field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Tier:
    """One VIP level."""

    name: str
    threshold: Decimal
    multiplier: Decimal
    benefits: str


@dataclass(frozen=True)
class ProgramSettings:
    """The typed view of one settings version."""

    version: int
    data: dict[str, Any]

    @property
    def points_per_unit(self) -> Decimal:
        """Points earned per unit of eligible spend, before the tier multiplier."""
        return Decimal(str(self.data["earning"]["points_per_unit"]))

    @property
    def point_value(self) -> Decimal:
        """Currency value of one point."""
        return Decimal(str(self.data["earning"]["point_value"]))

    @property
    def earning(self) -> dict[str, Any]:
        """The earning section (exclusions, test orders)."""
        return self.data["earning"]

    @property
    def pending_days(self) -> int:
        """Days earned points stay pending (the return window)."""
        return int(self.data["pending_days"])

    @property
    def expiry_months(self) -> int:
        """Months of inactivity after which points expire; 0 disables expiry."""
        return int(self.data["expiry_months"])

    @property
    def allow_negative_balance(self) -> bool:
        """Whether a reversal may take the available balance below zero."""
        return bool(self.data["allow_negative_balance"])

    @property
    def tiers(self) -> list[Tier]:
        """VIP tiers, lowest threshold first."""
        levels = [Tier(t["name"], Decimal(str(t["threshold"])), Decimal(str(t["multiplier"])),
                       t.get("benefits", "")) for t in self.data["tiers"]["levels"]]
        return sorted(levels, key=lambda t: t.threshold)

    @property
    def tier_basis(self) -> str:
        """What tiers are measured on: 'spend_12m' or 'lifetime_points'."""
        return self.data["tiers"]["basis"]

    @property
    def tier_retention_days(self) -> int:
        """Days a member keeps a tier before a downgrade may happen."""
        return int(self.data["tiers"]["retention_days"])

    @property
    def referrals(self) -> dict[str, Any]:
        """Referral rewards and fraud limits."""
        return self.data["referrals"]

    @property
    def bonuses(self) -> dict[str, int]:
        """Points for actions other than orders."""
        return {k: int(v) for k, v in self.data["bonuses"].items()}


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _decimal(errors: dict[str, str], field: str, raw: Any, low: Decimal,
             high: Decimal) -> None:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        errors[field] = "must be a number"
        return
    if not value.is_finite() or not low <= value <= high:
        errors[field] = f"must be between {low} and {high}"


def _integer(errors: dict[str, str], field: str, raw: Any, low: int, high: int) -> None:
    if isinstance(raw, bool) or not isinstance(raw, int):
        try:
            raw = int(str(raw))
        except ValueError:
            errors[field] = "must be a whole number"
            return
    if not low <= raw <= high:
        errors[field] = f"must be between {low} and {high}"


def validate(data: dict[str, Any]) -> dict[str, str]:
    """Field errors of a complete settings document; empty when it can be saved."""
    errors: dict[str, str] = {}
    earning = data.get("earning", {})
    _decimal(errors, "earning.points_per_unit", earning.get("points_per_unit"),
             Decimal(0), Decimal(1000))
    _decimal(errors, "earning.point_value", earning.get("point_value"),
             Decimal("0.0001"), Decimal(100))
    _integer(errors, "pending_days", data.get("pending_days"), 0, 365)
    _integer(errors, "expiry_months", data.get("expiry_months"), 0, 120)
    tiers = data.get("tiers", {})
    if tiers.get("basis") not in {"spend_12m", "lifetime_points"}:
        errors["tiers.basis"] = "must be spend_12m or lifetime_points"
    _integer(errors, "tiers.retention_days", tiers.get("retention_days"), 0, 3650)
    levels = tiers.get("levels") or []
    if not levels:
        errors["tiers.levels"] = "needs at least one tier"
    names = [str(t.get("name", "")).strip() for t in levels]
    if any(not n for n in names):
        errors["tiers.levels"] = "every tier needs a name"
    elif len(set(n.lower() for n in names)) != len(names):
        errors["tiers.levels"] = "tier names must be unique"
    for i, level in enumerate(levels):
        _decimal(errors, f"tiers.levels.{i}.threshold", level.get("threshold"),
                 Decimal(0), Decimal(10**9))
        _decimal(errors, f"tiers.levels.{i}.multiplier", level.get("multiplier"),
                 Decimal("0.1"), Decimal(10))
    if levels and "tiers.levels" not in errors and all(
            f"tiers.levels.{i}.threshold" not in errors for i in range(len(levels))):
        if min(Decimal(str(t["threshold"])) for t in levels) != 0:
            errors["tiers.levels"] = "the lowest tier must start at 0"
    referrals = data.get("referrals", {})
    if referrals.get("friend_discount_kind") not in {"percent_off", "amount_off"}:
        errors["referrals.friend_discount_kind"] = "must be percent_off or amount_off"
    percent = referrals.get("friend_discount_kind") == "percent_off"
    high = Decimal(100) if percent else Decimal(10**6)
    _decimal(errors, "referrals.friend_discount_value", referrals.get("friend_discount_value"),
             Decimal(0), high)
    _integer(errors, "referrals.referrer_points", referrals.get("referrer_points"), 0, 10**6)
    _integer(errors, "referrals.referee_points", referrals.get("referee_points"), 0, 10**6)
    _integer(errors, "referrals.monthly_cap", referrals.get("monthly_cap"), 0, 10**4)
    _integer(errors, "referrals.household_ip_allowance",
             referrals.get("household_ip_allowance"), 0, 100)
    for key, value in (data.get("bonuses") or {}).items():
        _integer(errors, f"bonuses.{key}", value, 0, 10**6)
    return errors


def current_settings(session: Session, shop_id: int) -> ProgramSettings:
    """The newest saved settings of a shop, or the defaults (version 0) before any save."""
    row = session.execute(
        select(SettingsVersion).where(SettingsVersion.shop_id == shop_id)
        .order_by(SettingsVersion.version.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        return ProgramSettings(version=0, data=copy.deepcopy(DEFAULT_SETTINGS))
    return ProgramSettings(version=row.version, data=_merge(DEFAULT_SETTINGS, row.data))


def save_settings(session: Session, shop_id: int, changes: dict[str, Any], *,
                  changed_by: str | None, now: datetime,
                  summary: str | None = None) -> ProgramSettings:
    """Validate and save a new version; it applies to events processed from now on.

    A concurrent save of the same version number fails on the unique constraint,
    so two staff members can never silently overwrite each other.
    """
    current = current_settings(session, shop_id)
    data = _merge(current.data, changes)
    errors = validate(data)
    if errors:
        raise SettingsError(errors)
    row = SettingsVersion(shop_id=shop_id, version=current.version + 1, data=data,
                          changed_by=changed_by, summary=summary, created_at=now)
    session.add(row)
    session.flush()
    return ProgramSettings(version=row.version, data=data)
