"""What every admin page and fetch endpoint shares: rendering inside Shopify, links, answers.

Pages are loaded by Shopify's admin with an `id_token`; the page script (assets/admin.js) adds
`Authorization: Bearer <token>` to its fetches and carries a fresh `id_token` on navigation.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, g, jsonify, render_template, request
from markupsafe import Markup

from app.config import Settings
from app.db import Database, utcnow
from app.loyalty.adjustments import staff_actor
from app.pipeline.runtime import Runtime
from app.web.auth import require_admin_session

ASSETS = Path(__file__).resolve().parents[2] / "templates" / "admin" / "assets"
# Query parameters Shopify's admin puts on every app URL that our links carry along.
CARRIED_PARAMS = ("shop", "host", "embedded", "locale", "dev_frame")


def runtime() -> Runtime:
    """The app's runtime (settings, database, queue)."""
    return current_app.extensions["runtime"]


def settings() -> Settings:
    """The app's settings."""
    return runtime().settings


def database() -> Database:
    """The app's database."""
    return runtime().db


def now():  # noqa: ANN201 - naive UTC datetime
    """Naive UTC now, from the app's admin clock when a test installs one."""
    clock = current_app.extensions.get("admin_clock")
    return clock() if clock is not None else utcnow()


def actor() -> str:
    """The staff member behind this request, as ledger entries and versions record them."""
    return staff_actor(g.staff_user_id)


def in_dev_frame() -> bool:
    """Whether the development admin frame (app.web.dev_admin) loaded this page."""
    return bool(current_app.extensions.get("dev_admin")) and request.args.get("dev_frame") == "1"


def admin_link(path: str, **params: Any) -> str:
    """A link to another admin page, carrying Shopify's shop/host parameters (never the token)."""
    carried = {k: request.args[k] for k in CARRIED_PARAMS if request.args.get(k)}
    carried.update({k: v for k, v in params.items() if v is not None and v != ""})
    return f"{path}?{urlencode(carried)}" if carried else path


@cache
def _asset_text(name: str) -> str:
    """An asset's text, read once per process."""
    return (ASSETS / name).read_text(encoding="utf-8")


def inline_asset(name: str) -> Markup:
    """An asset inlined into the page: one request fewer for the first paint."""
    return Markup(_asset_text(name))


def render_page(template: str, *, title: str, nav: str, **context: Any) -> str:
    """An admin page in the embedded layout."""
    return render_template(
        template, title=title, nav=nav, shop=g.shop, client_id=settings().shopify_api_key,
        id_token=g.session_token.token if g.session_token else "", dev_frame=in_dev_frame(),
        admin_link=admin_link, inline_asset=inline_asset, form_key=secrets.token_hex(16),
        **context)


def fetch_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """For JSON endpoints: App Bridge always sends a Bearer token, so a request without one is
    refused with 401 (shopifyapp would bounce it like a page load to fetch an id_token)."""

    @functools.wraps(view)
    def bearer_view(*args: Any, **kwargs: Any) -> Any:
        """The view, once a Bearer token is present (verified by the view's own decorator)."""
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return jsonify({"error": "missing_session_token",
                            "message": "send the session token as Authorization: Bearer"}), 401
        return view(*args, **kwargs)

    return bearer_view


def json_body() -> dict[str, Any] | None:
    """The request's JSON object, or None when the body is not one."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def not_json() -> tuple[Response, int]:
    """The answer to a body that is not a JSON object."""
    return jsonify({"error": "invalid_body", "message": "send a JSON object"}), 400


def json_action(view: Callable[..., Any]) -> Callable[..., Any]:
    """For JSON endpoints that act on a JSON object: `fetch_only`, then `require_admin_session`,
    then the body, handed to the view as its first argument (400 when it is not an object)."""

    @functools.wraps(view)
    def view_with_body(*args: Any, **kwargs: Any) -> Any:
        """The view, given the request's JSON object."""
        body = json_body()
        if body is None:
            return not_json()
        return view(body, *args, **kwargs)

    return fetch_only(require_admin_session(view_with_body))
