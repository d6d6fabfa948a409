"""What a merchant reads for each settings field: the one place that names them.

The change history and anything else that speaks of a settings field in words uses
`field_label`; a field of `DEFAULT_SETTINGS` without a label here fails the tests.
"""

from __future__ import annotations

import re

# What a merchant reads for each engagement flow: each flow's own label, registered by
# app/engagement/flows.register (the rules know no flow).
FLOW_LABELS: dict[str, str] = {}

FIELD_LABELS = {
    "effect.repeat_days": "Follow each customer for (days)",
    "effect.gross_margin_percent": "Gross margin (%)",
    "effect.smallest_effect_points": "Smallest repeat-rate change worth knowing (points)",
    "effect.expected_redemption_percent": "Points expected to be redeemed (%)",
    "earning.points_per_unit": "Points per unit spent",
    "earning.point_value": "Value of 1 point",
    "earning.exclude_shipping": "Exclude shipping",
    "earning.exclude_taxes": "Exclude taxes",
    "earning.exclude_tips": "Exclude tips",
    "earning.exclude_gift_cards": "Exclude gift card purchases",
    "earning.test_orders_earn": "Test orders earn points",
    "earning.pos_orders_earn": "In-store (POS) orders earn points",
    "pending_days": "Pending period (days)",
    "expiry_months": "Expire after months without activity",
    "allow_negative_balance": "Let refunds take balances below zero",
    "tiers.basis": "Tiers measured on",
    "tiers.retention_days": "Keep a tier at least (days)",
    "tiers.levels": "VIP tiers",
    "referrals.enabled": "Referrals are on",
    "referrals.friend_discount_kind": "Friend's discount kind",
    "referrals.friend_discount_value": "Friend's discount value",
    "referrals.referrer_points": "Points for the advocate",
    "referrals.referee_points": "Points for the friend",
    "referrals.monthly_cap": "Rewarded referrals per advocate per month",
    "referrals.household_ip_allowance": "Referrals allowed from the advocate's own IP",
    "bonuses.signup": "Bonus for creating an account",
    "bonuses.birthday": "Birthday bonus",
    "bonuses.review": "Bonus for a product review",
    "bonuses.review_photo": "Bonus for a review with a photo",
    "bonuses.nps": "Bonus for answering the NPS question",
    "engagement.review_request_days": "Ask for a review after (days)",
    "engagement.nps_request_days": "Ask the NPS question after (days)",
    "engagement.frequency_cap_messages": "At most this many messages",
    "engagement.frequency_cap_days": "Within this many days",
    "engagement.quiet_hours_start": "Quiet from (hour)",
    "engagement.quiet_hours_end": "Quiet until (hour)",
    "engagement.daily_reward_budget": "Daily budget for engagement rewards",
    "engagement.transactional_needs_consent": "Ask consent for points and tier notices too",
    "engagement.open_tracking": "Track email opens",
    "widget.launcher_label": "Launcher label",
    "widget.panel_title": "Panel title",
    "widget.guest_intro": "Invitation for visitors",
    "widget.position": "Launcher position",
    "widget.colors.accent": "Accent color",
    "widget.colors.accent_text": "Text on accent color",
    "widget.colors.panel_background": "Panel background color",
    "widget.colors.panel_text": "Panel text color",
}

# The parts of a tier and of a flow, named once for every tier and every flow.
TIER_PART_LABELS = {"name": "name", "threshold": "threshold", "multiplier": "multiplier",
                    "benefits": "benefits"}
FLOW_PART_LABELS = {"enabled": "on", "days_before": "days before", "bonus_points": "bonus points",
                    "subject": "email subject"}

_TIER_PART = re.compile(r"tiers\.levels\.(\d+)\.(\w+)")
_FLOW_PART = re.compile(r"engagement\.flows\.(\w+)\.(\w+)")


def known_label(path: str) -> str | None:
    """The label of a dotted settings path, or None when the field has none."""
    if path in FIELD_LABELS:
        return FIELD_LABELS[path]
    tier = _TIER_PART.fullmatch(path)
    if tier and tier.group(2) in TIER_PART_LABELS:
        return f"Tier {int(tier.group(1)) + 1} {TIER_PART_LABELS[tier.group(2)]}"
    flow = _FLOW_PART.fullmatch(path)
    if flow and flow.group(1) in FLOW_LABELS and flow.group(2) in FLOW_PART_LABELS:
        return f"{FLOW_LABELS[flow.group(1)]} flow: {FLOW_PART_LABELS[flow.group(2)]}"
    return None


def field_label(path: str) -> str:
    """The label of a dotted settings path; the path itself for a field no longer known."""
    return known_label(path) or path


def readable_change(line: str) -> str:
    """A history line `path: old → new` with the path in words (older versions stored paths)."""
    path, separator, rest = line.partition(": ")
    label = known_label(path) if separator else None
    return f"{label}: {rest}" if label else line
