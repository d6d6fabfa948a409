"""Development-only previews: the BUILT thank-you bundle in a plain browser tab.

Registered only when the devstore is enabled outside production (`register_previews`). The
page plays Shopify's extension host: Polaris `s-*` elements as plain custom elements, and a
`shopify` global whose session tokens are minted by the local Shopify emulator, so the bundle
talks to this app's real /api/checkout/* exactly as on a thank-you page.

What the page needs from the running app, all set by whoever starts the emulator (devstore.demo):
`app.extensions["devstore"]` (an object with `mint_extension_session_token(shop,
customer_id=…)`) and `app.extensions["devstore_shop"]` (the shop domain). The query picks the
order: `/dev/thank-you?order_id=<id>&customer_id=<id>`; without `order_id` the shop's newest
recorded order, without `customer_id` that order's customer, `customer_id=` (blank) a guest;
`locale=fr` plays a buyer in French (the extension's locales/fr.json).

The bundle inlines SHOPIFY_APP_URL when it is built, so build it for this app's URL first:
`SHOPIFY_APP_URL=http://127.0.0.1:8000 npm run build` (the page says so when it does not match).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy import select

from app.config import Settings
from app.i18n.language import normalize_locale
from app.models import Member, Order, Shop
from app.shopify.domains import valid_shop
from app.web.responses import error

bp = Blueprint("previews", __name__, url_prefix="/dev")

REPO_ROOT = Path(__file__).resolve().parents[2]
THANK_YOU_BUNDLE = REPO_ROOT / "extensions" / "thank-you" / "dist" / "loyalty-thank-you.js"
THANK_YOU_TARGET = "purchase.thank-you.block.render"
THANK_YOU_DIR = REPO_ROOT / "extensions" / "thank-you"
DEFAULT_EXTENSION_LOCALE = "en"
_NUMBER = re.compile(r"[0-9]{1,20}")


def register_in_development(app: Flask, settings: Settings, blueprint: Blueprint,
                            links: list[tuple[str, str]]) -> None:
    """Attach a preview blueprint and its demo links in development only; production can never
    serve them."""
    if not settings.devstore_enabled or settings.is_production:
        return
    app.register_blueprint(blueprint)
    app.extensions.setdefault("demo_links", []).extend(links)


def register_previews(app: Flask, settings: Settings) -> None:
    """Attach the thank-you preview in development only."""
    register_in_development(app, settings, bp, [
        ("/dev/thank-you", "thank-you page preview (built bundle, emulator session token)")])


def _bundle_path() -> Path:
    """Where the built thank-you bundle is (overridable for a build kept elsewhere)."""
    return Path(current_app.extensions.get("thank_you_bundle", THANK_YOU_BUNDLE))


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over`'s messages over `base`'s, section by section."""
    merged = dict(base)
    for key, value in over.items():
        merged[key] = (_merged(base[key], value) if isinstance(value, dict)
                       and isinstance(base.get(key), dict) else value)
    return merged


def extension_translations(extension_dir: Path, locale: str | None
                           ) -> tuple[str, dict[str, Any]]:
    """(extension language, its messages) for a buyer's language, as Shopify's host picks
    them: `fr-CA` reads fr-CA.json, else fr.json, over en.default.json; a language the
    extension lacks reads the default
    (https://shopify.dev/docs/apps/build/checkout/localized-checkout-ui-extensions)."""
    locales = extension_dir / "locales"
    default = json.loads((locales / f"{DEFAULT_EXTENSION_LOCALE}.default.json").read_text(
        encoding="utf-8"))
    tag = normalize_locale(locale) or DEFAULT_EXTENSION_LOCALE
    for candidate in (tag, tag.split("-")[0]):
        path = locales / f"{candidate}.json"
        if candidate != DEFAULT_EXTENSION_LOCALE and path.is_file():
            return candidate, _merged(default, json.loads(path.read_text(encoding="utf-8")))
    return DEFAULT_EXTENSION_LOCALE, default


def _devstore_shop() -> tuple[Any, str | None]:
    """The running emulator and the shop the preview plays, from the query or the app."""
    devstore = current_app.extensions.get("devstore")
    shop = valid_shop(request.args.get("shop") or current_app.extensions.get("devstore_shop"))
    return devstore, shop


