"""The thank-you and order-status extensions' backend: /api/checkout/* (design.md §4).

Extensions run in a Web Worker whose origin is unstable, so every answer, errors included,
carries `Access-Control-Allow-Origin: *` and preflights get a 204 (shopify-notes §6;
shopify.dev/docs/api/checkout-ui-extensions/latest/configuration#network-access). Credentials
are never cookies: the extension session token arrives as `Authorization: Bearer`, and the
shopper is only ever its `sub`.

Which extension API issued the token: `?surface=customer_account` from the order-status
extension, the thank-you (checkout) surface otherwise.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from shopify_app import RequestInput

from app.engagement.checkout_survey import record_nps
from app.i18n import Language, shopper_language
from app.inputs import parse_id
from app.loyalty.checkout_view import (
    OrderNotRecorded,
    facts_for_preview,
    order_view,
)
from app.loyalty.launch import NOT_LIVE_CODE, NOT_LIVE_MESSAGE
from app.loyalty.orders import OrderFacts, parse_shopify_time
from app.loyalty.shops import installed_shop
from app.models import Shop
from app.shopify.graphql import AdminClient, OrderDetails, ShopifyError, ShopifyUnavailable
from app.shopify.tokens import TokenUnavailable, access_token_for
from app.shopify.verify import Verification, verify_extension_request
from app.web import context
from app.web.responses import error

log = logging.getLogger(__name__)
bp = Blueprint("checkout_api", __name__, url_prefix="/api/checkout")

SURFACES = ("checkout", "customer_account")
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([0-9]+)")
# The shopper is waiting on the page: one retry of a failed Admin API call, then give up.
ADMIN_API_ATTEMPTS = 2
# Per shopper (token `sub`, or all guests) and client address, every call: a page view loads
# its order at most four times (LoyaltyPanel REFRESH_DELAYS_MS) and sends one NPS answer;
# guests behind one address (a carrier's NAT) share it, as the storefront's 60 reads do.
REQUESTS_PER_MINUTE = 60
# Admin API look-ups for a preview, made only for the token's own customer: per customer, per
# client address, and per shop (the shop's Admin API budget is shared with everything else).
LOOKUPS_PER_CUSTOMER_PER_MINUTE = 5
LOOKUPS_PER_CLIENT_PER_MINUTE = 10
LOOKUPS_PER_SHOP_PER_MINUTE = 120
# How long a look-up that found no order of the caller's is remembered: the block asks again
# after 3, 10 and 30 s, by when orders/paid has usually recorded a real order.
FAILED_LOOKUP_SECONDS = 60


_runtime, _settings, _http, _now = (context.runtime, context.settings, context.shopify_http,
                                    context.now)


@bp.after_app_request
def allow_any_origin(response: Response) -> Response:
    """Every answer under /api/checkout is readable from the extension's worker, whatever its
    origin: errors included, also those raised before a view is chosen (405, 404), which the
    app's handlers in app.web.responses answer in our shape."""
    if request.path.startswith(f"{bp.url_prefix}/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def extension_request() -> RequestInput:
    """The request as shopifyapp reads it, at our public URL."""
    query = request.query_string.decode("latin-1")
    url = _settings().shopify_app_url.rstrip("/") + request.path + (f"?{query}" if query else "")
    return {"method": request.method, "headers": dict(request.headers), "url": url, "body": ""}


def verify_checkout_request() -> Verification | tuple[Response, int] | Response:
    """The verified token, or the answer to give instead (preflight 204 or a refusal)."""
    surface = request.args.get("surface", "checkout")
    if surface not in SURFACES:
        return error("invalid_surface", "surface must be checkout or customer_account", 400)
    check = verify_extension_request(_settings(), extension_request(), surface)
    if check.code == "options_request" and check.response is not None:
        # A POST with a JSON body is not a simple request: say POST is allowed too.
        return Response("", 204, {**check.response.headers,
                                  "Access-Control-Allow-Methods": "GET, POST, OPTIONS"})
    if not check.ok:
        return error(check.code, "session token missing or invalid", 401)
    if check.customer_id is not None and parse_id(check.customer_id) is None:
        return error("invalid_sub", "the session token's customer is not a customer id", 401)
    shopper = check.customer_id or "guest"
    if not context.rate_limiter().allow(
            f"checkout:{check.shop}:{shopper}:{request.remote_addr or 'unknown'}",
            REQUESTS_PER_MINUTE, 60):
        log.warning("checkout API limited", extra={"shop": check.shop, "code": "rate_limited"})
        return error("rate_limited", "too many requests; try again in a minute", 429)
    return check


def _installed_shop(session: Any, domain: str) -> Shop | None:
    """The shop the token's `dest` names, if it still has the app installed."""
    return installed_shop(session, domain)


def _customer_number(gid: str | None) -> int | None:
    """123 from gid://shopify/Customer/123."""
    match = _CUSTOMER_GID.fullmatch(gid or "")
    return parse_id(match.group(1)) if match else None


def fetch_order_for_preview(shop_domain: str, shopify_order_id: int, now: datetime
                            ) -> OrderFacts | None:
    """The order as Shopify describes it now, as OrderFacts for a preview; None if unknown.

    Raises TokenUnavailable or ShopifyError when Shopify cannot be asked.
    """
    runtime = _runtime()
    with runtime.db.sessions() as session:
        token = access_token_for(session, shop_domain, now, settings=runtime.settings,
                                 http=_http())
    client = AdminClient(shop_domain, token, settings=runtime.settings, http=_http(),
                         max_attempts=ADMIN_API_ATTEMPTS)
    details: OrderDetails | None = client.order(shopify_order_id)
    if details is None:
        return None
    return facts_for_preview(
        shopify_order_id, name=details.name, email=details.email,
        customer_id=_customer_number(details.customer_id), currency=details.currency,
        subtotal=details.subtotal, test=details.test,
        cancelled_at=parse_shopify_time(details.cancelled_at))


def _not_found() -> tuple[Response, int]:
    """The one answer for an order this token may not see, whether or not it exists."""
    return error("order_not_found", "no such order", 404)


def _not_ready() -> tuple[Response, int]:
    """The order may exist but its points are not known here yet (the block asks again)."""
    return error("order_not_ready", "this order's points are not known yet", 404)


def _lookup_key(shop: str, shopify_order_id: int) -> str:
    """Where a failed Admin API look-up of this order is remembered."""
    return f"checkout-lookup:{shop}:{shopify_order_id}"


def _remembered_failure(shop: str, shopify_order_id: int, customer_id: int) -> bool:
    """Whether a recent look-up showed this order unknown to Shopify or not this customer's."""
    remembered = context.short_memory().recall(_lookup_key(shop, shopify_order_id))
    return remembered is not None and remembered != f"customer:{customer_id}"


def _remember_failure(shop: str, shopify_order_id: int, owner_id: int | None,
                      found: bool) -> None:
    """Remember briefly that the order is unknown, or whose it is when it is not the caller's."""
    value = "missing" if not found else (f"customer:{owner_id}" if owner_id else "guest")
    context.short_memory().remember(_lookup_key(shop, shopify_order_id), value,
                                    FAILED_LOOKUP_SECONDS)


def _lookup_refusal(shop: str, customer_id: int) -> tuple[Response, int] | None:
    """The answer when this look-up would go over a limit, counting it otherwise."""
    limiter, client = context.rate_limiter(), request.remote_addr or "unknown"
    if not (limiter.allow(f"checkout-lookup:{shop}:customer:{customer_id}",
                          LOOKUPS_PER_CUSTOMER_PER_MINUTE, 60)
            and limiter.allow(f"checkout-lookup:{shop}:client:{client}",
                              LOOKUPS_PER_CLIENT_PER_MINUTE, 60)):
        log.warning("order look-ups limited", extra={"shop": shop, "code": "rate_limited"})
        return error("rate_limited", "too many requests; try again in a minute", 429)
    if not limiter.allow(f"checkout-lookup:{shop}", LOOKUPS_PER_SHOP_PER_MINUTE, 60):
        # The shop's own Admin API budget: its shoppers wait for orders/paid instead.
        log.warning("shop's order look-ups limited", extra={"shop": shop,
                                                           "code": "lookup_budget_spent"})
        return _not_ready()
    return None


def _buyer_language() -> Language:
    """The buyer's language as the block sends it (`shopify.localization.language`); a code
    without a catalog reads as its language, else English (app/i18n)."""
    return shopper_language(request.args.get("locale"))


@bp.route("/order/<order_id>", methods=["GET", "OPTIONS"])
def order_loyalty(order_id: str) -> Any:
    """This order's points, and for its own logged-in customer balance, tier, referral, NPS."""
    check = verify_checkout_request()
    if not isinstance(check, Verification):
        return check
    shopify_order_id, now = parse_id(order_id), _now()
    if shopify_order_id is None:
        return _not_found()
    db = _runtime().db
    with db.transaction() as session:
        shop = _installed_shop(session, check.shop)
        if shop is None:
            return error("shop_not_installed", "the loyalty program is not active here", 404)
        if not shop.is_live:
            # Nothing of the program shows at checkout before the merchant launches it.
            return error(NOT_LIVE_CODE, NOT_LIVE_MESSAGE, 404)
        try:
            return jsonify(order_view(session, shop, shopify_order_id, check.customer_id, now,
                                      lang=_buyer_language()))
        except OrderNotRecorded as waiting:
            if not waiting.previewable or check.customer_id is None:
                # A guest proves no tie to any order: Shopify is never asked on their behalf.
                return _not_ready()
    customer_id = check.customer_id
    if _remembered_failure(check.shop, shopify_order_id, customer_id):
        return _not_found()
    refusal = _lookup_refusal(check.shop, customer_id)
    if refusal is not None:
        return refusal
    # Outside any transaction: the token may be refreshed, and Shopify answers slowly at worst.
    try:
        fetched = fetch_order_for_preview(check.shop, shopify_order_id, now)
    except ShopifyUnavailable as exc:
        log.warning("order preview failed", extra={"shop": check.shop, "code": exc.code})
        return error("shopify_unavailable", "Shopify did not answer; try again", 503)
    except (ShopifyError, TokenUnavailable) as exc:
        log.warning("order preview failed", extra={"shop": check.shop, "code": exc.code})
        return _not_ready()
    if fetched is None or fetched.customer_id != customer_id:
        _remember_failure(check.shop, shopify_order_id,
                          fetched.customer_id if fetched else None, fetched is not None)
        return _not_found()
    with db.transaction() as session:
        shop = _installed_shop(session, check.shop)
        if shop is None:
            return error("shop_not_installed", "the loyalty program is not active here", 404)
        return jsonify(order_view(session, shop, shopify_order_id, customer_id, now,
                                  shopify_order=fetched, lang=_buyer_language()))


@bp.route("/nps", methods=["POST", "OPTIONS"])
def answer_nps() -> Any:
    """The order's customer answers 0-10 (and maybe a comment); the bonus is paid once."""
    check = verify_checkout_request()
    if not isinstance(check, Verification):
        return check
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error("invalid_body", 'send {"order_id", "score", "comment"} as JSON', 400)
    shopify_order_id = parse_id(body.get("order_id"))
    if shopify_order_id is None:
        return error("invalid_order_id", "order_id must be the numeric Shopify order id", 400)
    with _runtime().db.transaction() as session:
        shop = _installed_shop(session, check.shop)
        if shop is None:
            return error("shop_not_installed", "the loyalty program is not active here", 404)
        if not shop.is_live:
            return error(NOT_LIVE_CODE, NOT_LIVE_MESSAGE, 404)
        receipt = record_nps(session, shop, shopify_order_id, check.customer_id,
                             body.get("score"), body.get("comment"), _now(),
                             surface=request.args.get("surface", "checkout"))
        if receipt.detractor:
            log.info("detractor answer", extra={"shop": shop.domain, "code": "nps_detractor"})
        return jsonify({"ok": True, "bonus_points": receipt.bonus_points})
