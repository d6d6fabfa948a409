"""The engagement flows: the `Flow` registry, whether a flow is on, natural keys.

A message's natural key names the business fact it is about (`review_request:{order}`), is
unique per shop, and so makes scheduling idempotent: the same fact scheduled twice (a webhook
delivered again, a daily round run twice) is one message. At send time the key is parsed back
to re-check the fact (has the order been refunded since? has the member ordered again?).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.loyalty.program import FLOW_DEFAULTS, ProgramSettings
from app.loyalty.settings_labels import FLOW_LABELS


@dataclass(frozen=True)
class Flow:
    """One journey step, everything about it in one object (declared with its content in
    app/engagement/content.py): promotional ones need marketing consent and obey the
    frequency cap. The admin, the program's defaults and the sender all read it from here."""

    name: str
    # What a merchant reads for this flow (settings page, engagement page, change history).
    label: str
    promotional: bool
    # A message more than this late (an outage, a backlog) is cancelled, not sent stale.
    max_delay: timedelta
    # The email's subject, a Jinja2 template over the content's context; the body is
    # app/templates/emails/<name>.html and <name>.txt.
    subject: str
    # Re-checks the message's facts when it is due and adds the flow's own context.
    compose: Callable[[Any, Any], Any]
    # The shop's switch and tunables, as a new program starts (validated by loyalty/program).
    defaults: Mapping[str, Any] = field(default_factory=lambda: {"enabled": True})
    # Offers cost the shop money (bonus points) and count against the daily reward budget.
    offer: bool = False

    @property
    def priority(self) -> int:
        """Sort order among due messages: transactional notices go first."""
        return 1 if self.promotional else 0

    def key(self, *references: object) -> str:
        """The natural key of one message of this flow: `win_back:{member}:{order}`."""
        return ":".join((self.name, *map(str, references)))

    @property
    def templates(self) -> tuple[str, str]:
        """The email templates of the flow, HTML and plain text."""
        return f"{self.name}.html", f"{self.name}.txt"


# Every shopper flow by name, in the order the admin lists them; filled by `register`.
FLOWS: dict[str, Flow] = {}

# Not a shopper flow: the merchant's alert about a detractor's answer (no consent, no cap).
DETRACTOR_ALERT = "detractor_alert"
DETRACTOR_ALERT_SUBJECT = "Detractor alert: {{ alert.score }}/10 on order {{ alert.order }}"


def register(*flows: Flow) -> None:
    """Add flows to the registry, and their defaults and labels to the program's settings."""
    for flow in flows:
        if flow.name in FLOWS or flow.name == DETRACTOR_ALERT:
            raise ValueError(f"flow {flow.name!r} registered twice")
        FLOWS[flow.name] = flow
        FLOW_DEFAULTS[flow.name] = dict(flow.defaults)
        FLOW_LABELS[flow.name] = flow.label


def message_kinds() -> tuple[str, ...]:
    """Every kind of message: the shopper flows, then the merchant's alert."""
    return (*FLOWS, DETRACTOR_ALERT)


def transactional_kinds() -> tuple[str, ...]:
    """The flows that are notices rather than promotions."""
    return tuple(name for name, flow in FLOWS.items() if not flow.promotional)


def subject_of(kind: str) -> str:
    """The subject template of a message kind."""
    return DETRACTOR_ALERT_SUBJECT if kind == DETRACTOR_ALERT else FLOWS[kind].subject


def flow_settings(settings: ProgramSettings, name: str) -> dict[str, Any]:
    """The shop's switch and tunables for one flow."""
    return settings.engagement["flows"][name]


def flow_enabled(settings: ProgramSettings, name: str) -> bool:
    """Whether the shop has this flow switched on (merchant alerts always are)."""
    return name == DETRACTOR_ALERT or bool(flow_settings(settings, name)["enabled"])


def _stamp(moment: datetime) -> str:
    """A compact, sortable moment for keys."""
    return f"{moment:%Y%m%dT%H%M%S}"


def welcome_key(member_id: int) -> str:
    """Welcome once per member (their first earning order)."""
    return f"welcome:{member_id}"


def points_unlocked_key(shopify_order_id: int) -> str:
    """One unlock notice per order's points."""
    return f"points_unlocked:{shopify_order_id}"


def review_request_key(shopify_order_id: int) -> str:
    """One review request per order."""
    return f"review_request:{shopify_order_id}"


def nps_request_key(shopify_order_id: int) -> str:
    """One survey per order."""
    return f"nps_request:{shopify_order_id}"


def expiry_warning_key(member_id: int, deadline: datetime) -> str:
    """One warning per inactivity period (named by the day its points would expire)."""
    return f"expiry_warning:{member_id}:{deadline:%Y%m%d}"


def tier_upgraded_key(tier_change_id: int) -> str:
    """One congratulation per upgrade."""
    return f"tier_upgraded:{tier_change_id}"


def tier_at_risk_key(member_id: int, tier_since: datetime) -> str:
    """One warning per tier held (named by when the member reached it)."""
    return f"tier_at_risk:{member_id}:{_stamp(tier_since)}"


def birthday_key(member_id: int, year: int) -> str:
    """One birthday email per year."""
    return f"birthday:{member_id}:{year}"


def replenishment_key(member_id: int, last_order_id: int) -> str:
    """One reminder per quiet spell (named by the order it follows)."""
    return f"replenishment:{member_id}:{last_order_id}"


def win_back_key(member_id: int, last_order_id: int) -> str:
    """One win-back offer per quiet spell."""
    return f"win_back:{member_id}:{last_order_id}"


def detractor_alert_key(survey_response_id: int) -> str:
    """One alert per detractor answer."""
    return f"{DETRACTOR_ALERT}:{survey_response_id}"


def key_parts(natural_key: str) -> list[str]:
    """The references after the kind: `review_request:42` → ['42']."""
    return natural_key.split(":")[1:]
