"""Development only: the embedded admin in a plain browser tab, framed as Shopify's admin frames it.

    GET /dev/admin?shop=demo.myshopify.com&path=/admin/settings[&user_id=7][&id_token=…]

renders a stand-in of the Shopify admin (top bar, sidebar with the app's navigation) around an
iframe that loads the app page with `embedded=1`, `host`, `shop` and an `id_token`: the one in
the query, or one minted by `app.extensions["devstore"]` (an object with
`mint_admin_session_token(shop, user_id=…)`, such as the local emulator, installed by the demo).
Inside the frame, pages inline stand-ins for App Bridge (fresh tokens the same way, the save
bar) and for Polaris' web components (templates/admin/assets/dev-*) in place of Shopify's CDN
scripts (templates/admin/base.html, when `in_dev_frame()`).

Registered only when `settings.devstore_enabled` and never in production (config.py forces
devstore_enabled off there); nothing here is reachable on a real deployment.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy import select

from app.config import Settings
from app.models import Shop
from app.shopify.domains import valid_shop
from app.web.responses import error

bp = Blueprint("dev_admin", __name__)

# The admin's own pages in the stand-in sidebar (not links: this is not Shopify).
SHOPIFY_SECTIONS = ("Home", "Orders", "Products", "Customers", "Marketing", "Discounts",
                    "Content", "Markets", "Analytics")
# The app's navigation as its pages declare it in <s-app-nav> (templates/admin/base.html).
APP_NAV = (("Dashboard", "/admin/dashboard"), ("Customers", "/admin/customers"),
           ("Engagement", "/admin/engagement"), ("Referrals", "/admin/referrals"),
           ("Program settings", "/admin/settings"),
           ("Get started", "/admin/onboarding"))


def register_dev_admin(app: Flask, settings: Settings) -> None:
    """Attach the development admin frame, unless this is production or the devstore is off."""
    if not settings.devstore_enabled or settings.is_production:
        return
    app.register_blueprint(bp)
    app.extensions["dev_admin"] = True
    app.extensions.setdefault("demo_links", []).append(
        ("/dev/admin", "the embedded admin, framed as Shopify's admin frames it (emulator "
                       "id_token)"))


def _minter() -> Any | None:
    """Whatever the demo installed to mint admin session tokens (the local emulator)."""
    return current_app.extensions.get("devstore")


def _host_param(shop: str) -> str:
    """Shopify's `host`: base64 of the admin URL, padding stripped (as Shopify/cli does)."""
    handle = shop.removesuffix(".myshopify.com")
    return base64.b64encode(f"admin.shopify.com/store/{handle}".encode()).decode().rstrip("=")


def _default_shop() -> str | None:
    """The demo's shop: the one the emulator plays, else the only installed shop."""
    named = valid_shop(current_app.extensions.get("devstore_shop"))
    if named is not None:
        return named
    runtime = current_app.extensions["runtime"]
    with runtime.db.sessions() as session:
        domains = session.execute(select(Shop.domain).where(
            Shop.installed_at.is_not(None), Shop.uninstalled_at.is_(None)).limit(2)).scalars()
        found = list(domains)
    return found[0] if len(found) == 1 else None


def _app_path(raw: str) -> tuple[str, list[tuple[str, str]]] | None:
    """The app page to frame (path and its own query), only ever a path of this app."""
    if not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return None
    parts = urlsplit(raw)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True)


@bp.get("/dev/admin")
def admin_frame():  # noqa: ANN201 - Flask view
    """The Shopify admin stand-in with the app page framed inside it."""
    shop = valid_shop(request.args.get("shop")) or _default_shop()
    if shop is None:
        return error("invalid_shop", "pass ?shop=<name>.myshopify.com", 400)
    target = _app_path(request.args.get("path", "/admin"))
    if target is None:
        return error("invalid_path", "path must be a path of this app, like /admin/settings",
                     400)
    user_id = request.args.get("user_id", "1")
    token = request.args.get("id_token")
    if not token:
        minter = _minter()
        if minter is None:
            return error("no_devstore", "no emulator to mint an id_token: pass ?id_token=", 409)
        token = minter.mint_admin_session_token(shop, user_id=user_id)
    path, own_query = target
    query = own_query + [("embedded", "1"), ("host", _host_param(shop)), ("locale", "en"),
                         ("shop", shop), ("id_token", token), ("dev_frame", "1")]
    return render_template("admin/dev/frame.html", shop=shop, path=path,
                           frame_src=f"{path}?{urlencode(query)}", sections=SHOPIFY_SECTIONS,
                           app_nav=APP_NAV, user_id=user_id)


@bp.get("/dev/admin/id-token")
def fresh_id_token():  # noqa: ANN201 - Flask view
    """A fresh session token for the framed page, as App Bridge's shopify.idToken() gives one."""
    shop = valid_shop(request.args.get("shop"))
    if shop is None:
        return error("invalid_shop", "shop must be a myshopify.com domain", 400)
    minter = _minter()
    if minter is None:
        return error("no_devstore", "no emulator to mint an id_token", 409)
    token = minter.mint_admin_session_token(shop, user_id=request.args.get("user_id", "1"))
    response = jsonify({"id_token": token})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_app_request
def allow_the_dev_frame(response: Response) -> Response:
    """Let the dev frame (this app's own origin, playing admin.shopify.com) frame the pages it
    loads; every other response keeps the policy naming only the shop's admin."""
    policy = response.headers.get("Content-Security-Policy", "")
    if request.args.get("dev_frame") != "1":
        return response
    if "frame-ancestors" in policy and "'self'" not in policy:
        response.headers["Content-Security-Policy"] = policy.replace(
            "frame-ancestors", "frame-ancestors 'self'", 1)
    return response
