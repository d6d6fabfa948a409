"""A Shopify storefront for the theme app extension, next to the local Shopify emulator.

Rendering: python-liquid with the Shopify tags and filters our blocks use, and a page that
places the blocks the way a theme does. Shopify's behaviour, as far as the blocks can tell:

- `{% schema %}` renders nothing (Shopify reads it, the page never sees it);
- `t` looks a key up in `locales/<locale>.json`, falling back to `en.default.json`, and replaces
  `{{ name }}` with the filter's keyword arguments; a missing key fails the render instead of
  printing "translation missing", so a test catches it;
- `asset_url` points at the extension's `assets/` (Shopify's CDN in production);
- `json` escapes `<`, `>` and `&` like Shopify's (Rails) encoder, so JSON is safe in <script>;
- snippets are found in `snippets/` by `{% render %}`; `customer` is nil for a guest.

Serving: `create_storefront_app(emulator, shop)` plays the shop's online store.
`/dev/storefront?customer_id=9001` is the home page with the app embed (the launcher) rendered
for that customer, `/dev/storefront` the same for a logged-out visitor, and
`/dev/storefront/loyalty` a page with the loyalty block, `/dev/storefront/cart` the cart page with
the cart block. The cart page's session has a cart (devstore/cart.py) that the block reads and
changes through the Cart AJAX API at `/dev/storefront/cart.js` and
`/dev/storefront/cart/update.js` (`routes.cart_url` is `/dev/storefront/cart` here, `/cart` on a
store). The customer's `$app` metafields are read from the emulator, i.e. whatever the app last
wrote with metafieldsSet, exactly as Shopify renders them. The shop's app proxy path
(`/apps/loyalty/*` unless the merchant customised it, `ShopifyEmulator.customize_app_proxy`)
goes to the emulator's signing app proxy with the visitor's storefront session (the
`emu_customer_id` cookie each page sets or clears), so the widget talks to the running app as it
would on a store. `with_storefront(app, emulator, shop)` serves these
paths on the app's own address (how `make demo` shows them).

python-liquid is a development requirement: it is imported only when something renders.
"""

from __future__ import annotations

import html
import json
import mimetypes
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from flask import Flask, Response, abort, redirect, request

from devstore.admin_api import ApiContext
from devstore.cart import Cart, cart_json, parse_discount
from devstore.emulator import PROXY_PREFIXES
from devstore.state import ShopState, gid
from devstore.web import CUSTOMER_COOKIE

if TYPE_CHECKING:
    from liquid import Environment

    from devstore.emulator import ShopifyEmulator

EXTENSION_DIR = Path(__file__).resolve().parents[1] / "extensions" / "loyalty-widget"
ASSETS_DIR = EXTENSION_DIR / "assets"
DEFAULT_LOCALE = "en"
SCHEMA_PATTERN = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.S)
INTERPOLATION = re.compile(r"{{\s*(\w+)\s*}}")
# App embeds close the <body>; every other block sits in a section.
EMBED_BLOCKS = ("launcher",)
ALL_BLOCKS = ("launcher", "loyalty-page")

PAGE_PATH = "/dev/storefront"
# Shopify's cart cookie: the cart token of the visitor's session.
CART_COOKIE = "cart"
ASSET_BASE = f"{PAGE_PATH}/assets/"
# What Shopify's storefront passes to the app proxy: the emulator adds the signed parameters.
_FORWARDED_HEADERS = ("Content-Type", "Accept", "Accept-Language", "User-Agent")
_RETURNED_HEADERS = ("Content-Type", "Cache-Control")

