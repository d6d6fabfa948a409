"""A shop's program settings: defaults from features.md, validated, versioned, applied forward.

Settings are stored as JSON (SettingsVersion rows); the domain reads them as a typed,
frozen ProgramSettings so a rule can never see a half-valid value.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.errors import FieldErrors
from app.inputs import NUL_MESSAGE, has_nul
from app.loyalty.settings_labels import field_label
from app.models import SettingsVersion

# Each engagement flow's switch and tunables by flow name. The rules know no flow: app/engagement/
# registers its flows here (app/engagement/flows.register), so the program's defaults, their
# validation and the settings page follow the flow registry.
FLOW_DEFAULTS: dict[str, dict[str, Any]] = {}

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
        # In-store orders (`source_name` "pos") earn by the same rules unless this is off.
        "pos_orders_earn": True,
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
    "engagement": {
        # Days after fulfilment / payment before asking for a review and for an NPS score.
        "review_request_days": 10,
        "nps_request_days": 14,
        # At most this many messages to one shopper within this many days.
        "frequency_cap_messages": 2,
        "frequency_cap_days": 7,
        # Nothing is sent between these hours of the shop's local day.
        "quiet_hours_start": 21,
        "quiet_hours_end": 8,
        # Currency spent on engagement rewards per day, at most (points x point value).
        "daily_reward_budget": "50.00",
        # Each post-purchase flow switched on or off and tuned per shop: the defaults of the
        # flows app/engagement/ registers (FLOW_DEFAULTS).
        "flows": FLOW_DEFAULTS,
        # Transactional notices (points unlocked, tier upgraded) go to every member unless the
        # shop asks for marketing consent for them too; promotional flows always need it.
        "transactional_needs_consent": False,
        # A tracking pixel in emails: off by default (shoppers are not tracked unasked).
        "open_tracking": False,
    },
    "widget": {
        # What the storefront launcher, its panel and the loyalty page block show; the only
        # place these are set (the blocks read them from an app-data metafield, app/shopify/
        # widget_settings.py). A text left at its default shows translated on the storefront.
        "launcher_label": "Rewards",
        "panel_title": "Rewards",
        "guest_intro": ("Join our rewards program: earn points on every order and turn them "
                        "into discounts."),
        "position": "right",
        "colors": {"accent": "#1f6f50", "accent_text": "#ffffff",
                   "panel_background": "#ffffff", "panel_text": "#1f2933"},
    },
    "effect": {
        # How the holdout comparison is read (app/insights/effect.py): each customer is
        # followed for this many days after being assigned.
        "repeat_days": 90,
        # The shop's gross margin: what a unit of extra revenue is worth to it.
        "gross_margin_percent": "50",
        # The smallest change of the repeat rate worth knowing, in percentage points; until
        # the groups can detect it, no figure is shown.
        "smallest_effect_points": "3",
        # The share of points held today expected to be redeemed some day.
        "expected_redemption_percent": "60",
    },
}

WIDGET_POSITIONS = ("right", "left")
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# Longest text a widget field may hold: the launcher is a small pill, the intro a paragraph.
WIDGET_TEXT_LIMITS = {"launcher_label": 40, "panel_title": 60, "guest_intro": 300}


class SettingsError(FieldErrors, ValueError):
    """Settings that cannot be saved; `errors` maps a dotted field to a message."""

    code = "invalid_settings"


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

    @property
    def engagement(self) -> dict[str, Any]:
        """Review and NPS request timing, frequency cap, quiet hours, daily reward budget."""
        return self.data["engagement"]

    @property
    def widget(self) -> dict[str, Any]:
        """The storefront widget's texts, colors and position."""
        return self.data["widget"]


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
    _validate_engagement(errors, data.get("engagement") or {})
    _validate_widget(errors, data.get("widget") or {})
    effect = data.get("effect") or {}
    _integer(errors, "effect.repeat_days", effect.get("repeat_days"), 7, 730)
    _decimal(errors, "effect.gross_margin_percent", effect.get("gross_margin_percent"),
             Decimal(0), Decimal(100))
    _decimal(errors, "effect.smallest_effect_points", effect.get("smallest_effect_points"),
             Decimal("0.1"), Decimal(50))
    _decimal(errors, "effect.expected_redemption_percent",
             effect.get("expected_redemption_percent"), Decimal(0), Decimal(100))
    # Any text of the document, wherever it sits: PostgreSQL's jsonb cannot store a NUL.
    for path, value in _flatten(data).items():
        if has_nul(value):
            errors[path] = NUL_MESSAGE
    return errors