def _demo_order(shop_domain: str, order_id: int | None) -> tuple[int, int | None] | None:
    """(order id, its customer id): the one asked for, else the shop's newest recorded order."""
    db = current_app.extensions["runtime"].db
    with db.sessions() as session:
        query = (select(Order.shopify_order_id, Member.customer_id)
                 .join(Shop, Shop.id == Order.shop_id)
                 .outerjoin(Member, Member.id == Order.member_id)
                 .where(Shop.domain == shop_domain))
        if order_id is not None:
            query = query.where(Order.shopify_order_id == order_id)
        else:
            query = query.where(Order.status != "awaiting_payment").order_by(Order.id.desc())
        row = session.execute(query.limit(1)).first()
    if row is None:
        # An order the app has not recorded yet still previews (from Shopify's side).
        return (order_id, None) if order_id is not None else None
    return int(row[0]), row[1]


# The extension host the browser tests render too (tests/extensions/checkout).
_PAGE = "previews/extension_host.html"
_TITLE = "Thank-you page preview · Loyalty Loop"


def _problem(message: str, status: int) -> tuple[str, int]:
    """The preview page with only an explanation."""
    return render_template(_PAGE, title=_TITLE, problem=message, config=None), status


@bp.get("/thank-you")
def thank_you() -> Any:
    """A thank-you page around the built bundle, for a demo order."""
    devstore, shop = _devstore_shop()
    if devstore is None or shop is None:
        return _problem("No Shopify emulator is running with this app (app.extensions "
                        "'devstore' and 'devstore_shop'); start it with `make demo`.", 404)
    raw_order, raw_customer = request.args.get("order_id"), request.args.get("customer_id")
    if (raw_order and not _NUMBER.fullmatch(raw_order)) or (
            raw_customer and not _NUMBER.fullmatch(raw_customer)):
        return _problem("order_id and customer_id are numeric Shopify ids.", 400)
    found = _demo_order(shop, int(raw_order) if raw_order else None)
    if found is None:
        return _problem(f"{shop} has no orders yet: send an orders/paid webhook first.", 404)
    order_id, customer_id = found
    if raw_customer is not None:
        customer_id = int(raw_customer) if raw_customer else None
    bundle = _bundle_path()
    app_url = current_app.extensions["runtime"].settings.shopify_app_url.rstrip("/")
    if not bundle.is_file():
        return _problem(f"The thank-you extension is not built: run "
                        f"`SHOPIFY_APP_URL={app_url} npm run build`.", 404)
    if f'"{app_url}"' not in bundle.read_text():
        return _problem(f"The built bundle calls another app URL: rebuild it with "
                        f"`SHOPIFY_APP_URL={app_url} npm run build`.", 409)
    locale = normalize_locale(request.args.get("locale")) or DEFAULT_EXTENSION_LOCALE
    language, translations = extension_translations(THANK_YOU_DIR, locale)
    config = {
        "target": THANK_YOU_TARGET,
        "locale": locale, "extensionLanguage": language, "translations": translations,
        "bundleUrl": "/dev/thank-you/bundle.js",
        "sessionTokenUrl": "/dev/session-token?" + urlencode(
            {"shop": shop, **({"customer_id": customer_id} if customer_id else {})}),
        "orderConfirmation": {"order": {"id": f"gid://shopify/Order/{order_id}"},
                              "number": str(order_id), "isFirstOrder": False},
        # buyerIdentity.customer: the logged-in buyer the token names, absent for a guest.
        **({"customer": {"id": f"gid://shopify/Customer/{customer_id}"}} if customer_id else {}),
    }
    who = f"as customer {customer_id}" if customer_id else "as a guest"
    return render_template(_PAGE, title=_TITLE, config=config,
                           note=f"Thank-you page preview for order {order_id} of {shop}, {who}.")


@bp.get("/thank-you/bundle.js")
def thank_you_bundle() -> Any:
    """The built bundle itself, never cached (a rebuild shows at the next reload)."""
    bundle = _bundle_path()
    if not bundle.is_file():
        return error("not_built", "the thank-you extension is not built", 404)
    return Response(bundle.read_bytes(), mimetype="text/javascript",
                    headers={"Cache-Control": "no-store"})


@bp.get("/session-token")
def session_token() -> Any:
    """A fresh extension session token minted by the emulator (what sessionToken.get gives);
    `?kind=pos`: a POS staff user's token (what session.getSessionToken gives at POS)."""
    devstore, shop = _devstore_shop()
    if devstore is None or shop is None:
        return error("devstore_not_running", "no Shopify emulator is running", 404)
    if request.args.get("kind") == "pos":
        return jsonify({"token": devstore.mint_pos_session_token(shop)})
    raw_customer = request.args.get("customer_id") or None
    if raw_customer is not None and not _NUMBER.fullmatch(raw_customer):
        return error("invalid_customer_id", "customer_id is a numeric Shopify id", 400)
    token = devstore.mint_extension_session_token(
        shop, customer_id=int(raw_customer) if raw_customer else None)
    return jsonify({"token": token})
