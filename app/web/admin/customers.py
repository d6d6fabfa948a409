"""Customers: search members, read one member's record, adjust their points by hand."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from app.inputs import has_nul, parse_id
from app.loyalty.adjustments import adjust_points
from app.loyalty.expiry import expires_at
from app.loyalty.ledger import release_unlocked
from app.loyalty.program import current_settings
from app.loyalty.tiers import tier_basis_value, tier_progress
from app.web.admin.directory import (
    ledger_page,
    redemptions_of,
    referral_stats,
    search_members,
    shop_member,
)
from app.web.admin.embedded import (
    actor,
    database,
    fetch_only,
    json_body,
    not_json,
    now,
    render_page,
)
from app.web.admin.forms import INT, coerce
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_customers", __name__)

# What a merchant reads for each kind of ledger entry.
KIND_LABELS = {
    "earn_order": "Order", "refund_reversal": "Refund", "cancel_reversal": "Cancelled order",
    "redeem": "Reward redeemed", "redeem_refund": "Reward returned", "expire": "Expired",
    "adjust": "Manual adjustment", "bonus_signup": "Welcome bonus",
    "bonus_birthday": "Birthday bonus", "bonus_review": "Review bonus", "bonus_nps": "NPS bonus",
    "referral_referrer": "Referred a friend", "referral_referee": "Referral welcome",
    "import": "Imported balance",
}


@bp.get("/admin/customers")
@require_admin_session
def customers_page():  # noqa: ANN201 - Flask view
    """Search by email or name; without a query, the newest members."""
    query = request.args.get("q", "").strip()[:200]
    if has_nul(query):
        return error("invalid_query", "the search cannot contain a NUL character", 400)
    with database().sessions() as session:
        members = search_members(session, g.shop.id, query)
    return render_page("admin/customers.html", title="Customers", nav="customers",
                       query=query, members=members)


def _no_member():  # noqa: ANN202 - Flask response
    """The answer for a member id that is unknown here or is not an id at all."""
    return error("not_found", "no such customer in this shop", 404)


@bp.get("/admin/customers/<raw_member_id>")
@require_admin_session
def member_page(raw_member_id: str):  # noqa: ANN201 - Flask view
    """Balances, tier, referral stats, rewards and the full ledger of one member."""
    member_id = parse_id(raw_member_id)
    if member_id is None:
        return _no_member()
    raw_before = request.args.get("before", "")
    before_id = parse_id(raw_before) if raw_before else None
    if raw_before and before_id is None:
        return error("invalid_cursor", "before must be a ledger entry id", 400)
    moment = now()
    with database().transaction() as session:
        member = shop_member(session, g.shop.id, member_id)
        if member is None:
            return _no_member()
        # Points past their pending period are shown as available, as the shopper sees them.
        release_unlocked(session, member, moment)
        program = current_settings(session, g.shop.id)
        progress = tier_progress(member, program, tier_basis_value(session, member, program,
                                                                   moment))
        entries, more = ledger_page(session, member, before_id)
        context = {"member": member, "progress": progress, "program": program,
                   "expires": expires_at(member, program), "entries": entries, "more": more,
                   "referrals": referral_stats(session, member),
                   "redemptions": redemptions_of(session, member)}
    name = " ".join(p for p in (member.first_name, member.last_name) if p) or member.email
    return render_page("admin/member.html", title=name or "Customer", nav="customers",
                       now=moment, kind_labels=KIND_LABELS, **context)


@bp.post("/admin/customers/<raw_member_id>/adjustments")
@fetch_only
@require_admin_session
def adjust(raw_member_id: str):  # noqa: ANN201 - Flask view
    """Add or take points with a reason; recorded with the staff member from the session."""
    member_id = parse_id(raw_member_id)
    if member_id is None:
        return _no_member()
    body = json_body()
    if body is None:
        return not_json()
    points = coerce(INT, body.get("points", ""))
    with database().transaction() as session:
        member = shop_member(session, g.shop.id, member_id)
        if member is None:
            return _no_member()
        entry = adjust_points(session, member, current_settings(session, g.shop.id),
                              points=points, reason=str(body.get("reason") or ""),
                              actor=actor(), request_key=str(body.get("request_key") or ""),
                              now=now())
        session.refresh(member)
        answer = {"entry_id": entry.id, "points": entry.points,
                  "available": member.points_available, "pending": member.points_pending,
                  "message": f"{entry.points:+,} points recorded."}
    return jsonify(answer)
