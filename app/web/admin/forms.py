"""Settings forms: which fields each settings page sends, and their types (no Flask here).

The page script posts each form as nested JSON keyed like the settings document; this module
keeps only the page's own fields and gives them the settings' types. What it cannot coerce
(`"abc"` for a number of days) it passes on unchanged, so `program.validate` reports the field
in the same words as any other mistake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.engagement.flows import FLOWS
from app.loyalty.program import DEFAULT_SETTINGS

TEXT, INT, DECIMAL, BOOL, COLOR = "text", "int", "decimal", "bool", "color"
_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class ListField:
    """A list of objects (tiers), each with these typed fields."""

    item: Mapping[str, str]


@dataclass(frozen=True)
class Section:
    """One settings page: its title and the fields its form sends."""

    key: str
    title: str
    fields: Mapping[str, str | ListField]


def _engagement_switches() -> dict[str, str]:
    """The engagement flows' fields (on/off and their numbers), as each flow declares them."""
    engagement = DEFAULT_SETTINGS["engagement"]
    fields: dict[str, str] = {}
    for name, flow in FLOWS.items():
        for key, default in flow.defaults.items():
            fields[f"engagement.flows.{name}.{key}"] = BOOL if isinstance(default, bool) else INT
    for key, default in engagement.items():
        if isinstance(default, bool):
            fields[f"engagement.{key}"] = BOOL
    return fields


SECTIONS: dict[str, Section] = {s.key: s for s in (
    Section("points", "Points", {
        "earning.points_per_unit": DECIMAL, "earning.point_value": DECIMAL,
        "earning.exclude_shipping": BOOL, "earning.exclude_taxes": BOOL,
        "earning.exclude_tips": BOOL, "earning.exclude_gift_cards": BOOL,
        "earning.test_orders_earn": BOOL, "earning.pos_orders_earn": BOOL,
        "pending_days": INT, "expiry_months": INT, "allow_negative_balance": BOOL}),
    Section("tiers", "VIP tiers", {
        "tiers.basis": TEXT, "tiers.retention_days": INT,
        "tiers.levels": ListField({"name": TEXT, "threshold": DECIMAL, "multiplier": DECIMAL,
                                   "benefits": TEXT})}),
    Section("referrals", "Referrals", {
        "referrals.enabled": BOOL, "referrals.friend_discount_kind": TEXT,
        "referrals.friend_discount_value": DECIMAL, "referrals.referrer_points": INT,
        "referrals.referee_points": INT, "referrals.monthly_cap": INT,
        "referrals.household_ip_allowance": INT}),
    Section("bonuses", "Bonus points", {
        "bonuses.signup": INT, "bonuses.birthday": INT, "bonuses.review": INT,
        "bonuses.review_photo": INT, "bonuses.nps": INT}),
    Section("engagement", "Engagement", {
        "engagement.review_request_days": INT, "engagement.nps_request_days": INT,
        "engagement.frequency_cap_messages": INT, "engagement.frequency_cap_days": INT,
        "engagement.quiet_hours_start": INT, "engagement.quiet_hours_end": INT,
        "engagement.daily_reward_budget": DECIMAL, **_engagement_switches()}),
    Section("widget", "Widget", {
        "widget.launcher_label": TEXT, "widget.panel_title": TEXT, "widget.guest_intro": TEXT,
        "widget.position": TEXT, "widget.colors.accent": COLOR,
        "widget.colors.accent_text": COLOR, "widget.colors.panel_background": COLOR,
        "widget.colors.panel_text": COLOR}),
    Section("effect", "Measuring the effect", {
        "effect.repeat_days": INT, "effect.gross_margin_percent": DECIMAL,
        "effect.smallest_effect_points": DECIMAL, "effect.expected_redemption_percent": DECIMAL}),
)}

_MISSING = object()


def _lookup(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or _MISSING."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _place(document: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, creating the dicts on the way."""
    *parents, last = path.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[last] = value


def coerce(kind: str, raw: Any) -> Any:
    """A submitted value in the settings' type, or unchanged when it does not fit."""
    if kind == BOOL:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "on", "yes"}
    if kind == INT:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        text = str(raw).strip()
        return int(text) if _INTEGER.fullmatch(text) else text
    if kind == DECIMAL:
        return raw if isinstance(raw, bool) else str(raw).strip()
    if kind == COLOR:
        return str(raw).strip().lower()
    return str(raw).strip() if raw is not None else ""


def section_changes(section: Section, submitted: Mapping[str, Any]
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """(settings changes, form errors) from a submitted form; absent fields stay unchanged."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for path, kind in section.fields.items():
        raw = _lookup(submitted, path)
        if raw is _MISSING:
            continue
        if isinstance(kind, ListField):
            if not isinstance(raw, list) or not all(isinstance(i, Mapping) for i in raw):
                errors[path] = "must be a list"
                continue
            _place(changes, path, [{name: coerce(t, item.get(name, "")) for name, t in
                                    kind.item.items()} for item in raw])
        else:
            _place(changes, path, coerce(kind, raw))
    return changes, errors
