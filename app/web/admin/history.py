"""Order history: the merchant picks how far back and what it gives, and watches it apply."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify

from app.loyalty.backfill import (
    DEFAULT_WINDOW_DAYS,
    MAX_WINDOW_DAYS,
    latest_backfill,
    readable_window,
    request_backfill,
)
from app.models import Backfill, Shop
from app.pipeline.backfill import enqueue_backfill
from app.web.admin.embedded import (
    actor,
    database,
    fetch_only,
    json_action,
    now,
    render_page,
    runtime,
)
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_history", __name__)

MODES = [("tiers", "Set tiers from their spend, no points"),
         ("points", "Set tiers and give points for recent orders"),
         ("none", "Record the orders only (no tiers, no points)")]


def progress(backfill: Backfill | None) -> dict[str, Any] | None:
    """What the page shows of a run, as its script refreshes it."""
    if backfill is None:
        return None
    return {"id": backfill.id, "status": backfill.status, "mode": backfill.mode,
            "window_days": backfill.window_days, "points_days": backfill.points_days,
            "objects_found": backfill.objects_found, "orders_recorded": backfill.orders_recorded,
            "orders_skipped": backfill.orders_skipped, "points_awarded": backfill.points_awarded,
            "tier_changes": backfill.tier_changes, "lines_applied": backfill.lines_applied,
            "capped_reason": backfill.capped_reason, "error": backfill.error,
            "finished": backfill.finished}


@bp.get("/admin/history")
@require_admin_session
def history_page():  # noqa: ANN201 - Flask view
    """The choice of window and mode, and the newest run's progress."""
    with database().sessions() as session:
        latest = progress(latest_backfill(session, g.shop.id))
    window = readable_window(DEFAULT_WINDOW_DAYS, g.shop.scopes)
    return render_page("admin/history.html", title="Order history", nav="history",
                       latest=latest, modes=MODES, default_days=DEFAULT_WINDOW_DAYS,
                       max_days=MAX_WINDOW_DAYS, capped_reason=window.capped_reason)


@bp.post("/admin/history")
@json_action
def start_backfill(body: dict[str, Any]):  # noqa: ANN201 - Flask view
    """Start a run as chosen; 422 with the field to change when it cannot run."""
    # A choice that cannot run is a BackfillRefused: 422 naming its field.
    with database().transaction() as session:
        shop = session.get(Shop, g.shop.id, with_for_update=True)
        backfill = request_backfill(
            session, shop, mode=body.get("mode"), window_days=body.get("window_days"),
            points_days=body.get("points_days", 0), now=now(), actor=actor())
        answer = progress(backfill)
    enqueue_backfill(runtime().queue, answer["id"])
    return jsonify({"message": "Reading your order history", "backfill": answer}), 202


@bp.post("/admin/history/progress")
@fetch_only
@require_admin_session
def backfill_progress():  # noqa: ANN201 - Flask view
    """The newest run as it stands (the page's script asks every few seconds)."""
    with database().sessions() as session:
        return jsonify({"backfill": progress(latest_backfill(session, g.shop.id))})


@bp.post("/admin/history/resume")
@fetch_only
@require_admin_session
def resume_backfill():  # noqa: ANN201 - Flask view
    """Carry on an unfinished run from its cursor (after a crash or a dropped download)."""
    with database().sessions() as session:
        latest = latest_backfill(session, g.shop.id)
        answer = progress(latest)
    if latest is None or latest.finished:
        return error("nothing_to_resume", "no unfinished order history run", 409)
    enqueue_backfill(runtime().queue, latest.id, f"resume-{latest.lines_applied}")
    return jsonify({"message": "Resuming", "backfill": answer}), 202
