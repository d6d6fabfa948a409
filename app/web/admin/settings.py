"""Program settings pages: one form per section, each save a new version applied from now on."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from app.engagement.flows import FLOWS
from app.loyalty.program import (
    SettingsError,
    current_settings,
    save_settings,
    settings_changers,
    settings_history,
    settings_version,
)
from app.loyalty.settings_labels import readable_change
from app.loyalty.staff import shown_actor, staff_names
from app.loyalty.tiers import reevaluate_shop_tiers
from app.models import Shop
from app.pipeline import enqueue
from app.web.admin.embedded import (
    actor,
    database,
    fetch_only,
    json_body,
    not_json,
    now,
    render_page,
    runtime,
)
from app.web.admin.forms import SECTIONS, section_changes
from app.web.admin.pages import mark_step
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_settings", __name__)

HISTORY_SIZE = 50
# The tabs across the settings pages, in order (rewards and history have their own views).
TABS = (("points", "Points", "/admin/settings"), ("tiers", "VIP tiers", "/admin/settings/tiers"),
        ("rewards", "Rewards", "/admin/settings/rewards"),
        ("referrals", "Referrals", "/admin/settings/referrals"),
        ("bonuses", "Bonus points", "/admin/settings/bonuses"),
        ("engagement", "Engagement", "/admin/settings/engagement"),
        ("widget", "Widget", "/admin/settings/widget"),
        ("history", "History", "/admin/settings/history"))


def _section_page(key: str):  # noqa: ANN202 - Flask response
    """Render one section's form with the shop's current settings."""
    with database().sessions() as session:
        program = current_settings(session, g.shop.id)
    return render_page(f"admin/settings/{key}.html", title="Program settings",
                       nav="settings", tabs=TABS, tab=key, section=SECTIONS[key],
                       data=program.data, version=program.version,
                       flow_labels={name: flow.label for name, flow in FLOWS.items()})


@bp.get("/admin/settings")
@require_admin_session
def points_page():  # noqa: ANN201 - Flask view
    """Earning rate, exclusions, test and POS orders, pending period and expiry."""
    return _section_page("points")


@bp.get("/admin/settings/<any(tiers, referrals, bonuses, engagement, widget):key>")
@require_admin_session
def section_page(key: str):  # noqa: ANN201 - Flask view
    """Any other settings section."""
    return _section_page(key)


@bp.post("/admin/settings/<key>")
@fetch_only
@require_admin_session
def save_section(key: str):  # noqa: ANN201 - Flask view
    """Validate and save one section as a new settings version (422 with field errors)."""
    section = SECTIONS.get(key)
    if section is None:
        return error("unknown_section", f"no settings section called {key!r}", 404)
    submitted = json_body()
    if submitted is None:
        return not_json()
    changes, form_errors = section_changes(section, submitted)
    if form_errors:
        raise SettingsError(form_errors)
    moment = now()
    with database().transaction() as session:
        saved = save_settings(session, g.shop.id, changes, changed_by=actor(), now=moment)
        if key == "tiers":
            # New tiers apply to every member from now on; past earning is never redone.
            reevaluate_shop_tiers(session, session.get(Shop, g.shop.id), saved, moment)
        mark_step(session, g.shop.id, "defaults_reviewed")
        row = settings_version(session, g.shop.id, saved.version)
    message = f"Saved as version {saved.version}. It applies to orders and events from now on."
    if key == "widget":
        # Committed: the storefront reads these from an app-data metafield the job writes.
        if enqueue.enqueue(runtime().queue,
                           enqueue.sync_widget_settings(g.shop.id, saved.version)):
            message = (f"Saved as version {saved.version}. Your storefront shows it within a "
                       "minute.")
        else:
            message = (f"Saved as version {saved.version}, but your storefront could not be "
                       "updated yet. Save again in a few minutes.")
    return jsonify({"version": saved.version, "summary": row.summary, "message": message})


@bp.get("/admin/settings/history")
@require_admin_session
def history_page():  # noqa: ANN201 - Flask view
    """Every saved version: who changed what, and when."""
    with database().sessions() as session:
        versions = settings_history(session, g.shop.id, limit=HISTORY_SIZE)
        # Numbered over every version of the shop, not only those shown, so numbers never move.
        names = staff_names(settings_changers(session, g.shop.id))
    # Each change in words, whether the version was saved with labels or with field paths.
    changes = {v.version: [readable_change(line) for line in (v.summary or "").split("; ")]
               for v in versions}
    return render_page("admin/settings/history.html", title="Program settings",
                       nav="settings", tabs=TABS, tab="history", versions=versions,
                       changes=changes,
                       by={v.version: shown_actor(v.changed_by, names) for v in versions})
