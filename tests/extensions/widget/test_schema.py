"""The theme app extension keeps Shopify's rules, checked without Shopify.

Rules: shopify.dev theme app extension configuration and Theme Check (`AppBlockValidTags`,
`AssetSizeAppBlock*`, `TranslationKeyExists`), summarised in shared/shopify-notes.md §5.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devstore.storefront import EXTENSION_DIR, block_schema, flatten

BLOCKS = sorted((EXTENSION_DIR / "blocks").glob("*.liquid"))
SNIPPETS = sorted((EXTENSION_DIR / "snippets").glob("*.liquid"))
LIQUID_FILES = BLOCKS + SNIPPETS
LOCALES = EXTENSION_DIR / "locales"
STOREFRONT_LOCALES = sorted(p for p in LOCALES.glob("*.json") if ".schema." not in p.name)
SCHEMA_LOCALES = sorted(LOCALES.glob("*.schema.json"))

# Input and sidebar setting types Shopify documents (Shopify/theme-liquid-docs,
# schemas/theme/setting.json, the `type` enum), less the theme-only style panels.
SETTING_TYPES = {
    "article", "blog", "checkbox", "collection", "collection_list", "color", "color_background",
    "color_scheme", "color_scheme_group", "font_picker", "header", "html", "image_picker",
    "inline_richtext", "link_list", "liquid", "metaobject", "metaobject_list", "number", "page",
    "paragraph", "product", "product_list", "radio", "range", "richtext", "select", "text",
    "text_alignment", "textarea", "url", "video", "video_url",
}
SIDEBAR_TYPES = {"header", "paragraph"}
TARGETS = {"section", "head", "body"}
ALLOWED_ASSET_SUFFIXES = {".js", ".css", ".json", ".svg", ".png", ".jpg", ".jpeg", ".gif",
                          ".webp", ".wasm"}
# Tags app blocks may not use (Theme Check AppBlockValidTags).
FORBIDDEN_TAGS = re.compile(
    r"(?:{%-?\s*|^\s*)(javascript|stylesheet|include|layout|section|sections)\b", re.M)
LIQUID_TAG = re.compile(r"{%-?\s*(?:liquid\b)?(.*?)-?%}", re.S)
TRANSLATION_KEY = re.compile(r"'([\w.]+)'\s*\|\s*t\b")
ASSET_REFERENCE = re.compile(r"'([\w.-]+)'\s*\|\s*asset_url")
SETTING_REFERENCE = re.compile(r"\b(?:block\.settings|\bs)\.(\w+)")


def read(path: Path) -> str:
    """A file's text."""
    return path.read_text(encoding="utf-8")


def schemas() -> list[tuple[str, dict[str, Any]]]:
    """(file name, schema) for every block."""
    return [(path.name, block_schema(read(path))) for path in BLOCKS]


def liquid_tags(source: str) -> list[str]:
    """The tag markup of every `{% … %}`, each line of a `{% liquid %}` block on its own."""
    tags = []
    for body in LIQUID_TAG.findall(source):
        tags.extend(line.strip() for line in body.splitlines() if line.strip())
    return tags


def test_the_extension_is_a_theme_extension_with_a_name():
    config = tomllib.loads(read(EXTENSION_DIR / "shopify.extension.toml"))

    assert config == {"name": "Loyalty widget", "type": "theme"}


def test_there_is_one_app_embed_for_the_body_and_app_blocks_for_sections():
    targets = {name: schema["target"] for name, schema in schemas()}

    assert targets == {"launcher.liquid": "body", "loyalty-page.liquid": "section",
                       "cart.liquid": "section"}


@pytest.mark.parametrize("path", BLOCKS, ids=lambda p: p.name)
def test_every_block_schema_is_valid_json_with_a_short_name_and_known_target(path):
    schema = block_schema(read(path))

    assert schema["target"] in TARGETS
    assert 0 < len(schema["name"]) <= 25
    assert set(schema) <= {"name", "target", "settings", "javascript", "stylesheet", "class",
                           "tag", "available_if", "enabled_on", "disabled_on", "default"}


@pytest.mark.parametrize("path", BLOCKS, ids=lambda p: p.name)
def test_every_setting_has_a_documented_type_a_unique_id_and_a_label(path):
    settings = block_schema(read(path))["settings"]
    ids = [s["id"] for s in settings if "id" in s]

    assert {s["type"] for s in settings} <= SETTING_TYPES
    assert len(ids) == len(set(ids))
    for setting in settings:
        if setting["type"] in SIDEBAR_TYPES:
            assert "content" in setting and "id" not in setting
        else:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", setting["id"])
            assert setting["label"]


@pytest.mark.parametrize("path", BLOCKS, ids=lambda p: p.name)
def test_range_and_select_defaults_are_allowed_values(path):
    for setting in block_schema(read(path))["settings"]:
        if setting["type"] == "range":
            low, high, step = setting["min"], setting["max"], setting["step"]
            assert low <= setting["default"] <= high
            assert (setting["default"] - low) % step == 0
            assert (high - low) / step <= 101
        if setting["type"] == "select":
            assert setting["default"] in [option["value"] for option in setting["options"]]


