"""Shopify Flow action runs: POST /flow/actions/<action>, the runtime_url of each action
extension (extensions/flow-adjust-points, extensions/flow-set-tier).

Flow signs the body like a webhook: shopifyapp checks the base64 HMAC-SHA256 in
X-Shopify-Hmac-SHA256 against the raw body (old secret accepted during a rotation). The signed
body names the shop (`shopify_domain`) and the action (`handle`); an X-Shopify-Shop-Domain header
that names another shop, or a handle that is not this URL's action, is refused: the signature
proves Shopify sent the bytes, the body says for whom.
https://shopify.dev/docs/apps/build/flow/actions/endpoints
Answers: 200 `{"ok": true, "outcome", "repeated"}` (a resent run changes nothing and answers
its first outcome), 401 for a bad signature or shop, 404 for a shop without the app, 422 for a
run that cannot apply (Flow shows it failed; it is not retried).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, jsonify, request

from app.loyalty.flow_actions import ADJUST_POINTS, SET_TIER, FlowActionRefused, run_flow_action
from app.pipeline import enqueue
from app.shopify.domains import valid_shop
from app.shopify.verify import shopify_app
from app.web import context
from app.web.member_actions import installed_shop
from app.web.responses import error

log = logging.getLogger(__name__)
bp = Blueprint("flow_actions", __name__, url_prefix="/flow/actions")

# URL path → the action's handle.
ACTIONS = {"adjust-points": ADJUST_POINTS, "set-tier": SET_TIER}


@bp.post("/<action>")
def run_action(action: str) -> Any:
    """Verify one signed action run and apply it once."""
    handle = ACTIONS.get(action)
    if handle is None:
        return error("unknown_action", "no such Flow action", 404)
    raw = request.get_data(cache=True, as_text=True)
    check = shopify_app(context.settings()).verify_flow_action_req({
        "method": request.method, "headers": dict(request.headers), "url": request.url,
        "body": raw})
    if not check.ok:
        log.warning("flow action refused", extra={"code": check.log.code})
        return error("invalid_hmac", "this request was not signed by Shopify", 401)
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        return error("invalid_body", "a Flow action run is a JSON object with properties", 400)
    shop_domain = valid_shop(body.get("shopify_domain"))
    if shop_domain is None or (check.shop and f"{check.shop}.myshopify.com" != shop_domain):
        return error("shop_mismatch", "the signed body and the headers name different shops",
                     401)
    if body.get("handle") != handle:
        return error("handle_mismatch", f"this URL runs {handle}", 400)
    run_id = body.get("action_run_id")
    runtime, now = context.runtime(), context.now()
    with runtime.db.transaction() as session:
        shop = installed_shop(session, shop_domain)
        if shop is None:
            return error("shop_not_installed", "the loyalty program is not active here", 404)
        try:
            result = run_flow_action(session, shop, handle, run_id if isinstance(run_id, str)
                                     else "", body["properties"], now)
        except FlowActionRefused as exc:
            log.info("flow action not applied", extra={"shop": shop_domain, "code": exc.code})
            return error(exc.code, str(exc), 422)
        if not result.repeated:
            enqueue.after_commit(session, runtime.queue).add(enqueue.sync_member_metafields(
                shop.id, result.member_id, f"flow-{run_id}"))
    return jsonify({"ok": True, "outcome": result.outcome, "repeated": result.repeated})
