"""The first-open checklist: four steps, their progress kept in Shop.onboarding (no Flask here).

The texts are written from the shop's current settings and catalog, so they say what the
program does now. The last step launches the program (app/loyalty/launch.py): it is done when
the shop is live, whatever Shop.onboarding says.

Shop.onboarding holds `{"steps": {"<step>": {"at": "<iso UTC>", "by": "staff:<id>"}}}`.
Whether the app embed is on cannot be read without the themes scope, so the merchant confirms
it after the deep link took them to the theme editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.loyalty.labels import money_label
from app.loyalty.program import current_settings
from app.loyalty.rewards import shop_rewards
from app.models import Shop

# The launcher is the app embed block blocks/launcher.liquid of extensions/loyalty-widget.
APP_EMBED_HANDLE = "launcher"


@dataclass(frozen=True)
class Step:
    """One item of the checklist; its help text is written from the shop's current program."""

    key: str
    title: str
    action: str


STEPS: tuple[Step, ...] = (
    Step("defaults_reviewed", "Review the program defaults", "Review settings"),
    Step("app_embed_enabled", "Turn on the rewards launcher in your theme", "Open theme editor"),
    Step("rewards_reviewed", "Review the rewards", "Review rewards"),
    Step("launched", "Launch the program", "Launch"),
)
STEP_KEYS = tuple(s.key for s in STEPS)
LAUNCH_STEP = "launched"


@dataclass(frozen=True)
class ProgramFacts:
    """What the step texts say about the program: the shop's settings and catalog as they are."""

    points_per_unit: Decimal
    currency: str
    pending_days: int
    expiry_months: int
    # (title, cost) of each active reward, in catalog order.
    rewards: tuple[tuple[str, int], ...]
    launched_at: datetime | None

    @property
    def earn_rate(self) -> str:
        """'5 points per $1 spent', '2.5 points per 1 CHF spent'."""
        return (f"{self.points_per_unit.normalize():f} points per "
                f"{money_label(Decimal(1), self.currency)} spent")


def program_facts(session: Session, shop: Shop) -> ProgramFacts:
    """The facts of the shop's program now: its newest settings, active rewards, launch."""
    settings = current_settings(session, shop.id)
    return ProgramFacts(settings.points_per_unit, shop.currency, settings.pending_days,
                        settings.expiry_months,
                        tuple((r.title, r.cost) for r in shop_rewards(session, shop.id)),
                        shop.launched_at)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def step_help(step: Step, facts: ProgramFacts) -> str:
    """The step's explanation, written from the program as it is configured now."""
    if step.key == "defaults_reviewed":
        pending = ("points available at once" if facts.pending_days == 0 else
                   f"points pending for {_plural(facts.pending_days, 'day')} (your return "
                   "window)")
        expiry = ("points never expire" if facts.expiry_months == 0 else
                  f"expiry after {_plural(facts.expiry_months, 'month')} without activity")
        return (f"{facts.earn_rate}, {pending}, {expiry}. "
                "Change anything that does not fit your shop.")
    if step.key == "app_embed_enabled":
        if facts.launched_at is None:
            return ("Open the theme editor's App embeds, switch on Loyalty Loop and save the "
                    "theme. Until you launch the program it shows only in the theme editor; "
                    "come back here and confirm once it is on.")
        return ("Open the theme editor's App embeds, switch on Loyalty Loop and save the theme. "
                "Come back here and confirm once it shows on your storefront.")
    if step.key == "rewards_reviewed":
        if not facts.rewards:
            return "No rewards yet: add one so your customers can spend their points."
        ladder = ", ".join(f"{title} at {_plural(cost, 'point')}" for title, cost in facts.rewards)
        return f"{ladder}. Add, remove or reorder rewards."
    if facts.launched_at is not None:
        return (f"Live since {facts.launched_at:%b %-d, %Y}: your customers see the program and "
                f"every order paid earns {facts.earn_rate}.")
    return (f"From the launch on, your customers see the program and every order paid earns "
            f"{facts.earn_rate}. Orders paid before the launch never earn.")


@dataclass(frozen=True)
class StepState:
    """A step, its text for this shop and whether (when, by whom) it was done."""

    step: Step
    help: str
    done_at: str | None
    done_by: str | None

    @property
    def done(self) -> bool:
        """Whether the step is done."""
        return self.done_at is not None


def checklist(onboarding: dict[str, Any] | None, facts: ProgramFacts) -> list[StepState]:
    """Every step with its progress; the launch step is done when the program is live."""
    done = (onboarding or {}).get("steps") or {}
    states = []
    for step in STEPS:
        record = done.get(step.key) or {}
        at = record.get("at")
        if step.key == LAUNCH_STEP:
            at = (None if facts.launched_at is None
                  else facts.launched_at.replace(microsecond=0).isoformat() + "Z")
        states.append(StepState(step, step_help(step, facts), at, record.get("by")))
    return states


def is_complete(onboarding: dict[str, Any] | None, facts: ProgramFacts) -> bool:
    """Whether every step is done."""
    return all(state.done for state in checklist(onboarding, facts))


def mark_done(onboarding: dict[str, Any] | None, step: str, *, by: str,
              now: datetime) -> dict[str, Any]:
    """A new onboarding document with the step done (the first time counts); KeyError if unknown.

    A new dict, never a mutation: the JSON column only notices a new value.
    """
    if step not in STEP_KEYS:
        raise KeyError(step)
    steps = dict((onboarding or {}).get("steps") or {})
    steps.setdefault(step, {"at": now.replace(microsecond=0).isoformat() + "Z", "by": by})
    return {**(onboarding or {}), "steps": steps}


def theme_editor_link(shop_domain: str, client_id: str) -> str:
    """The deep link that opens App embeds with our launcher selected (shopify.dev, "Configure
    theme app extensions" → deep linking: `activateAppId={api_key}/{handle}`)."""
    return (f"https://{shop_domain}/admin/themes/current/editor?context=apps&template=index"
            f"&activateAppId={client_id}/{APP_EMBED_HANDLE}")