THEME_CSS = """
body{margin:0;font:16px/1.6 Georgia,serif;color:#222;background:#faf8f5}
header,footer{padding:18px 32px;background:#222;color:#fff}
header a{color:#f3e6c8}
.preview{padding:8px 32px;background:#efe7dc;font:14px/1.5 system-ui,sans-serif}
.preview a{margin-right:12px;color:#1f6f50}
main{max-width:960px;margin:0 auto;padding:24px 32px}
.hero{height:220px;margin:24px 0;background:linear-gradient(120deg,#d9cbb8,#efe7dc)}
.cart-line{display:flex;justify-content:space-between;padding:12px 0;
border-bottom:1px solid #d9cbb8}
"""
HOME_LEAD = """<div class="hero"></div>
<p>Linen shirts, wool socks and everything in between. Members earn points on every order.</p>"""


# --- Liquid -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _schema_tag() -> type:
    """Shopify's `{% schema %}…{% endschema %}` block tag for python-liquid."""
    from liquid import Node, Tag
    from liquid.exceptions import LiquidSyntaxError
    from liquid.token import TOKEN_EOF, TOKEN_TAG

    class SchemaNode(Node):
        """The parsed schema: theme settings for the editor, no output."""

        __slots__ = ()

        def render_to_output(self, context: Any, buffer: Any) -> int:  # noqa: ARG002
            """Write nothing: Shopify strips the schema from the rendered page."""
            return 0

    class SchemaTag(Tag):
        """`{% schema %}`: every token up to `{% endschema %}` is skipped."""

        name = "schema"
        end = "endschema"

        def parse(self, stream: Any) -> SchemaNode:
            """Skip every token up to `{% endschema %}`."""
            token = stream.eat(TOKEN_TAG)
            while not (stream.current.kind == TOKEN_TAG and stream.current.value == self.end):
                if stream.current.kind == TOKEN_EOF:
                    raise LiquidSyntaxError("schema tag was never closed", token=token)
                next(stream)
            return SchemaNode(token)

    return SchemaTag


def locale_files() -> dict[str, Path]:
    """Storefront locale files by locale code (`en` for `en.default.json`)."""
    files = {}
    for path in sorted((EXTENSION_DIR / "locales").glob("*.json")):
        if path.name.endswith(".schema.json"):
            continue
        files[path.name.split(".")[0]] = path
    return files


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys to leaf values, the form `t` looks keys up in."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and not {"one", "other"} >= set(value):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def translations(locale: str) -> dict[str, Any]:
    """The locale's strings over the default locale's, as Shopify falls back."""
    files = locale_files()
    strings = flatten(json.loads(files[DEFAULT_LOCALE].read_text(encoding="utf-8")))
    if locale != DEFAULT_LOCALE:
        strings.update(flatten(json.loads(files[locale].read_text(encoding="utf-8"))))
    return strings


def make_translate(locale: str) -> Callable[..., str]:
    """Shopify's `t` filter for one locale."""
    strings = translations(locale)

    def translate(key: str, **values: Any) -> str:
        """Look the key up and interpolate `{{ name }}` placeholders."""
        if key not in strings:
            raise KeyError(f"translation missing: {locale}.{key}")
        text = strings[key]
        if isinstance(text, Mapping):
            text = text["one" if values.get("count") == 1 else "other"]
        return INTERPOLATION.sub(lambda m: str(values.get(m.group(1), "")), text)

    return translate


def shopify_json(value: Any) -> str:
    """Shopify's `json` filter: JSON with HTML-significant characters escaped."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def storefront_environment(locale: str = DEFAULT_LOCALE, asset_base: str = "/assets/"
                           ) -> Environment:
    """A Liquid environment with the Shopify tags and filters the extension uses."""
    from liquid import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(EXTENSION_DIR / "snippets", ext=".liquid"))
    env.add_tag(_schema_tag())
    env.add_filter("t", make_translate(locale))
    env.add_filter("asset_url", lambda name: f"{asset_base}{name}")
    env.add_filter("json", shopify_json)
    return env


def block_source(name: str) -> str:
    """The Liquid source of blocks/<name>.liquid."""
    return (EXTENSION_DIR / "blocks" / f"{name}.liquid").read_text(encoding="utf-8")


def block_schema(source: str) -> dict[str, Any]:
    """The JSON inside a block's `{% schema %}` tag."""
    match = SCHEMA_PATTERN.search(source)
    if match is None:
        raise ValueError("no {% schema %} tag")
    return json.loads(match.group(1))


