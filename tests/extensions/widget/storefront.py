"""Render the theme app extension the way a Shopify storefront does, with python-liquid.

python-liquid implements standard Liquid; Shopify adds tags, filters and objects on top. This
module registers the ones our blocks use, with Shopify's behaviour:

- `{% schema %}` renders nothing (Shopify reads it, the page never sees it);
- `t` looks a key up in `locales/<locale>.json`, falling back to `en.default.json`, and replaces
  `{{ name }}` with the filter's keyword arguments; a missing key fails the render instead of
  printing "translation missing", so a test catches it;
- `asset_url` points at the extension's `assets/` (Shopify's CDN in production);
- `json` escapes `<`, `>` and `&` like Shopify's (Rails) encoder, so JSON is safe in <script>.

Snippets are found in `snippets/` by `{% render %}`. Objects (`customer`, `shop`, `routes`,
`request`, `block`) are plain dicts built by `storefront_objects`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from liquid import Environment, FileSystemLoader, Node, Tag
from liquid.exceptions import LiquidSyntaxError
from liquid.stream import TokenStream
from liquid.token import TOKEN_EOF, TOKEN_TAG

EXTENSION_DIR = Path(__file__).resolve().parents[3] / "extensions" / "loyalty-widget"
DEFAULT_LOCALE = "en"
SCHEMA_PATTERN = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.S)
INTERPOLATION = re.compile(r"{{\s*(\w+)\s*}}")


class SchemaNode(Node):
    """The parsed `{% schema %}` block: theme settings for the editor, no output."""

    __slots__ = ()

    def render_to_output(self, context: Any, buffer: Any) -> int:  # noqa: ARG002
        """Write nothing: Shopify strips the schema from the rendered page."""
        return 0


class SchemaTag(Tag):
    """Shopify's `{% schema %}…{% endschema %}` block tag."""

    name = "schema"
    end = "endschema"

    def parse(self, stream: TokenStream) -> SchemaNode:
        """Skip every token up to `{% endschema %}`."""
        token = stream.eat(TOKEN_TAG)
        while not (stream.current.kind == TOKEN_TAG and stream.current.value == self.end):
            if stream.current.kind == TOKEN_EOF:
                raise LiquidSyntaxError("schema tag was never closed", token=token)
            next(stream)
        return SchemaNode(token)


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


def make_translate(locale: str) -> Any:
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
    env = Environment(loader=FileSystemLoader(EXTENSION_DIR / "snippets", ext=".liquid"))
    env.add_tag(SchemaTag)
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


def storefront_objects(*, customer: Mapping[str, Any] | None, locale: str = DEFAULT_LOCALE,
                       currency: str = "USD") -> dict[str, Any]:
    """The global objects Shopify gives every block: customer (nil for guests), shop, routes."""
    return {
        "customer": customer,
        "shop": {"currency": currency, "name": "Loyalty Loop demo"},
        "routes": {"account_login_url": "/account/login",
                   "account_register_url": "/account/register", "root_url": "/"},
        "request": {"locale": {"iso_code": locale}, "design_mode": False},
    }


def render_block(name: str, *, customer: Mapping[str, Any] | None = None,
                 settings: Mapping[str, Any] | None = None, locale: str = DEFAULT_LOCALE,
                 block_id: str = "test", asset_base: str = "/assets/") -> str:
    """Render blocks/<name>.liquid for one visitor, with default settings plus overrides."""
    source = block_source(name)
    block_settings = {**default_settings(block_schema(source)), **(settings or {})}
    block = {"id": block_id, "settings": block_settings,
             "shopify_attributes": f'data-shopify-editor-block="{block_id}"'}
    env = storefront_environment(locale, asset_base)
    template = env.from_string(source, name=f"blocks/{name}.liquid")
    return template.render(block=block, **storefront_objects(customer=customer, locale=locale))
