"""The customer account loyalty page's backend: /api/account/*.

The page (`customer-account.page.render`) and the profile block run in Shopify's extension
worker, like the thank-you block: every answer, errors included, carries
`Access-Control-Allow-Origin: *`, preflights get a 204, and the credential is the customer
account session token as `Authorization: Bearer`, verified as checkout_api verifies its tokens
(aud, bare `dest`, exp/nbf). The member is only ever the token's `sub`, the signed-in
customer's GID; a token without one is refused, as customer accounts are always signed in
(https://shopify.dev/docs/api/customer-account-ui-extensions/latest/target-apis/platform-apis/session-token-api).

Same limits as the other shopper surfaces: 60 calls a minute per customer and client address
(checkout_api), of which 10 may be writes (the widget's limit for a redeem or a birthday).
The answers are the widget's (/proxy/member, /proxy/redeem, /proxy/birthday), with reward code
links made absolute: the account pages are not on the store's domain. The text the app writes
(default reward titles, tier names, activity) is in the customer's language, which the page
sends as `?locale=` from `shopify.localization.language`.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, request

from app.i18n import Language, shopper_language
from app.inputs import parse_id
from app.models import Shop
from app.shopify.verify import Verification, verify_extension_request
from app.web import context
from app.web.checkout_api import REQUESTS_PER_MINUTE, extension_request
from app.web.member_actions import (
    member_answer,
    redeem_reward,
    save_birthday,
)
from app.web.proxy import WRITES_PER_MINUTE
from app.web.responses import error

log = logging.getLogger(__name__)
bp = Blueprint("account_api", __name__, url_prefix="/api/account")


@bp.after_app_request
def allow_any_origin(response: Response) -> Response:
    """Every answer under /api/account is readable from the extension's worker."""
    if request.path.startswith(f"{bp.url_prefix}/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _verify() -> Verification | tuple[Response, int] | Response:
    """The verified token of a signed-in customer, or the answer to give instead."""
    check = verify_extension_request(context.settings(), extension_request(), "customer_account")
    if check.code == "options_request" and check.response is not None:
        return Response("", 204, {**check.response.headers,
                                  "Access-Control-Allow-Methods": "GET, POST, OPTIONS"})
    if not check.ok:
        return error(check.code, "session token missing or invalid", 401)
    if check.customer_id is None:
        return error("not_logged_in", "sign in to see your points", 401)
    if parse_id(check.customer_id) is None:
        return error("invalid_sub", "the session token's customer is not a customer id", 401)
    limiter, client = context.rate_limiter(), request.remote_addr or "unknown"
    allowed = limiter.allow(f"account:{check.shop}:{check.customer_id}:{client}",
                            REQUESTS_PER_MINUTE, 60)
    if allowed and request.method == "POST":
        allowed = limiter.allow(f"account-write:{check.shop}:{check.customer_id}",
                                WRITES_PER_MINUTE, 60)
    if not allowed:
        log.warning("account API limited", extra={"shop": check.shop, "code": "rate_limited"})
        return error("rate_limited", "too many requests; try again in a minute", 429)
    return check


def _language() -> Language:
    """The customer's language as the page sends it; a code without a catalog reads as its
    language, else English (app/i18n)."""
    return shopper_language(request.args.get("locale"))


def absolute_links(view: dict[str, Any], shop: Shop) -> dict[str, Any]:
    """Reward code links on the store's own domain (the widget's are relative to it), and the
    shop's currency."""
    base = f"https://{shop.storefront_host}"
    # The page formats amounts (the spend to the next tier) as money, in the shop's currency.
    view = {**view, "currency": shop.currency}
    if "codes" in view:
        view["codes"] = [{**code, "apply_url": base + code["apply_url"]}
                         for code in view["codes"]]
    return view


@bp.route("/member", methods=["GET", "OPTIONS"])
def member() -> Any:
    """The signed-in customer's balances, tier, rewards, codes, referral link and activity."""
    check = _verify()
    if not isinstance(check, Verification):
        return check
    return member_answer(check.shop, check.customer_id, absolute_links, lang=_language())


@bp.route("/redeem", methods=["POST", "OPTIONS"])
def redeem() -> Any:
    """One tap on a reward: its code, or the points back (the widget's contract)."""
    check = _verify()
    if not isinstance(check, Verification):
        return check
    return redeem_reward(check.shop, check.customer_id, request.get_json(silent=True),
                         absolute_links, lang=_language())


@bp.route("/birthday", methods=["POST", "OPTIONS"])
def birthday() -> Any:
    """Save the customer's birthday (MM-DD) for the birthday bonus."""
    check = _verify()
    if not isinstance(check, Verification):
        return check
    return save_birthday(check.shop, check.customer_id, request.get_json(silent=True),
                         absolute_links, lang=_language())
