"""Install and sign-in: the OAuth install link and callback, the embedded home, admin sessions.

Register with `app.register_blueprint(app.web.auth.bp)`. Two things are injectable through
`app.extensions` (tests, the emulator): `shopify_http` (an httpx.Client for every call to
Shopify) and `shopify_clock` (a callable returning epoch seconds).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    g,
    make_response,
    redirect,
    request,
)
from shopify_app import RequestInput, Res

from app.loyalty.launch import program_state
from app.loyalty.program import current_settings
from app.loyalty.rewards import seed_default_rewards
from app.loyalty.shops import shop_by_domain
from app.pipeline import enqueue
from app.shopify import widget_settings
from app.shopify.domains import valid_shop
from app.shopify.graphql import AdminClient, ShopifyError
from app.shopify.oauth import (
    STATE_COOKIE,
    STATE_COOKIE_PATH,
    STATE_MAX_AGE_S,
    authorize_url,
    embedded_app_url,
    exchange_code,
    new_nonce,
    state_cookie,
    verify_callback,
)
from app.shopify.proxy_path import needs_restore_after_install
from app.shopify.shops import record_shop_details
from app.shopify.tokens import TokenUnavailable, cipher_for, ensure_access_token, store_grant
from app.shopify.verify import (
    RETRY_HEADER,
    Verification,
    shopify_app,
    verify_app_home_request,
    verify_oauth_query,
)
from app.web import context
from app.web.redirects import same_origin_path
from app.web.responses import error

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


_runtime, _settings, _http = context.runtime, context.settings, context.shopify_http
_clock, _utc = context.clock, context.utc


def _request_input() -> RequestInput:
    """The request as shopifyapp reads it, at our public URL (a TLS proxy may sit in front)."""
    query = request.query_string.decode("latin-1")
    url = _settings().shopify_app_url.rstrip("/") + request.path + (f"?{query}" if query else "")
    return {"method": request.method, "headers": dict(request.headers), "url": url,
            "body": ""}


def _frame_ancestors(shop: str) -> dict[str, str]:
    """Only the shop's admin may frame us (notes §1B)."""
    return {"Content-Security-Policy": f"frame-ancestors https://{shop} https://admin.shopify.com;"}


def _answer(res: Res | None, code: str, message: str) -> Response | tuple[Response, int]:
    """Turn shopifyapp's suggested answer into ours: redirects as-is, errors in our JSON shape."""
    if res is None:
        return error(code, message, 401)
    if 300 <= res.status < 400:
        response = redirect(res.headers["Location"], res.status)
        return response
    if res.status < 400:
        return Response(res.body, res.status, res.headers)
    body, status = error(code, message, res.status)
    body.headers.update({k: v for k, v in res.headers.items() if k.lower() == RETRY_HEADER.lower()})
    return body, status


def _is_document() -> bool:
    """A page load rather than an App Bridge fetch (which always carries a Bearer token)."""
    return "Authorization" not in request.headers


# --- Authorization-code grant ----------------------------------------------------------------

@bp.get("/auth/install")
def install():  # noqa: ANN201 - Flask view
    """Send the merchant to the shop's consent screen, remembering a nonce in a signed cookie."""
    settings, now = _settings(), _clock()
    if "hmac" in request.args:
        check = verify_oauth_query(settings, request.query_string.decode("latin-1"), now)
        if not check.ok:
            status = check.response.status if check.response else 401
            return error(check.code, "install link rejected", status)
        shop = check.shop
    else:
        shop = valid_shop(request.args.get("shop"))
    if shop is None:
        return error("invalid_shop", "shop must be a myshopify.com domain", 400)
    nonce = new_nonce()
    response = redirect(authorize_url(settings, shop, nonce), 302)
    response.set_cookie(STATE_COOKIE, state_cookie(settings, nonce, shop, now),
                        max_age=STATE_MAX_AGE_S, path=STATE_COOKIE_PATH,
                        secure=not settings.shopify_app_url.startswith("http://"),
                        httponly=True, samesite="Lax")
    return response


@bp.get("/auth/callback")
def callback():  # noqa: ANN201 - Flask view
    """Check state, HMAC, timestamp and shop; trade the code for tokens; land in the admin."""
    settings, now = _settings(), _clock()
    check = verify_callback(settings, request.query_string.decode("latin-1"),
                            request.cookies.get(STATE_COOKIE), now)
    if not check.ok or check.shop is None or check.params is None:
        log.warning("oauth callback rejected", extra={"code": check.code})
        return error(check.code, "install could not be verified; start again from Shopify", 401)
    result = exchange_code(settings, check.shop, check.params["code"], _utc(now), _http())
    if not result.ok or result.grant is None:
        return error(result.code, "Shopify did not grant access; try installing again", 502)
    with _runtime().db.transaction() as session:
        _, installed_now = store_grant(session, check.shop, result.grant, _utc(now),
                                       cipher_for(settings))
    if installed_now:
        _welcome_shop(check.shop, result.grant.access_token)
    response = redirect(embedded_app_url(settings, check.shop, check.params.get("host")), 302)
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH,
                           secure=not settings.shopify_app_url.startswith("http://"),
                           httponly=True, samesite="Lax")
    return response


