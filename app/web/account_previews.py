"""Development-only previews of the BUILT customer account extensions in a plain browser tab.

`/dev/customer-account` is the loyalty page (`customer-account.page.render`) and
`/dev/customer-account/profile` the profile block linking to it, both for a member of the
emulator's shop (`?customer_id=<id>`, else the shop's oldest member), with session tokens the
emulator mints (`/dev/session-token`, app/web/previews.py) and the extension's own
translations (`?locale=fr` for French). Registered only where the thank-you preview is.

Like the thank-you preview, the bundles inline SHOPIFY_APP_URL at build time:
`SHOPIFY_APP_URL=http://127.0.0.1:8000 npm run build` first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, render_template, request
from sqlalchemy import select

from app.config import Settings
from app.models import Member, Shop
from app.web.previews import REPO_ROOT, _devstore_shop, register_in_development
from app.web.responses import error

bp = Blueprint("account_previews", __name__, url_prefix="/dev/customer-account")

# handle -> (folder, target): the two customer account extensions.
EXTENSIONS = {
    "loyalty-account": ("account-page", "customer-account.page.render"),
    "loyalty-account-profile": ("account-profile", "customer-account.profile.block.render"),
    # Rendered by the same host in the browser tests (tests/extensions/checkout).
    "loyalty-checkout-rewards": ("checkout-rewards", "purchase.checkout.block.render"),
}
LOCALES = {"en": ("en.default.json", "en-US"), "fr": ("fr.json", "fr-FR")}
_PAGE = "previews/customer_account_host.html"
_NUMBER = re.compile(r"[0-9]{1,20}")


def register_account_previews(app: Flask, settings: Settings) -> None:
    """Attach the customer account previews in development only."""
    register_in_development(app, settings, bp, [
        ("/dev/customer-account", "customer account loyalty page (built bundle)"),
        ("/dev/customer-account/profile", "customer account profile block (built bundle)"),
    ])


def bundle_path(handle: str) -> Path:
    """Where a built customer account bundle is."""
    folder, _ = EXTENSIONS[handle]
    return REPO_ROOT / "extensions" / folder / "dist" / f"{handle}.js"


def translations(handle: str, language: str) -> dict[str, Any]:
    """The extension's own locale file, as Shopify serves it to `i18n.translate`."""
    folder, _ = EXTENSIONS[handle]
    path = REPO_ROOT / "extensions" / folder / "locales" / LOCALES[language][0]
    return json.loads(path.read_text())


def host_config(handle: str, language: str, bundle_url: str, **extra: Any) -> dict[str, Any]:
    """What the host page needs to run one extension target in one language."""
    return {"target": EXTENSIONS[handle][1], "bundleUrl": bundle_url,
            "translations": translations(handle, language), "locale": LOCALES[language][1],
            **extra}


def _member_customer(shop_domain: str) -> int | None:
    """The shop's oldest member with a customer id (Ada in the demo)."""
    with current_app.extensions["runtime"].db.sessions() as session:
        return session.execute(
            select(Member.customer_id).join(Shop, Shop.id == Member.shop_id)
            .where(Shop.domain == shop_domain, Member.customer_id.is_not(None))
            .order_by(Member.id).limit(1)).scalar_one_or_none()


def _problem(message: str, status: int) -> tuple[str, int]:
    return render_template(_PAGE, title="Customer account preview", problem=message,
                           config=None), status


def _preview(handle: str) -> Any:
    """The host page around one built bundle, for a member of the emulator's shop."""
    devstore, shop = _devstore_shop()
    if devstore is None or shop is None:
        return _problem("No Shopify emulator is running with this app; start it with "
                        "`make demo`.", 404)
    raw_customer, language = request.args.get("customer_id"), request.args.get("locale", "en")
    if raw_customer and not _NUMBER.fullmatch(raw_customer):
        return _problem("customer_id is a numeric Shopify id.", 400)
    if language not in LOCALES:
        return _problem(f"locale is one of {', '.join(LOCALES)}.", 400)
    customer_id = int(raw_customer) if raw_customer else _member_customer(shop)
    if customer_id is None:
        return _problem(f"{shop} has no members yet: customer accounts are always signed in.",
                        404)
    app_url = current_app.extensions["runtime"].settings.shopify_app_url.rstrip("/")
    bundle = bundle_path(handle)
    if not bundle.is_file() or f'"{app_url}"' not in bundle.read_text():
        return _problem(f"Build the extensions for this app first: "
                        f"`SHOPIFY_APP_URL={app_url} npm run build`.", 409)
    query = urlencode({"customer_id": customer_id, "locale": language})
    config = host_config(
        handle, language, f"/dev/customer-account/bundle/{handle}.js",
        sessionTokenUrl="/dev/session-token?" + urlencode({"shop": shop,
                                                           "customer_id": customer_id}),
        extensionUrls={"extension://loyalty-account": f"/dev/customer-account?{query}"})
    return render_template(_PAGE, title="Customer account preview", config=config)


@bp.get("/", strict_slashes=False)
def page() -> Any:
    """The loyalty page."""
    return _preview("loyalty-account")


@bp.get("/profile")
def profile() -> Any:
    """The profile block."""
    return _preview("loyalty-account-profile")


@bp.get("/bundle/<handle>.js")
def bundle(handle: str) -> Any:
    """A built bundle, never cached (a rebuild shows at the next reload)."""
    if handle not in EXTENSIONS or not bundle_path(handle).is_file():
        return error("not_built", "that extension is not built", 404)
    return Response(bundle_path(handle).read_bytes(), mimetype="text/javascript",
                    headers={"Cache-Control": "no-store"})