def _validate_engagement(errors: dict[str, str], engagement: dict[str, Any]) -> None:
    """Field errors of the engagement section."""
    _integer(errors, "engagement.review_request_days", engagement.get("review_request_days"),
             0, 365)
    _integer(errors, "engagement.nps_request_days", engagement.get("nps_request_days"), 0, 365)
    _integer(errors, "engagement.frequency_cap_messages",
             engagement.get("frequency_cap_messages"), 0, 50)
    _integer(errors, "engagement.frequency_cap_days", engagement.get("frequency_cap_days"),
             1, 90)
    _integer(errors, "engagement.quiet_hours_start", engagement.get("quiet_hours_start"), 0, 23)
    _integer(errors, "engagement.quiet_hours_end", engagement.get("quiet_hours_end"), 0, 23)
    _decimal(errors, "engagement.daily_reward_budget", engagement.get("daily_reward_budget"),
             Decimal(0), Decimal(10**6))
    for key in ("transactional_needs_consent", "open_tracking"):
        if not isinstance(engagement.get(key), bool):
            errors[f"engagement.{key}"] = "must be on or off"
    flows = engagement.get("flows") or {}
    for name in flows.keys() - DEFAULT_SETTINGS["engagement"]["flows"].keys():
        errors[f"engagement.flows.{name}"] = "is not a flow"
    for name, flow in flows.items():
        if not isinstance(flow, dict):
            errors[f"engagement.flows.{name}"] = "must be a section"
            continue
        if not isinstance(flow.get("enabled"), bool):
            errors[f"engagement.flows.{name}.enabled"] = "must be on or off"
        if "days_before" in flow:
            _integer(errors, f"engagement.flows.{name}.days_before", flow["days_before"], 1, 365)
        if "bonus_points" in flow:
            _integer(errors, f"engagement.flows.{name}.bonus_points", flow["bonus_points"], 0,
                     10**6)
        if "subject" in flow:
            _subject(errors, f"engagement.flows.{name}.subject", flow["subject"])


# The longest email subject a merchant may write (inboxes show about 60 characters).
SUBJECT_MAX = 150


def _subject(errors: dict[str, str], field: str, raw: Any) -> None:
    """A flow's own email subject: empty (the flow's translated subject) or one line of at
    most SUBJECT_MAX characters, sent as written in every shopper's language."""
    if not isinstance(raw, str):
        errors[field] = "must be text"
    elif len(raw) > SUBJECT_MAX:
        errors[field] = f"must be at most {SUBJECT_MAX} characters"
    elif any(c in raw for c in "\r\n"):
        errors[field] = "must be one line"


def is_hex_color(value: object) -> bool:
    """Whether `value` is a `#rrggbb` colour, the only form the storefront ever renders: it
    lands inside a style attribute, so anything else could carry CSS of its own."""
    return isinstance(value, str) and _HEX_COLOR.fullmatch(value) is not None


def _validate_widget(errors: dict[str, str], widget: dict[str, Any]) -> None:
    """Field errors of the widget section."""
    for key, limit in WIDGET_TEXT_LIMITS.items():
        text = widget.get(key)
        if not isinstance(text, str) or not text.strip():
            errors[f"widget.{key}"] = "cannot be empty"
        elif len(text) > limit:
            errors[f"widget.{key}"] = f"must be at most {limit} characters"
    if widget.get("position") not in WIDGET_POSITIONS:
        errors["widget.position"] = "must be right or left"
    colors = widget.get("colors") or {}
    for key in DEFAULT_SETTINGS["widget"]["colors"]:
        if not is_hex_color(colors.get(key)):
            errors[f"widget.colors.{key}"] = "must be a color like #1f6f50"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaf values (list items by index), for comparing two versions."""
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = list(value.items())
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, child in items:
        flat.update(_flatten(child, f"{prefix}.{key}" if prefix else key))
    return flat


def describe_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two settings documents, one `Field label: old → new` line per
    field, in the order of the settings paths."""
    old, new = _flatten(before), _flatten(after)
    lines = []
    for path in sorted(old.keys() | new.keys()):
        if str(old.get(path)) != str(new.get(path)):
            lines.append(f"{field_label(path)}: {_shown(old.get(path))} → {_shown(new.get(path))}")
    return lines


def _shown(value: Any) -> str:
    """A value as the change history prints it."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


# Built once: every event and every storefront read asks for it.
_NEWEST_SETTINGS = (select(SettingsVersion).where(SettingsVersion.shop_id == bindparam("shop_id"))
                    .order_by(SettingsVersion.version.desc()).limit(1))


def settings_version(session: Session, shop_id: int, version: int) -> SettingsVersion:
    """One saved version of the shop's settings."""
    return session.execute(select(SettingsVersion).where(
        SettingsVersion.shop_id == shop_id, SettingsVersion.version == version)).scalar_one()


def settings_history(session: Session, shop_id: int, *, limit: int) -> list[SettingsVersion]:
    """The shop's latest saved versions, newest first."""
    return list(session.execute(
        select(SettingsVersion).where(SettingsVersion.shop_id == shop_id)
        .order_by(SettingsVersion.version.desc()).limit(limit)).scalars())


def settings_changers(session: Session, shop_id: int) -> list[str]:
    """Everyone who ever saved the shop's settings, in the order they first did."""
    return list(session.execute(
        select(SettingsVersion.changed_by).where(SettingsVersion.shop_id == shop_id)
        .group_by(SettingsVersion.changed_by)
        .order_by(func.min(SettingsVersion.version))).scalars())


def current_settings(session: Session, shop_id: int) -> ProgramSettings:
    """The newest saved settings of a shop, or the defaults (version 0) before any save."""
    row = session.execute(_NEWEST_SETTINGS, {"shop_id": shop_id}).scalar_one_or_none()
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
    if summary is None:
        # The history says what changed, field by field, whoever saved.
        summary = "; ".join(describe_changes(current.data, data)) or "no changes"
    row = SettingsVersion(shop_id=shop_id, version=current.version + 1, data=data,
                          changed_by=changed_by, summary=summary, created_at=now)
    session.add(row)
    session.flush()
    return ProgramSettings(version=row.version, data=data)
