"""The rewards catalog page: add, edit, switch off and reorder what points buy.

A catalog change is recorded in the settings history too (a version whose summary names the
change), so "who changed what, when" has one place to look.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, g, jsonify
from sqlalchemy.orm import Session

from app.db import get_for_shop
from app.errors import NotFound
from app.loyalty.program import current_settings, save_settings
from app.loyalty.reward_kinds import KINDS
from app.loyalty.rewards import (
    RewardError,
    create_reward,
    reward_title,
    shop_rewards,
    validate_reward,
)
from app.models import Reward, Shop
from app.web.admin.embedded import (
    actor,
    database,
    json_action,
    now,
    render_page,
)
from app.web.admin.forms import BOOL, INT, coerce
from app.web.admin.pages import mark_step
from app.web.admin.settings import TABS
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_rewards", __name__)

def _optional(raw: Any) -> str | None:
    """A form value, None when left empty."""
    text = "" if raw is None else str(raw).strip()
    return text or None


def _reward_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A reward's fields from the form, in the types the catalog takes."""
    return {"kind": str(body.get("kind", "")).strip(), "cost": coerce(INT, body.get("cost", "")),
            "value": str(body.get("value", "0") or "0").strip(),
            "title": _optional(body.get("title")),
            "min_subtotal": _optional(body.get("min_subtotal")),
            "tier_required": _optional(body.get("tier_required")),
            "combines": coerce(BOOL, body.get("combines", False))}


def _record(session: Session, summary: str) -> None:
    """Put the catalog change in the settings history and tick the checklist."""
    save_settings(session, g.shop.id, {}, changed_by=actor(), now=now(),
                  summary=f"rewards: {summary}")
    mark_step(session, g.shop.id, "rewards_reviewed")


@bp.get("/admin/settings/rewards")
@require_admin_session
def catalog_page():  # noqa: ANN201 - Flask view
    """The catalog, active and switched-off rewards, in the order shoppers see them."""
    with database().sessions() as session:
        program = current_settings(session, g.shop.id)
        rewards = shop_rewards(session, g.shop.id, active_only=False)
    return render_page("admin/settings/rewards.html", title="Program settings", nav="settings",
                       tabs=TABS, tab="rewards", rewards=rewards,
                       kinds={name: kind.label for name, kind in KINDS.items()},
                       tiers=[t.name for t in program.tiers])


@bp.post("/admin/settings/rewards")
@json_action
def add_reward(body: dict[str, Any]):  # noqa: ANN201 - Flask view
    """Add a reward at the end of the catalog."""
    fields = _reward_fields(body)
    with database().transaction() as session:
        shop = session.get(Shop, g.shop.id)
        reward = create_reward(session, shop, current_settings(session, shop.id),
                               now=now(), **fields)
        _record(session, f"added “{reward.title}” for {reward.cost:,} points")
        reward_id = reward.id
    return jsonify({"id": reward_id, "message": "Reward added."}), 201


@bp.post("/admin/settings/rewards/<id:reward_id>")
@json_action
def edit_reward(body: dict[str, Any], reward_id: int):  # noqa: ANN201 - Flask view
    """Change a reward's terms, or switch it off or on (codes already issued keep theirs)."""
    with database().transaction() as session:
        reward = get_for_shop(session, Reward, g.shop.id, reward_id, for_update=True)
        if reward is None:
            raise NotFound("no such reward in this shop")
        if set(body) == {"active"}:
            reward.active = coerce(BOOL, body["active"])
            _record(session, f"“{reward.title}” switched {'on' if reward.active else 'off'}")
            return jsonify({"id": reward.id, "active": reward.active,
                            "message": "Reward switched on." if reward.active
                            else "Reward switched off."})
        fields = _reward_fields({"kind": reward.kind, **body})
        errors = validate_reward(fields["kind"], fields["cost"], fields["value"],
                                 fields["min_subtotal"], fields["tier_required"],
                                 current_settings(session, g.shop.id), title=fields["title"])
        if errors:
            raise RewardError(errors)
        before = f"“{reward.title}” {reward.cost:,} points"
        shop = session.get(Shop, g.shop.id)
        reward.kind, reward.cost = fields["kind"], fields["cost"]
        reward.value = KINDS[reward.kind].stored_value(fields["value"])
        reward.title = fields["title"] or reward_title(reward.kind, reward.value, shop.currency)
        reward.min_subtotal = (Decimal(fields["min_subtotal"])
                               if fields["min_subtotal"] is not None else None)
        reward.tier_required, reward.combines = fields["tier_required"], fields["combines"]
        _record(session, f"{before} → “{reward.title}” {reward.cost:,} points")
        return jsonify({"id": reward.id, "message": "Reward saved."})


@bp.post("/admin/settings/rewards/order")
@json_action
def reorder_rewards(body: dict[str, Any]):  # noqa: ANN201 - Flask view
    """Put the catalog in the order given (every reward id of the shop, once)."""
    ids = body.get("ids")
    with database().transaction() as session:
        rewards = {r.id: r for r in shop_rewards(session, g.shop.id, active_only=False)}
        if not isinstance(ids, list) or sorted(map(str, ids)) != sorted(map(str, rewards)):
            return error("invalid_order", "send every reward id of this shop once", 422)
        for position, reward_id in enumerate(ids):
            rewards[int(reward_id)].position = position
        _record(session, "reordered: " + ", ".join(rewards[int(i)].title for i in ids))
    return jsonify({"ids": [int(i) for i in ids], "message": "Order saved."})
