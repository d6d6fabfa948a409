"""The program's effect: the holdout's controls (start, end) and the comparison it makes."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, g, jsonify, request

from app.errors import FieldErrors
from app.insights.effect import measure_effect
from app.loyalty import holdout
from app.loyalty.program import current_settings
from app.models import Shop
from app.pipeline import enqueue
from app.web.admin.dashboard import _day, _money
from app.web.admin.embedded import (
    database,
    fetch_only,
    json_action,
    now,
    render_page,
    runtime,
)
from app.web.admin.forms import SECTIONS
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_effect", __name__)

# Customers assigned over the last year, unless the merchant picks other days.
DEFAULT_WINDOW_DAYS = 365


def _window() -> tuple[datetime, datetime]:
    """The assignment window from the query (`from`, `to` days, inclusive), else the last
    year."""
    first, last = _day(request.args.get("from")), _day(request.args.get("to"))
    if first and last and first <= last:
        return datetime.combine(first, time()), datetime.combine(last + timedelta(days=1),
                                                                 time())
    end = now()
    return datetime.combine((end - timedelta(days=DEFAULT_WINDOW_DAYS)).date(), time()), end


@bp.get("/admin/effect")
@require_admin_session
def effect_page():  # noqa: ANN201 - Flask view
    """Program against control for the customers assigned in a window, with intervals."""
    moment = now()
    with database().sessions() as session:
        shop = session.get(Shop, g.shop.id)
        program = current_settings(session, shop.id)
        first_day, end = _window()
        effect = measure_effect(session, shop, program, first_day, end, moment)
        held_out = holdout.held_out_count(session, shop.id)
    currency = g.shop.currency
    return render_page(
        "admin/effect.html", title="Program effect", nav="effect", e=effect, shop_row=shop,
        running=holdout.is_running(shop), held_out=held_out, data=program.data,
        section=SECTIONS["effect"], default_share=holdout.DEFAULT_SHARE,
        max_share=holdout.MAX_SHARE, last_day=(end - timedelta(seconds=1)).date(),
        money=lambda value: _money(value, currency),
        signed_money=lambda value: ("+" if value > 0 else "-" if value < 0 else "")
        + _money(abs(value), currency), points=_points)


def _points(value: float) -> str:
    """A difference of rates in percentage points: 0.031 → '+3.1 pts'."""
    return f"{value * 100:+.1f} pts"


@bp.post("/admin/effect/holdout")
@json_action
def start_holdout(body: dict[str, Any]):  # noqa: ANN201 - Flask view
    """Start holding out a share of the customers first seen from now on."""
    raw = body.get("share", holdout.DEFAULT_SHARE)
    share = int(raw) if isinstance(raw, str) and raw.strip().isdigit() else raw
    try:
        with database().transaction() as session:
            shop = session.get(Shop, g.shop.id, with_for_update=True)
            holdout.start(shop, share, now())
    except holdout.HoldoutError as exc:
        raise FieldErrors({"share": str(exc)}) from None
    return jsonify({"message": f"Holdout started: {share}% of new customers get no program."})


@bp.post("/admin/effect/holdout/end")
@fetch_only
@require_admin_session
def end_holdout():  # noqa: ANN201 - Flask view
    """End the running holdout: every held-out customer joins the program now."""
    try:
        with database().transaction() as session:
            shop = session.get(Shop, g.shop.id, with_for_update=True)
            released = holdout.end(session, shop, now())
    except holdout.HoldoutError as exc:
        return error("no_holdout", str(exc), 409)
    # Committed: their storefront blocks show again once Shopify holds the new metafield.
    for member_id in released:
        enqueue.enqueue(runtime().queue, enqueue.sync_member_metafields(g.shop.id, member_id,
                                                                        "released"))
    return jsonify({"message": f"Holdout ended: {len(released):,} customers joined the "
                               "program.", "released": len(released)})