def _welcome_shop(shop: str, access_token: str) -> None:
    """After an install: the default rewards catalog, then the shop's name, currency, timezone."""
    with _runtime().db.transaction() as session:
        row = shop_by_domain(session, shop)
        seed_default_rewards(session, row, _utc(_clock()))
        shop_id, proxy_path, state = row.id, row.proxy_path, program_state(row)
        program = current_settings(session, shop_id)
    queue = _runtime().queue
    if needs_restore_after_install(proxy_path):
        enqueue.enqueue(queue, enqueue.sync_proxy_path(shop_id, proxy_path))
    if widget_settings.needs_restore_after_install(program.widget):
        enqueue.enqueue(queue, enqueue.sync_widget_settings(shop_id, program.version))
    # A new installation holds no app-data metafield: say whether the launcher may show.
    enqueue.enqueue(queue, enqueue.sync_program_state(shop_id, state))
    _remember_shop_details(shop, access_token)


def _remember_shop_details(shop: str, access_token: str) -> None:
    """Best effort after an install: the shop's name, currency and timezone."""
    settings = _settings()
    try:
        details = AdminClient(shop, access_token, settings=settings, http=_http(),
                              max_attempts=2).shop_details()
    except (ShopifyError, KeyError, TypeError) as exc:
        log.warning("shop details unavailable", extra={"shop": shop,
                                                       "code": getattr(exc, "code", "bad_shape")})
        return
    with _runtime().db.transaction() as session:
        record_shop_details(session, shop, details)


# --- Embedded admin --------------------------------------------------------------------------

@bp.get("/auth/session-token")
def session_token_page():  # noqa: ANN201 - Flask view
    """The bounce page: only App Bridge, which reloads `shopify-reload` with a fresh id_token."""
    if valid_shop(request.args.get("shop")) is None:
        return error("invalid_shop", "shop must be a myshopify.com domain", 400)
    if same_origin_path(request.args.get("shopify-reload", "")) is None:
        # App Bridge would navigate there: never let a link send the merchant elsewhere.
        return error("invalid_reload", "shopify-reload must be a path of this app", 400)
    result = shopify_app(_settings()).app_home_patch_id_token(_request_input())
    if not result.ok:
        return error(result.log.code, "cannot render the session page", result.response.status)
    return Response(result.response.body, result.response.status, result.response.headers)


def _connect(check: Verification) -> Response | tuple[Response, int] | None:
    """Make sure the shop has a fresh offline token; an error response when it cannot."""
    assert check.shop is not None
    settings, now = _settings(), _utc(_clock())
    try:
        with _runtime().db.sessions() as session:
            outcome = ensure_access_token(session, check.shop, now, settings=settings,
                                          http=_http(), session_token=check)
    except TokenUnavailable as exc:
        log.warning("no access token", extra={"shop": check.shop, "code": exc.code})
        if exc.code == "invalid_subject_token":
            return _answer(check.retry_response, exc.code, "session expired; reloading")
        return error(exc.code, "Shopify is not answering; try again in a moment", 503)
    if outcome.installed_now:
        _welcome_shop(check.shop, outcome.access_token)
    return None


@bp.get("/")
def home():  # noqa: ANN201 - Flask view
    """The embedded app's home: verify the session token, connect the shop, say so."""
    check = verify_app_home_request(_settings(), _request_input())
    if not check.ok or check.shop is None:
        return _answer(check.response, check.code, "session token required")
    failure = _connect(check)
    if failure is not None:
        return failure
    # The program lives under /admin (onboarding first); the verified query, id_token
    # included, goes along so that page load is verified the same way.
    response = redirect(f"/admin?{request.query_string.decode('latin-1')}", 302)
    response.headers.update(check.response.headers if check.response else {})
    response.headers.update(_frame_ancestors(check.shop))
    return response


def require_admin_session(view: Callable[..., Any]) -> Callable[..., Any]:
    """For `/admin/...` views: a verified session token, its shop on `g`, CSP on the answer.

    Sets `g.shop` (the Shop row, detached), `g.shop_domain`, `g.staff_user_id` (the token's
    `sub`) and `g.session_token` (the Verification, for a token exchange). A fetch with a bad
    token gets 401 + X-Shopify-Retry-Invalid-Session-Request; a page load is bounced to get a
    fresh one.
    """

    @functools.wraps(view)
    def verified_view(*args: Any, **kwargs: Any) -> Any:
        """The view, once the session token checks out."""
        check = verify_app_home_request(_settings(), _request_input())
        if not check.ok or check.shop is None:
            return _answer(check.response, check.code, "session token required")
        with _runtime().db.sessions() as session:
            shop = shop_by_domain(session, check.shop)
        if shop is None or not shop.is_installed:
            if _is_document():
                # The home connects a shop we do not know yet, then App Bridge can come back.
                query = request.query_string.decode("latin-1")
                return redirect("/" + (f"?{query}" if query else ""), 302)
            return error("shop_not_installed", "open the app from the Shopify admin", 401)
        g.shop, g.shop_domain = shop, shop.domain
        g.staff_user_id, g.session_token = check.user_id, check
        response = make_response(view(*args, **kwargs))
        response.headers.update(_frame_ancestors(shop.domain))
        return response

    return verified_view
