"""The admin's entry and the first-open checklist."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, redirect, request
from sqlalchemy.orm import Session

from app.errors import FieldErrors
from app.loyalty import holdout
from app.loyalty.launch import launch, program_state
from app.models import Shop
from app.pipeline import enqueue
from app.web.admin import onboarding
from app.web.admin.embedded import (
    actor,
    database,
    fetch_only,
    json_body,
    not_json,
    now,
    render_page,
    runtime,
    settings,
)
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_pages", __name__)


def _with_query(path: str) -> str:
    """The same path with this request's query (Shopify's parameters and the id_token)."""
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path


@bp.get("/admin")
@require_admin_session
def admin_index():  # noqa: ANN201 - Flask view
    """The checklist until every step is done, the dashboard after."""
    with database().sessions() as session:
        facts = onboarding.program_facts(session, g.shop)
    if onboarding.is_complete(g.shop.onboarding, facts):
        return redirect(_with_query("/admin/dashboard"), 302)
    return redirect(_with_query("/admin/onboarding"), 302)


@bp.get("/admin/onboarding")
@require_admin_session
def checklist_page():  # noqa: ANN201 - Flask view
    """The four steps to a launched program, with the progress remembered."""
    with database().sessions() as session:
        facts = onboarding.program_facts(session, g.shop)
    steps = onboarding.checklist(g.shop.onboarding, facts)
    return render_page(
        "admin/onboarding.html", title="Get started", nav="onboarding", steps=steps,
        done=sum(s.done for s in steps), state=program_state(g.shop),
        default_share=holdout.DEFAULT_SHARE, max_share=holdout.MAX_SHARE,
        holdout_share=g.shop.holdout_share if holdout.is_running(g.shop) else 0,
        theme_editor=onboarding.theme_editor_link(g.shop.domain, settings().shopify_api_key))


@bp.post("/admin/onboarding/<step>")
@fetch_only
@require_admin_session
def complete_step(step: str):  # noqa: ANN201 - Flask view
    """Mark one step done (the first time is the one remembered); the launch step makes the
    program live, with the holdout share the form sent (`holdout_share`, the default when the
    body names none)."""
    if step not in onboarding.STEP_KEYS:
        return error("unknown_step", f"no checklist step called {step!r}", 404)
    if request.get_data() and json_body() is None:
        return not_json()
    share = _launch_share() if step == onboarding.LAUNCH_STEP else 0
    with database().transaction() as session:
        shop = session.get(Shop, g.shop.id, with_for_update=True)
        if step == onboarding.LAUNCH_STEP:
            launch(shop, now(), holdout_share=share)
        shop.onboarding = onboarding.mark_done(shop.onboarding, step, by=actor(), now=now())
        steps = onboarding.checklist(shop.onboarding, onboarding.program_facts(session, shop))
        state = program_state(shop)
    if step == onboarding.LAUNCH_STEP:
        # The storefront shows the launcher once Shopify holds the new state.
        enqueue.enqueue(runtime().queue, enqueue.sync_program_state(g.shop.id, state))
    return jsonify({"step": step, "done": sum(s.done for s in steps), "of": len(steps),
                    "complete": all(s.done for s in steps), "state": state})


def _launch_share() -> int:
    """The launch form's holdout share: a whole number from 0 (none) to MAX_SHARE percent;
    422 for anything else, before anything changes."""
    raw = (json_body() or {}).get("holdout_share", holdout.DEFAULT_SHARE)
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= holdout.MAX_SHARE:
        raise FieldErrors({"holdout_share": "the share must be a whole number from 0 (no "
                                            f"holdout) to {holdout.MAX_SHARE} percent"})
    return raw


def mark_step(session: Session, shop_id: int, step: str) -> None:
    """Mark a step done as a side effect of another save (settings, rewards)."""
    shop = session.get(Shop, shop_id, with_for_update=True)
    shop.onboarding = onboarding.mark_done(shop.onboarding, step, by=actor(), now=now())
