"""Every catalog has every English key with the same placeholders; adding a language is a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.i18n.catalogs import (
    LOCALES_DIR,
    PLURAL_CATEGORIES,
    available_locales,
    catalog,
    is_plural,
    placeholders,
)

WIDGET_LOCALES = Path(__file__).resolve().parents[3] / "extensions" / "loyalty-widget" / "locales"
ENGLISH = catalog("en")
OTHERS = [code for code in available_locales() if code != "en"]


def test_english_and_french_catalogs_exist_and_parse():
    assert {"en", "fr"} <= set(available_locales())
    for code in available_locales():
        json.loads((LOCALES_DIR / f"{code}.json").read_text(encoding="utf-8"))
    assert len(ENGLISH) > 80


@pytest.mark.parametrize("code", OTHERS)
def test_a_catalog_has_every_english_key_and_no_other(code):
    other = catalog(code)
    assert sorted(ENGLISH.keys() - other.keys()) == [], f"{code}.json lacks these keys"
    assert sorted(other.keys() - ENGLISH.keys()) == [], f"{code}.json has keys English lacks"


@pytest.mark.parametrize("code", OTHERS)
def test_a_catalog_uses_the_same_placeholders_as_english(code):
    other = catalog(code)
    differ = {key: (sorted(placeholders(ENGLISH[key])), sorted(placeholders(other[key])))
              for key in ENGLISH.keys() & other.keys()
              if placeholders(ENGLISH[key]) != placeholders(other[key])}
    assert differ == {}


@pytest.mark.parametrize("code", available_locales())
def test_plural_messages_have_one_and_other_and_only_cldr_categories(code):
    for key, message in catalog(code).items():
        if isinstance(message, dict):
            assert {"one", "other"} <= set(message), key
            assert set(message) <= PLURAL_CATEGORIES, key
        assert is_plural(ENGLISH[key]) == isinstance(message, dict), key


def test_the_completeness_check_catches_a_missing_key_and_a_renamed_placeholder(tmp_path):
    english = {"a": {"b": "Hi {{ name }}"}, "c": {"one": "{{ count }} point",
                                                   "other": "{{ count }} points"}}
    broken = {"a": {"b": "Salut {{ nom }}"}}
    from app.i18n.catalogs import flatten
    en, fr = flatten(english), flatten(broken)
    assert sorted(en.keys() - fr.keys()) == ["c"]
    assert placeholders(en["a.b"]) != placeholders(fr["a.b"])


def test_the_theme_blocks_name_the_default_tiers_as_the_app_does():
    for code, theme_file in (("en", "en.default.json"), ("fr", "fr.json")):
        theme = json.loads((WIDGET_LOCALES / theme_file).read_text(encoding="utf-8"))
        names = theme["loyalty"]["default_tiers"]
        assert names == {tier: catalog(code)[f"tiers.{tier}.name"]
                         for tier in ("bronze", "silver", "gold")}, code
