"""Engagement in the merchant admin: what each flow did, detractors to call back, reviews to
approve before the storefront shows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, jsonify, request

from app.engagement.flows import FLOWS
from app.engagement.reviews import (
    APPROVED,
    approve_review,
    pending_reviews,
    reject_review,
    reviewer_names,
)
from app.engagement.stats import FlowStats, flow_stats, waiting_by_flow
from app.engagement.surveys import detractor_alerts, order_names
from app.loyalty.analytics import Period, period_ending
from app.loyalty.program import current_settings
from app.web.admin.dashboard import PRESETS, _money, _percent, chosen_period
from app.web.admin.embedded import database, fetch_only, now, render_page
from app.web.auth import require_admin_session

bp = Blueprint("admin_engagement", __name__)

LATEST_ALERTS = 10
TOP_REASONS = 3


@dataclass(frozen=True)
class FlowRow:
    """One line of the flows table, as the merchant reads it."""

    kind: str
    label: str
    stats: FlowStats
    waiting: int
    not_sent: int
    top_reasons: list[tuple[str, int]]


def flow_rows(stats: list[FlowStats], waiting: dict[str, int]) -> list[FlowRow]:
    """The shopper flows in the settings page's order (the merchant's own alert is no flow),
    each with its messages still waiting to be sent."""
    by_kind = {s.kind: s for s in stats}
    rows = []
    for kind, declared in FLOWS.items():
        flow = by_kind.get(kind, FlowStats(kind))
        reasons = sorted(flow.reasons.items(), key=lambda item: (-item[1], item[0]))
        rows.append(FlowRow(kind, declared.label, flow, waiting.get(kind, 0),
                            flow.suppressed + flow.cancelled + flow.failed,
                            reasons[:TOP_REASONS]))
    return rows


def _period(timezone: str | None) -> tuple[Period, str]:
    """The period from `period=7|30|90|365`, else as the dashboard reads it (days, from/to)."""
    preset = request.args.get("period")
    if preset in dict(PRESETS):
        return period_ending(now(), int(preset), timezone), preset
    return chosen_period(timezone)


@bp.get("/admin/engagement")
@require_admin_session
def engagement_page():  # noqa: ANN201 - Flask view
    """Each flow's sends, suppressions, opens, clicks and following orders; detractors; reviews."""
    period, preset = _period(g.shop.timezone)
    with database().sessions() as session:
        program = current_settings(session, g.shop.id)
        rows = flow_rows(flow_stats(session, g.shop.id, period.start, period.end),
                         waiting_by_flow(session, g.shop.id))
        alerts = detractor_alerts(session, g.shop.id, limit=LATEST_ALERTS)
        names = order_names(session, g.shop.id, [int(a["order_id"]) for a in alerts])
        reviews = pending_reviews(session, g.shop.id)
        reviewers = reviewer_names(session, {r.member_id for r in reviews})
    currency = g.shop.currency
    return render_page(
        "admin/engagement.html", title="Engagement", nav="engagement", rows=rows,
        period=period, presets=PRESETS, preset=preset, currency=currency,
        open_tracking=bool(program.engagement["open_tracking"]),
        alerts=[{**a, "order_name": names.get(int(a["order_id"]))} for a in alerts],
        reviews=reviews, reviewers=reviewers, percent=_percent,
        money=lambda value: _money(value, currency), reason_label=_reason_label)


def _reason_label(code: str) -> str:
    """no_marketing_consent → 'no marketing consent'."""
    return code.replace("_", " ")


def _moderate(review_id: int, approve: bool) -> Any:
    """Approve or reject one of this shop's reviews; another shop's id is a 404."""
    with database().transaction() as session:
        if approve:
            review = approve_review(session, g.shop.id, review_id, now())
        else:
            review = reject_review(session, g.shop.id, review_id)
        status = review.status
    message = "Review approved: shoppers see it now." if status == APPROVED else "Review rejected."
    return jsonify({"id": review_id, "status": status, "message": message})


@bp.post("/admin/engagement/reviews/<id:review_id>/approve")
@fetch_only
@require_admin_session
def approve(review_id: int):  # noqa: ANN201 - Flask view
    """Publish a review on the storefront."""
    return _moderate(review_id, approve=True)


@bp.post("/admin/engagement/reviews/<id:review_id>/reject")
@fetch_only
@require_admin_session
def reject(review_id: int):  # noqa: ANN201 - Flask view
    """Keep a review off the storefront."""
    return _moderate(review_id, approve=False)
