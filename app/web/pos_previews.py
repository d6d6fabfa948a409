"""Development-only previews of the BUILT POS extension (extensions/pos-loyalty).

`/dev/pos` is the loyalty modal (`pos.home.modal.render`) for a POS cart whose customer is a
member of the emulator's shop (`?customer_id=<id>`, else the shop's oldest member) and whose
subtotal is `?subtotal=` (24.50 unless told); `/dev/pos/tile` the home-screen tile (a tap opens
the modal) and `/dev/pos/customer` the customer details block. Staff session tokens come from
the emulator (`/dev/session-token?kind=pos`), translations from the extension's locale files
(`?locale=fr`). Registered only where the other previews are.

The bundle inlines SHOPIFY_APP_URL at build time: `SHOPIFY_APP_URL=http://127.0.0.1:8000 npm
run build` first (the page says so when it does not match).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, render_template, request

from app.config import Settings
from app.loyalty.pos import parse_subtotal
from app.web.account_previews import _member_customer
from app.web.previews import REPO_ROOT, _devstore_shop, register_in_development
from app.web.responses import error

bp = Blueprint("pos_previews", __name__, url_prefix="/dev/pos")

HANDLE = "loyalty-pos"
EXTENSION_DIR = REPO_ROOT / "extensions" / "pos-loyalty"
TARGETS = {"modal": "pos.home.modal.render", "tile": "pos.home.tile.render",
           "customer": "pos.customer-details.block.render"}
LOCALES = {"en": ("en.default.json", "en-US"), "fr": ("fr.json", "fr-FR")}
DEFAULT_SUBTOTAL = "24.50"
_PAGE = "previews/pos_host.html"
_TITLE = "POS preview · Loyalty Loop"
_NUMBER = re.compile(r"[0-9]{1,20}")


def register_pos_previews(app: Flask, settings: Settings) -> None:
    """Attach the POS previews in development only."""
    register_in_development(app, settings, bp, [
        ("/dev/pos", "POS loyalty modal: balance, cart points, redeem (built bundle)"),
        ("/dev/pos/tile", "POS home-screen tile (built bundle)"),
        ("/dev/pos/customer", "POS customer details block (built bundle)"),
    ])


def bundle_path() -> Path:
    """Where the built POS bundle is."""
    return EXTENSION_DIR / "dist" / f"{HANDLE}.js"


def translations(language: str) -> dict[str, Any]:
    """The extension's own locale file, as Shopify serves it to `i18n.translate`."""
    return json.loads((EXTENSION_DIR / "locales" / LOCALES[language][0]).read_text(
        encoding="utf-8"))


def host_config(view: str, language: str, bundle_url: str, *, customer_id: int,
                subtotal: str, **extra: Any) -> dict[str, Any]:
    """What the POS host page needs to run one target for a cart of this customer."""
    return {"target": TARGETS[view], "bundleUrl": bundle_url,
            "translations": translations(language), "locale": LOCALES[language][1],
            "cart": {"subtotal": subtotal, "customer": {"id": customer_id}},
            "customerId": customer_id, **extra}


def _problem(message: str, status: int) -> tuple[str, int]:
    return render_template(_PAGE, title=_TITLE, problem=message, config=None), status


def _preview(view: str) -> Any:
    """The host page around the built bundle, for a member of the emulator's shop."""
    devstore, shop = _devstore_shop()
    if devstore is None or shop is None:
        return _problem("No Shopify emulator is running with this app; start it with "
                        "`make demo`.", 404)
    raw_customer, language = request.args.get("customer_id"), request.args.get("locale", "en")
    subtotal = request.args.get("subtotal", DEFAULT_SUBTOTAL)
    if raw_customer and not _NUMBER.fullmatch(raw_customer):
        return _problem("customer_id is a numeric Shopify id.", 400)
    if language not in LOCALES:
        return _problem(f"locale is one of {', '.join(LOCALES)}.", 400)
    if parse_subtotal(subtotal) is None:
        return _problem("subtotal is an amount like 24.50.", 400)
    customer_id = int(raw_customer) if raw_customer else _member_customer(shop)
    if customer_id is None:
        return _problem(f"{shop} has no members yet.", 404)
    app_url = current_app.extensions["runtime"].settings.shopify_app_url.rstrip("/")
    bundle = bundle_path()
    if not bundle.is_file() or f'"{app_url}"' not in bundle.read_text():
        return _problem(f"Build the extensions for this app first: "
                        f"`SHOPIFY_APP_URL={app_url} npm run build`.", 409)
    query = urlencode({"customer_id": customer_id, "locale": language, "subtotal": subtotal})
    config = host_config(
        view, language, f"/dev/pos/bundle/{HANDLE}.js", customer_id=customer_id,
        subtotal=subtotal,
        sessionTokenUrl="/dev/session-token?" + urlencode({"shop": shop, "kind": "pos"}),
        modalUrl=f"/dev/pos?{query}")
    return render_template(_PAGE, title=_TITLE, config=config)


@bp.get("/", strict_slashes=False)
def modal() -> Any:
    """The loyalty modal."""
    return _preview("modal")


@bp.get("/tile")
def tile() -> Any:
    """The home-screen tile."""
    return _preview("tile")


@bp.get("/customer")
def customer() -> Any:
    """The customer details block."""
    return _preview("customer")


@bp.get("/bundle/<handle>.js")
def bundle(handle: str) -> Any:
    """The built bundle, never cached (a rebuild shows at the next reload)."""
    if handle != HANDLE or not bundle_path().is_file():
        return error("not_built", "that extension is not built", 404)
    return Response(bundle_path().read_bytes(), mimetype="text/javascript",
                    headers={"Cache-Control": "no-store"})
