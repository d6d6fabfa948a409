"""The first-open checklist: four steps, their progress kept in Shop.onboarding (no Flask here).

Shop.onboarding holds `{"steps": {"<step>": {"at": "<iso UTC>", "by": "staff:<id>"}}}`.
Whether the app embed is on cannot be read without the themes scope, so the merchant confirms
it after the deep link took them to the theme editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The launcher is the app embed block blocks/launcher.liquid of extensions/loyalty-widget.
APP_EMBED_HANDLE = "launcher"


@dataclass(frozen=True)
class Step:
    """One item of the checklist."""

    key: str
    title: str
    help: str
    action: str


STEPS: tuple[Step, ...] = (
    Step("defaults_reviewed", "Review the program defaults",
         "5 points per 1 spent, points pending for 30 days (your return window), expiry after "
         "12 months without activity. Change anything that does not fit your shop.",
         "Review settings"),
    Step("app_embed_enabled", "Turn on the rewards launcher in your theme",
         "Open the theme editor's App embeds, switch on Loyalty Loop and save the theme. "
         "Come back here and confirm once it shows on your storefront.",
         "Open theme editor"),
    Step("rewards_reviewed", "Review the rewards",
         "Free shipping at 400 points and 5 / 10 / 25 off at 500 / 1,000 / 2,500 points. "
         "Add, remove or reorder rewards.", "Review rewards"),
    Step("launched", "Launch the program",
         "Tell your customers: the launcher shows their points from now on.", "Launch"),
)
STEP_KEYS = tuple(s.key for s in STEPS)


@dataclass(frozen=True)
class StepState:
    """A step and whether (when, by whom) it was done."""

    step: Step
    done_at: str | None
    done_by: str | None

    @property
    def done(self) -> bool:
        """Whether the step is done."""
        return self.done_at is not None


def checklist(onboarding: dict[str, Any] | None) -> list[StepState]:
    """Every step with its progress."""
    done = (onboarding or {}).get("steps") or {}
    return [StepState(s, (done.get(s.key) or {}).get("at"), (done.get(s.key) or {}).get("by"))
            for s in STEPS]


def is_complete(onboarding: dict[str, Any] | None) -> bool:
    """Whether every step is done."""
    return all(state.done for state in checklist(onboarding))


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