def default_settings(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as a merchant who changed nothing has them (text settings blank)."""
    settings: dict[str, Any] = {}
    for setting in schema.get("settings", []):
        if "id" in setting:
            settings[setting["id"]] = setting.get("default", "")
    return settings


DEFAULT_SHOP = {"currency": "USD", "name": "Loyalty Loop demo"}
DEFAULT_ROUTES = {"account_login_url": "/account/login",
                  "account_register_url": "/account/register", "root_url": "/",
                  "cart_url": "/cart", "cart_update_url": "/cart/update"}


def storefront_objects(*, customer: Mapping[str, Any] | None, locale: str = DEFAULT_LOCALE,
                       shop: Mapping[str, Any] | None = None,
                       routes: Mapping[str, str] | None = None,
                       app: Mapping[str, Any] | None = None,
                       design_mode: bool = False) -> dict[str, Any]:
    """The global objects Shopify gives every block: customer (nil for guests), shop, routes,
    and `app` with the app's own app-data metafields (`app.metafields['$app']`);
    `request.design_mode` is true inside the theme editor."""
    return {
        "app": dict(app or {"metafields": {}}),
        "customer": customer,
        "shop": dict(shop or DEFAULT_SHOP),
        "routes": dict(routes or DEFAULT_ROUTES),
        "request": {"locale": {"iso_code": locale}, "design_mode": design_mode},
    }


def render_block(name: str, *, customer: Mapping[str, Any] | None = None,
                 settings: Mapping[str, Any] | None = None, locale: str = DEFAULT_LOCALE,
                 block_id: str = "test", asset_base: str = "/assets/",
                 shop: Mapping[str, Any] | None = None,
                 routes: Mapping[str, str] | None = None,
                 app: Mapping[str, Any] | None = None, design_mode: bool = False) -> str:
    """Render blocks/<name>.liquid for one visitor, with default settings plus overrides."""
    source = block_source(name)
    block_settings = {**default_settings(block_schema(source)), **(settings or {})}
    block = {"id": block_id, "settings": block_settings,
             "shopify_attributes": f'data-shopify-editor-block="{block_id}"'}
    template = storefront_environment(locale, asset_base).from_string(
        source, name=f"blocks/{name}.liquid")
    return template.render(block=block, **storefront_objects(
        customer=customer, locale=locale, shop=shop, routes=routes, app=app,
        design_mode=design_mode))


def stylesheets(blocks: Iterable[str]) -> list[str]:
    """Each distinct `stylesheet` the blocks' schemas name, in order."""
    names: list[str] = []
    for name in blocks:
        sheet = block_schema(block_source(name)).get("stylesheet")
        if sheet and sheet not in names:
            names.append(sheet)
    return names


def storefront_page(*, customer: Mapping[str, Any] | None = None,
                    blocks: Iterable[str] = ALL_BLOCKS, locale: str = DEFAULT_LOCALE,
                    settings: Mapping[str, Mapping[str, Any]] | None = None,
                    asset_base: str = "/assets/", shop: Mapping[str, Any] | None = None,
                    routes: Mapping[str, str] | None = None, toolbar: str = "",
                    app: Mapping[str, Any] | None = None, heading: str = "Spring collection",
                    lead: str = "") -> str:
    """A whole page with the chosen blocks rendered for this visitor.

    As Shopify assembles them: block stylesheets in <head> once, app blocks inside a section in
    <main>, app embeds (`"target": "body"`) closing the <body>. `toolbar` and `lead` are trusted
    markup: under the header, and the theme's own content before the app blocks.
    """
    blocks = tuple(blocks)
    settings = settings or {}
    shop = shop or DEFAULT_SHOP

    def rendered(name: str) -> str:
        """One block, with ids unique on the page."""
        return render_block(name, customer=customer, locale=locale, block_id=f"{name}-1",
                            settings=settings.get(name), asset_base=asset_base, shop=shop,
                            routes=routes, app=app)

    head_links = "\n".join(
        f'<link rel="stylesheet" href="{html.escape(asset_base + sheet)}">'
        for sheet in stylesheets(blocks))
    app_blocks = "\n".join(
        f'<div class="shopify-section"><div class="shopify-app-block">{rendered(name)}</div></div>'
        for name in blocks if name not in EMBED_BLOCKS)
    embeds = "\n".join(rendered(name) for name in blocks if name in EMBED_BLOCKS)
    greeting = (f"Hello, {html.escape(customer.get('first_name') or 'customer')}" if customer
                else "Guest")
    store = html.escape(str(shop.get("name", "")))
    return f"""<!doctype html>
<html lang="{html.escape(locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{store} · storefront preview</title>
<style>{THEME_CSS}</style>
{head_links}
</head>
<body>
<header>{store} · {greeting}</header>
{toolbar}
<main>
<h1>{html.escape(heading)}</h1>
{lead or HOME_LEAD}
{app_blocks}
<p>Free returns within 30 days.</p>
</main>
<footer>© {store}</footer>
{embeds}
</body>
</html>
"""


# --- the shop's data, as Liquid sees it ---------------------------------------------------------


def metafield_value(type_: str, value: str) -> Any:
    """A metafield's `value` in Liquid: numbers, booleans and JSON typed, the rest as text."""
    if type_ == "number_integer":
        return int(value)
    if type_ == "number_decimal":
        return float(value)
    if type_ == "boolean":
        return value == "true"
    if type_ == "json" or type_.startswith("list."):
        return json.loads(value)
    return value


def _own_metafields(emulator: ShopifyEmulator, state: ShopState,
                    owner: str) -> dict[str, dict[str, Any]]:
    """An owner's metafields in the app's reserved namespace, by key, as Liquid sees them
    (the emulator resolves `$app` as the Admin API does)."""
    namespace = ApiContext(shop=state, scopes=frozenset(), app_id=emulator.app_id,
                           client_id=emulator.client_id, now=0).namespace("$app")
    return {mf.key: {"value": metafield_value(mf.type, mf.value), "type": mf.type}
            for (owner_id, ns, _), mf in state.metafields.items()
            if owner_id == owner and ns == namespace}


def liquid_app(emulator: ShopifyEmulator, shop: str) -> dict[str, Any]:
    """The `app` object: the app-data metafields the app set on its installation
    (`metafieldsSet` with `ownerId = currentAppInstallation.id`)."""
    with emulator.lock:
        state = emulator.shop(shop)
        return {"metafields": {"$app": _own_metafields(emulator, state,
                                                       state.installation_gid)}}


def liquid_customer(emulator: ShopifyEmulator, shop: str,
                    customer_id: int) -> dict[str, Any] | None:
    """The `customer` object for a logged-in customer, with the app's own metafields.

    `customer.metafields['$app']` holds what the app set with metafieldsSet in the app's
    reserved namespace (the emulator resolves `$app` as the Admin API does).
    """
    with emulator.lock:
        state = emulator.shop(shop)
        customer = state.customers.get(customer_id)
        if customer is None:
            return None
        own = _own_metafields(emulator, state, gid("Customer", customer_id))
        return {"id": customer.id, "first_name": customer.first_name or "",
                "last_name": customer.last_name or "", "email": customer.email or "",
                "metafields": {"$app": own}}


# --- serving ----------------------------------------------------------------------------------


def _customer_id_arg() -> int | None:
    """The page's `customer_id` (None for a logged-out visitor); 400 when it is no id."""
    raw = request.args.get("customer_id", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 20:
        abort(Response("customer_id is a numeric Shopify customer id", 400,
                       content_type="text/plain; charset=utf-8"))
    return int(raw)


def _locale_arg() -> str:
    """The storefront locale asked for with `locale=`, if the extension translates it."""
    locale = request.args.get("locale", DEFAULT_LOCALE)
    return locale if locale in locale_files() else DEFAULT_LOCALE


def _toolbar(emulator: ShopifyEmulator, shop: str, path: str, locale: str,
             customer_id: int | None) -> str:
    """Links to this page as each customer of the shop or logged out, and to the other pages."""
    with emulator.lock:
        customers = sorted(emulator.shop(shop).customers.values(), key=lambda c: c.id)

    def link(label: str, target: str, visitor: int | None) -> str:
        """A link to a page for one visitor, in the current locale."""
        query: dict[str, Any] = {"customer_id": visitor} if visitor is not None else {}
        if locale != DEFAULT_LOCALE:
            query["locale"] = locale
        href = target + (f"?{urlencode(query)}" if query else "")
        return f'<a href="{html.escape(href)}">{html.escape(label)}</a>'

    people = [link(c.first_name or f"customer {c.id}", path, c.id) for c in customers]
    pages = [link("home page", PAGE_PATH, customer_id),
             link("loyalty page", f"{PAGE_PATH}/loyalty", customer_id),
             link("cart", f"{PAGE_PATH}/cart", customer_id)]
    return ('<nav class="preview">Storefront preview. View as: '
            + " ".join([*people, link("logged out", path, None)])
            + " · Pages: " + " ".join(pages) + "</nav>")


def create_storefront_app(emulator: ShopifyEmulator, shop: str) -> Flask:
    """The shop's online store: pages with the extension's blocks, its assets, the app proxy."""
    app = Flask("devstore.storefront")
    account = f"{PAGE_PATH}/account"
    routes = {"account_login_url": f"{account}/login",
              "account_register_url": f"{account}/register", "root_url": PAGE_PATH,
              "cart_url": f"{PAGE_PATH}/cart", "cart_update_url": f"{PAGE_PATH}/cart/update"}
    # Each storefront session's cart, by the token in its `cart` cookie.
    carts: dict[str, Cart] = {}

    def session_cart() -> Cart:
        """The visitor's cart: the one their cookie names, or a new one."""
        with emulator.lock:
            token = request.cookies.get(CART_COOKIE, "")
            if token not in carts:
                cart = Cart()
                carts[cart.token] = cart
                token = cart.token
            return carts[token]

    def with_cart_cookie(response: Response, cart: Cart) -> Response:
        """The cart stays with the visitor's session, as Shopify's `cart` cookie keeps it."""
        response.set_cookie(CART_COOKIE, cart.token, path="/", httponly=True, samesite="Lax")
        return response

    def shopper() -> int | None:
        """The logged-in customer of this storefront session."""
        raw = request.cookies.get(CUSTOMER_COOKIE, "")
        return int(raw) if raw.isdigit() and len(raw) <= 20 else None

    def shop_state() -> ShopState:
        """The shop's state in the emulator, or a 404 page saying it is not there."""
        state = emulator.shops.get(shop)
        if state is None:
            abort(Response(f"{shop} is not a shop of this Shopify emulator", 404,
                           content_type="text/plain; charset=utf-8"))
        return state

    def page(path: str, blocks: tuple[str, ...], **content: str) -> Response:
        """The page for the visitor in the query; the session cookie follows that visitor.
        `content` is the theme's heading and lead for storefront_page."""
        customer_id, locale = _customer_id_arg(), _locale_arg()
        with emulator.lock:
            state = shop_state()
            if customer_id is not None and customer_id not in state.customers:
                # Logging in as someone new makes them a customer, as the emulator's login does.
                state.add_customer(customer_id)
            shop_object = {"name": state.name, "currency": state.currency}
        customer = (liquid_customer(emulator, shop, customer_id)
                    if customer_id is not None else None)
        markup = storefront_page(customer=customer, blocks=blocks, locale=locale,
                                 asset_base=ASSET_BASE, shop=shop_object, routes=routes,
                                 toolbar=_toolbar(emulator, shop, path, locale, customer_id),
                                 app=liquid_app(emulator, shop), **content)
        response = Response(markup, content_type="text/html; charset=utf-8")
        # The storefront session: Shopify signs this customer into every app-proxy request.
        if customer_id is None:
            response.delete_cookie(CUSTOMER_COOKIE, path="/")
        else:
            response.set_cookie(CUSTOMER_COOKIE, str(customer_id), path="/", httponly=True,
                                samesite="Lax")
        return response

    @app.get(PAGE_PATH)
    def home() -> Response:
        """The home page with the app embed (the floating launcher)."""
        return page(PAGE_PATH, EMBED_BLOCKS)

    @app.get(f"{PAGE_PATH}/loyalty")
    def loyalty_page() -> Response:
        """A loyalty page: the app block in a section, and the app embed."""
        return page(f"{PAGE_PATH}/loyalty", ("loyalty-page", *EMBED_BLOCKS))

    @app.get(f"{PAGE_PATH}/cart")
    def cart_page() -> Response:
        """The cart page: the theme's lines, the cart block in a section, and the app embed."""
        cart = session_cart()
        with emulator.lock:
            currency = shop_state().currency
        lines = "".join(
            f'<p class="cart-line"><span>{html.escape(line["title"])} × {line["quantity"]}'
            f'</span><span>{line["price"] * line["quantity"] / 100:.2f} {currency}</span></p>'
            for line in cart.lines)
        return with_cart_cookie(page(f"{PAGE_PATH}/cart", ("cart", *EMBED_BLOCKS),
                                     heading="Your cart", lead=lines), cart)

    @app.get(f"{PAGE_PATH}/cart.js")
    def cart_js() -> Response:
        """GET /cart.js: the session's cart as JSON."""
        cart = session_cart()
        with emulator.lock:
            body = cart_json(cart, shop_state(), shopper())
        return with_cart_cookie(Response(json.dumps(body), content_type="application/json"),
                                cart)

    @app.post(f"{PAGE_PATH}/cart/update.js")
    def cart_update_js() -> Response:
        """POST /cart/update.js: `discount` replaces the cart's codes; the cart as JSON.
        Line changes (`updates`) are not emulated."""
        cart = session_cart()
        data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        if not isinstance(data, dict):
            return _cart_error("the body is a JSON object or a form")
        if "discount" in data:
            codes = parse_discount(data["discount"])
            if codes is None:
                return _cart_error("discount is one string of comma-separated codes")
            cart.codes = codes
        with emulator.lock:
            body = cart_json(cart, shop_state(), shopper())
        return with_cart_cookie(Response(json.dumps(body), content_type="application/json"),
                                cart)

    @app.get(f"{account}/login")
    @app.get(f"{account}/register")
    def account_page() -> Response:
        """Where Sign in and Join lead: be one of the shop's customers, or a new one."""
        with emulator.lock:
            name = shop_state().name
        markup = (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
                  f"<title>Account</title><style>{THEME_CSS}</style></head><body>"
                  f"<header>{html.escape(name)} · Account</header>"
                  f"{_toolbar(emulator, shop, PAGE_PATH, DEFAULT_LOCALE, None)}<main>"
                  f'<form method="post" action="{account}/register"><h1>Create an account</h1>'
                  f'<label>First name <input name="first_name" required maxlength="60"></label> '
                  f"<button>Create account</button></form></main></body></html>")
        return Response(markup, content_type="text/html; charset=utf-8")

    @app.post(f"{account}/register")
    def register() -> Response:
        """A new customer, announced to the app by customers/create as Shopify does; signed in."""
        first_name = request.form.get("first_name", "").strip()[:60] or "Shopper"
        with emulator.lock:
            customer = shop_state().add_customer(first_name=first_name)
        email = f"customer{customer.id}@example.com"
        emulator.send_webhook(shop, "customers/create", emulator.sample_payload(
            "customers/create", customer_id=customer.id, email=email, first_name=first_name,
            last_name=""))
        return redirect(f"{PAGE_PATH}?{urlencode({'customer_id': customer.id})}", code=303)

    @app.get(f"{PAGE_PATH}/assets/<name>")
    def asset(name: str) -> Response:
        """A file of the extension's assets/ (Shopify's CDN in production)."""
        path = ASSETS_DIR / name
        if path.parent != ASSETS_DIR or not path.is_file():
            abort(404)
        return Response(path.read_bytes(),
                        content_type=mimetypes.guess_type(path.name)[0] or "text/plain")

    proxy_route = f"/<any({', '.join(PROXY_PREFIXES)}):prefix>/<subpath>"

    @app.route(proxy_route, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route(f"{proxy_route}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def app_proxy(prefix: str, subpath: str, rest: str = "") -> Response:
        """Send <proxy path>/<rest> through the emulator's signing proxy, as this visitor.

        Whatever path the store's proxy has now (the merchant may have moved it); the emulator
        answers 404 for any other, as Shopify's storefront does.
        """
        proxy_prefix = f"/{prefix}/{subpath}"
        headers = {name: request.headers[name] for name in _FORWARDED_HEADERS
                   if name in request.headers}
        customer = request.cookies.get(CUSTOMER_COOKIE, "")
        if customer.isdigit():
            headers["Cookie"] = f"{CUSTOMER_COOKIE}={customer}"
        query = request.query_string.decode("latin-1")
        target = (f"{emulator.base_url}/{shop}{proxy_prefix}" + (f"/{rest}" if rest else "")
                  + (f"?{query}" if query else ""))
        try:
            # The emulator waits for the app; give it its own timeout and a little more.
            upstream = emulator.proxy_http.request(
                request.method, target, content=request.get_data(), headers=headers,
                timeout=emulator.request_timeout + 5)
        except httpx.HTTPError as exc:
            return Response(f"the Shopify emulator did not answer ({type(exc).__name__})",
                            status=502, content_type="text/plain; charset=utf-8")
        response = Response(upstream.content, status=upstream.status_code)
        for name in _RETURNED_HEADERS:
            if name in upstream.headers:
                response.headers[name] = upstream.headers[name]
        return response

    return app


def _cart_error(description: str) -> Response:
    """The Cart AJAX API's error answer: status, message and description."""
    return Response(json.dumps({"status": 400, "message": "Bad Request",
                                "description": description}),
                    status=400, content_type="application/json")


def storefront_paths(emulator: ShopifyEmulator, shop: str) -> tuple[str, ...]:
    """Path prefixes the storefront answers when it shares an address with the app: its pages
    and the shop's app proxy path as it is now."""
    return (PAGE_PATH, emulator.proxy_path_for(shop))


def with_storefront(app: Callable[..., Any], emulator: ShopifyEmulator,
                    shop: str) -> Callable[..., Any]:
    """A WSGI app serving the storefront's paths (see `storefront_paths`) and `app` for the rest.

    Only the demo's server is built this way, so the app itself never serves a storefront.
    """
    storefront = create_storefront_app(emulator, shop)

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Route by path."""
        path = environ.get("PATH_INFO", "")
        page, proxy = storefront_paths(emulator, shop)
        owned = any(path == prefix or path.startswith(prefix + "/") for prefix in (page, proxy))
        return (storefront if owned else app)(environ, start_response)

    return dispatch
