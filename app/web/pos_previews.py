"""Development-only previews of the BUILT POS extension (extensions/pos-loyalty).

`/dev/pos` is the loyalty modal (`pos.home.modal.render`) for a POS cart whose customer is a
member of the emulator's shop (`?customer_id=<id>`, else the shop's oldest member) and whose
subtotal is `?subtotal=` (24.50 unless told), of which `?gift_card=` is a gift card (none
unless told); `/dev/pos/tile` the home-screen tile (a tap opens
the modal) and `/dev/pos/customer` the customer details block. Staff session tokens come from
the emulator (`/dev/session-token?kind=pos`), translations from the extension's locale files
(`?locale=fr`). Registered only where the other previews are.

The bundle inlines SHOPIFY_APP_URL at build time: `SHOPIFY_APP_URL=http://127.0.0.1:8000 npm
run build` first (the page says so when it does not match).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, render_template, request

from app.config import Settings
from app.loyalty.pos import cart_amounts, parse_cart_amount
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


def line_item(uuid: str, title: str, price: str, *, gift_card: bool = False,
              quantity: int = 1) -> dict[str, Any]:
    """A POS cart line as the Cart API gives it (LineItem: `price` a number, the unit price)
    https://shopify.dev/docs/api/pos-ui-extensions/2026-07/target-apis/contextual-apis/cart-api
    """
    return {"uuid": uuid, "title": title, "price": float(price), "quantity": quantity,
            "discounts": [], "taxable": not gift_card, "taxLines": [], "properties": {},
            "isGiftCard": gift_card}


def cart_lines(subtotal: str, gift_card: str | None = None) -> list[dict[str, Any]]:
    """Tea for the subtotal, less a gift card of `gift_card` when there is one (both amounts
    already checked)."""
    tea = Decimal(subtotal) - (Decimal(gift_card) if gift_card else 0)
    lines = [line_item("tea", "Tea", str(tea))] if tea else []
    if gift_card:
        lines.append(line_item("gift-card", "Gift card", gift_card, gift_card=True))
    return lines


def host_config(view: str, language: str, bundle_url: str, *, customer_id: int,
                subtotal: str, line_items: list[dict[str, Any]] | None = None,
                **extra: Any) -> dict[str, Any]:
    """What the POS host page needs to run one target for a cart of this customer (its
    lines: Tea for the subtotal unless told)."""
    lines = cart_lines(subtotal) if line_items is None else line_items
    return {"target": TARGETS[view], "bundleUrl": bundle_url,
            "translations": translations(language), "locale": LOCALES[language][1],
            "cart": {"subtotal": subtotal, "lineItems": lines, "customer": {"id": customer_id}},
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
    gift_card = request.args.get("gift_card")
    if raw_customer and not _NUMBER.fullmatch(raw_customer):
        return _problem("customer_id is a numeric Shopify id.", 400)
    if language not in LOCALES:
        return _problem(f"locale is one of {', '.join(LOCALES)}.", 400)
    amount = parse_cart_amount(subtotal)
    if amount is None:
        return _problem("subtotal is an amount like 24.50.", 400)
    gift_amount = parse_cart_amount(gift_card) if gift_card is not None else Decimal(0)
    if gift_amount is None or cart_amounts(amount, gift_amount) is None:
        return _problem("gift_card is an amount like 50.00, at most the subtotal.", 400)
    customer_id = int(raw_customer) if raw_customer else _member_customer(shop)
    if customer_id is None:
        return _problem(f"{shop} has no members yet.", 404)
    app_url = current_app.extensions["runtime"].settings.shopify_app_url.rstrip("/")
    bundle = bundle_path()
    if not bundle.is_file() or f'"{app_url}"' not in bundle.read_text():
        return _problem(f"Build the extensions for this app first: "
                        f"`SHOPIFY_APP_URL={app_url} npm run build`.", 409)
    query = urlencode({"customer_id": customer_id, "locale": language, "subtotal": subtotal,
                       **({"gift_card": gift_card} if gift_card else {})})
    config = host_config(
        view, language, f"/dev/pos/bundle/{HANDLE}.js", customer_id=customer_id,
        subtotal=subtotal, line_items=cart_lines(subtotal, gift_card),
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
