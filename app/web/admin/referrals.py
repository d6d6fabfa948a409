"""Referrals waiting for the merchant: flagged ones are never paid until someone decides."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify

from app.db import get_for_shop
from app.errors import NotFound
from app.loyalty.referrals import (
    FLAGGED,
    PENDING,
    approve_referral,
    referrals_to_decide,
    reject_referral,
)
from app.models import Referral
from app.web.admin.embedded import actor, database, fetch_only, now, render_page
from app.web.auth import require_admin_session

bp = Blueprint("admin_referrals", __name__)

SHOWN = 100


@bp.get("/admin/referrals")
@require_admin_session
def referrals_page():  # noqa: ANN201 - Flask view
    """Flagged referrals to approve or reject, then the ones waiting out the return window."""
    with database().sessions() as session:
        rows = referrals_to_decide(session, g.shop.id, limit=SHOWN)
    flagged = [r for r in rows if r[0].status == FLAGGED]
    waiting = [r for r in rows if r[0].status == PENDING]
    return render_page("admin/referrals.html", title="Referrals", nav="referrals",
                       flagged=flagged, waiting=waiting)


def _decide(referral_id: int, approve: bool) -> Any:
    """Approve or reject one of this shop's referrals; another shop's id is a 404."""
    with database().transaction() as session:
        referral = get_for_shop(session, Referral, g.shop.id, referral_id)
        if referral is None:
            raise NotFound("no such referral in this shop")
        if approve:
            referral = approve_referral(session, referral, actor=actor(), now=now())
        else:
            referral = reject_referral(session, referral, actor=actor(), now=now())
        status = referral.status
    message = ("Approved: the referrer is paid once the friend's return window has passed."
               if approve else "Rejected: nothing will be paid for this referral.")
    return jsonify({"id": referral_id, "status": status, "message": message})


@bp.post("/admin/referrals/<id:referral_id>/approve")
@fetch_only
@require_admin_session
def approve(referral_id: int):  # noqa: ANN201 - Flask view
    """Accept a flagged referral."""
    return _decide(referral_id, approve=True)


@bp.post("/admin/referrals/<id:referral_id>/reject")
@fetch_only
@require_admin_session
def reject(referral_id: int):  # noqa: ANN201 - Flask view
    """Turn down a flagged or waiting referral."""
    return _decide(referral_id, approve=False)