@pytest.mark.parametrize("path", BLOCKS, ids=lambda p: p.name)
def test_a_block_reads_only_settings_its_schema_declares(path):
    source = read(path)
    declared = {s["id"] for s in block_schema(source)["settings"] if "id" in s}

    assert set(SETTING_REFERENCE.findall(source)) == declared


def test_snippets_do_not_reach_for_the_block_shopify_does_not_pass_them():
    for path in SNIPPETS:
        assert "block." not in read(path), path.name


def test_every_referenced_asset_exists_and_has_an_allowed_type():
    referenced = set()
    for _, schema in schemas():
        referenced.update(schema.get(key) for key in ("javascript", "stylesheet") if key in schema)
    for path in LIQUID_FILES:
        referenced.update(ASSET_REFERENCE.findall(read(path)))
    assets = {p.name for p in (EXTENSION_DIR / "assets").iterdir()}

    assert referenced == {"loyalty-widget.css", "loyalty-widget.js", "loyalty-reviews.js",
                          "loyalty-cart.js"}
    assert referenced <= assets
    assert {Path(name).suffix for name in assets} <= ALLOWED_ASSET_SUFFIXES


@pytest.mark.parametrize("path", LIQUID_FILES, ids=lambda p: p.name)
def test_no_liquid_tag_that_app_blocks_may_not_use(path):
    assert [tag for tag in liquid_tags(read(path)) if FORBIDDEN_TAGS.match(tag)] == []


def test_the_forbidden_tag_check_catches_each_forbidden_tag():
    source = ("{% include 'x' %}{% section 'y' %}{%- javascript -%}{% stylesheet %}"
              "{% liquid\n  layout none\n  echo 1\n%}")

    assert [t.split()[0] for t in liquid_tags(source) if FORBIDDEN_TAGS.match(t)] == [
        "include", "section", "javascript", "stylesheet", "layout"]


@pytest.mark.parametrize("locale", STOREFRONT_LOCALES, ids=lambda p: p.name)
def test_every_translation_key_used_exists_in_every_storefront_locale(locale):
    used = set()
    for path in LIQUID_FILES:
        used.update(TRANSLATION_KEY.findall(read(path)))
    strings = flatten(json.loads(read(locale)))

    assert sorted(used - set(strings)) == []
    assert len(used) > 40


@pytest.mark.parametrize("locale", SCHEMA_LOCALES, ids=lambda p: p.name)
def test_every_schema_translation_key_exists_in_every_schema_locale(locale):
    used = set()
    for _, schema in schemas():
        used.update(re.findall(r'"t:([\w.]+)"', json.dumps(schema)))
    strings = flatten(json.loads(read(locale)))

    assert sorted(used - set(strings)) == []


def test_every_locale_file_translates_the_same_keys_as_the_default():
    default = set(flatten(json.loads(read(LOCALES / "en.default.json"))))
    default_schema = set(flatten(json.loads(read(LOCALES / "en.default.schema.json"))))

    for path in STOREFRONT_LOCALES:
        assert set(flatten(json.loads(read(path)))) == default, path.name
    for path in SCHEMA_LOCALES:
        assert set(flatten(json.loads(read(path)))) == default_schema, path.name
    assert {p.name for p in STOREFRONT_LOCALES + SCHEMA_LOCALES} == {
        "en.default.json", "en.default.schema.json", "fr.json", "fr.schema.json"}


def test_storefront_strings_have_no_characters_that_need_escaping():
    # They land in HTML attributes and in JSON read by the widget; plain text keeps both safe
    # whether or not Shopify escapes `t` output.
    for path in STOREFRONT_LOCALES:
        for key, text in flatten(json.loads(read(path))).items():
            assert not set(str(text)) & set("<>&\"'"), f"{path.name}: {key}"


def test_shopify_limits_on_files_blocks_and_size():
    liquid_bytes = sum(p.stat().st_size for p in LIQUID_FILES)
    extension_bytes = sum(p.stat().st_size for p in EXTENSION_DIR.rglob("*") if p.is_file())

    assert len(BLOCKS) <= 30
    assert liquid_bytes <= 500_000
    assert extension_bytes <= 10_000_000
    for path in LOCALES.glob("*.json"):
        assert path.stat().st_size <= 15_000, path.name


def test_the_theme_editor_sets_nothing_the_admins_widget_settings_set():
    # Texts, colours and position come from the admin alone (app-data metafield `widget`);
    # the theme editor keeps how the blocks sit on a theme.
    ids = {s["id"] for _, schema in schemas() for s in schema["settings"] if "id" in s}

    assert ids == {"edge_distance", "show_balance", "show_program", "show_reviews",
                   "reviews_count", "min_height", "reward_rows"}
