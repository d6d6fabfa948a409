"""The POS UI extension's backend: /api/pos/* (extensions/pos-loyalty).

Staff at Shopify POS see a customer's balance, tier and rewards, what the cart will earn, and
redeem a reward for them: the code is applied to the POS cart, and returned (points back) when
the cart does not take it, as at checkout (app/web/checkout_rewards.py).

The credential is the POS session token as `Authorization: Bearer` (verify_pos_request: the
staff user's ID token, `dest` https://{shop}). The token names no customer: the customer is the
one the POS cart or customer screen names, sent as `customer_id`, and staff may act for any
member of the token's shop only; a customer who is not a member of that shop is not found.
Every answer, errors included, carries `Access-Control-Allow-Origin: *` and preflights get a
204, as on the other extension APIs. Same limits: 60 calls a minute per staff user and client
address (checkout_api), of which 10 writes per customer (the widget's limit). The app's own
words (default reward titles, tier names) are in the POS language, sent as `?locale=`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.i18n import Language, shopper_language
from app.inputs import parse_id
from app.loyalty.holdout import NOT_IN_PROGRAM_CODE, NOT_IN_PROGRAM_MESSAGE, is_held_out
from app.loyalty.members import member_for_customer
from app.loyalty.orders import ZERO, OrderAmounts
from app.loyalty.pos import cart_amounts, cart_earning, parse_cart_amount
from app.loyalty.program import current_settings
from app.loyalty.widget import member_view
from app.models import Shop
from app.shopify.verify import Verification, verify_pos_request
from app.web import context
from app.web.checkout_api import REQUESTS_PER_MINUTE, extension_request
from app.web.member_actions import Answer, live_shop, redeem_reward, return_unapplied_code
from app.web.proxy import WRITES_PER_MINUTE
from app.web.responses import error

log = logging.getLogger(__name__)
bp = Blueprint("pos_api", __name__, url_prefix="/api/pos")



@bp.after_app_request
def allow_any_origin(response: Response) -> Response:
    """Every answer under /api/pos is readable from the extension's worker."""
    if request.path.startswith(f"{bp.url_prefix}/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _verify() -> Verification | Answer:
    """The verified staff token, or the answer to give instead."""
    check = verify_pos_request(context.settings(), extension_request())
    if check.code == "options_request" and check.response is not None:
        return Response("", 204, {**check.response.headers,
                                  "Access-Control-Allow-Methods": "GET, POST, OPTIONS"})
    if not check.ok:
        return error(check.code, "session token missing or invalid", 401)
    if not context.rate_limiter().allow(
            f"pos:{check.shop}:{check.user_id}:{request.remote_addr or 'unknown'}",
            REQUESTS_PER_MINUTE, 60):
        return _limited(check)
    return check


def _limited(check: Verification) -> Answer:
    log.warning("POS API limited", extra={"shop": check.shop, "code": "rate_limited"})
    return error("rate_limited", "too many requests; try again in a minute", 429)


def _invalid_customer() -> Answer:
    return error("invalid_customer", "send the POS customer's numeric id as customer_id", 400)


def _write_refusal(check: Verification, customer_id: int) -> Answer | None:
    """The widget's 10 writes a minute, per customer of the shop."""
    if context.rate_limiter().allow(f"pos-write:{check.shop}:{customer_id}",
                                    WRITES_PER_MINUTE, 60):
        return None
    return _limited(check)


def _language() -> Language:
    """The POS language as the extension sends it (`?locale=`); a code without a catalog
    reads as its language, else English (app/i18n)."""
    return shopper_language(request.args.get("locale"))


def _not_a_member() -> Answer:
    """The one answer for a customer who is not a member of this shop, whoever they are."""
    return error("not_a_member", "this customer is not a member of the loyalty program", 404)


def _with_currency(view: dict[str, Any], shop: Shop) -> dict[str, Any]:
    """The POS formats reward values and the cart in the shop's currency."""
    return {**view, "currency": shop.currency}


def _body_customer(body: Any) -> int | None:
    return parse_id(body.get("customer_id")) if isinstance(body, dict) else None


def _held_out() -> Answer:
    """A customer the holdout keeps out of the program: at the counter as on every surface."""
    return error(NOT_IN_PROGRAM_CODE, NOT_IN_PROGRAM_MESSAGE, 404)


def _known_member(shop_domain: str, customer_id: int) -> Answer | None:
    """404 unless the customer is a member of the live shop in the program (staff never enrol
    anyone here)."""
    with context.runtime().db.sessions() as session:
        shop = live_shop(session, shop_domain)
        if not isinstance(shop, Shop):
            return shop
        member = member_for_customer(session, shop, customer_id)
        if member is None:
            return _not_a_member()
        if is_held_out(member):
            return _held_out()
    return None


def _cart() -> OrderAmounts | Answer | None:
    """The POS cart's amounts from `?subtotal=` and `?gift_cards=` (the gift-card lines in
    it, 0 when absent), None without a subtotal, or the 400 to answer."""
    raw_subtotal, raw_gift_cards = request.args.get("subtotal"), request.args.get("gift_cards")
    if raw_subtotal is None and raw_gift_cards is None:
        return None
    subtotal = parse_cart_amount(raw_subtotal)
    if subtotal is None:
        return error("invalid_subtotal", "subtotal is an amount like 24.50", 400)
    gift_cards = ZERO if raw_gift_cards is None else parse_cart_amount(raw_gift_cards)
    amounts = cart_amounts(subtotal, gift_cards) if gift_cards is not None else None
    if amounts is None:
        return error("invalid_gift_cards",
                     "gift_cards is the amount of the cart's gift-card lines, like 50.00, "
                     "at most the subtotal", 400)
    return amounts


@bp.route("/customers/<raw_customer>", methods=["GET", "OPTIONS"])
def customer(raw_customer: str) -> Any:
    """The member's balance, tier, rewards (with `affordable`) and codes; with `?subtotal=`
    (and `?gift_cards=` when the cart holds gift cards), the points that cart will earn
    (`cart`)."""
    check = _verify()
    if not isinstance(check, Verification):
        return check
    customer_id = parse_id(raw_customer)
    if customer_id is None:
        return _invalid_customer()
    cart = _cart()
    if cart is not None and not isinstance(cart, OrderAmounts):
        return cart
    moment = context.now()
    with context.runtime().db.transaction() as session:
        shop = live_shop(session, check.shop)
        if not isinstance(shop, Shop):
            return shop
        member = member_for_customer(session, shop, customer_id)
        if member is None:
            return _not_a_member()
        if is_held_out(member):
            return _held_out()
        settings = current_settings(session, shop.id)
        view = member_view(session, shop, member, settings, moment, lang=_language())
        answer = {**{key: view[key] for key in ("points", "tier", "rewards", "codes")},
                  "currency": shop.currency}
        if cart is not None:
            answer["cart"] = cart_earning(member, settings, cart).as_contract()
        return jsonify(answer)


@dataclass(frozen=True)
class StaffWrite:
    """A verified staff write within its limits: the shop, the customer acted for, the body."""

    shop: str
    customer_id: int
    body: Any


def _staff_write() -> StaffWrite | Answer:
    """The verified staff write, or the answer to give instead."""
    check = _verify()
    if not isinstance(check, Verification):
        return check
    body = request.get_json(silent=True)
    customer_id = _body_customer(body)
    if customer_id is None:
        return _invalid_customer()
    refusal = _write_refusal(check, customer_id)
    if refusal is not None:
        return refusal
    return StaffWrite(check.shop, customer_id, body)


@bp.route("/redeem", methods=["POST", "OPTIONS"])
def redeem() -> Any:
    """`{"customer_id", "reward_id", "request_key"?}`: a code for the POS cart, or points back."""
    write = _staff_write()
    if not isinstance(write, StaffWrite):
        return write
    refusal = _known_member(write.shop, write.customer_id)
    if refusal is not None:
        return refusal
    return redeem_reward(write.shop, write.customer_id, write.body, _with_currency,
                         lang=_language())


@bp.route("/return", methods=["POST", "OPTIONS"])
def return_code() -> Any:
    """`{"customer_id", "code"}`: the POS cart did not take the code; delete it, points back."""
    write = _staff_write()
    if not isinstance(write, StaffWrite):
        return write
    return return_unapplied_code(write.shop, write.customer_id, write.body, _with_currency,
                                 lang=_language())
