"""Redeem during checkout: the checkout block's /api/checkout/rewards/*.

The block (`purchase.checkout.block.render`, extensions/checkout-rewards) lists the signed-in
customer's affordable rewards, redeems one for a code, applies it with
`applyDiscountCodeChange`, and returns the code when checkout refuses it: no points stay spent
for a code that was not applied. Verified as every /api/checkout call
(checkout_api.verify_checkout_request: session token, its `sub`, 60 calls a minute, CORS), plus
the widget's 10 writes a minute. Reward titles the app writes are in the buyer's language, which
the block sends as `?locale=` from `shopify.localization.language`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from app.i18n import Language, shopper_language
from app.models import Shop
from app.shopify.verify import Verification
from app.web import context
from app.web.checkout_api import verify_checkout_request
from app.web.member_actions import (
    member_answer,
    redeem_reward,
    return_unapplied_code,
)
from app.web.proxy import WRITES_PER_MINUTE
from app.web.responses import error

bp = Blueprint("checkout_rewards", __name__, url_prefix="/api/checkout/rewards")


def _checkout_keys(view: dict[str, Any], shop: Shop) -> dict[str, Any]:
    """What the checkout block shows: the balance, the rewards on offer and unused codes."""
    return {key: view[key] for key in ("points", "rewards", "codes")}


def _language() -> Language:
    """The buyer's language as the block sends it (app/i18n falls back to English)."""
    return shopper_language(request.args.get("locale"))


def _customer() -> Verification | tuple[Response, int] | Response:
    """The verified token of a signed-in customer, or the answer to give instead."""
    check = verify_checkout_request()
    if not isinstance(check, Verification):
        return check
    if check.customer_id is None:
        return error("not_logged_in", "sign in to use your rewards", 401)
    if request.method == "POST" and not context.rate_limiter().allow(
            f"checkout-write:{check.shop}:{check.customer_id}", WRITES_PER_MINUTE, 60):
        return error("rate_limited", "too many requests; try again in a minute", 429)
    return check


@bp.route("", methods=["GET", "OPTIONS"])
def rewards() -> Any:
    """The customer's balance, the rewards on offer (with `affordable`) and unused codes."""
    check = _customer()
    if not isinstance(check, Verification):
        return check
    return member_answer(check.shop, check.customer_id, _checkout_keys, lang=_language())


@bp.route("/redeem", methods=["POST", "OPTIONS"])
def redeem() -> Any:
    """Spend points for a code the block then applies (the widget's /proxy/redeem contract)."""
    check = _customer()
    if not isinstance(check, Verification):
        return check
    return redeem_reward(check.shop, check.customer_id, request.get_json(silent=True),
                         lang=_language())


@bp.route("/return", methods=["POST", "OPTIONS"])
def return_code() -> Any:
    """Checkout refused the code: delete it and give its points back."""
    check = _customer()
    if not isinstance(check, Verification):
        return check
    return return_unapplied_code(check.shop, check.customer_id, request.get_json(silent=True),
                                 lang=_language())
