"""The checkout extensions' locale files: French has every English key with the same
placeholders, and both extensions ship the same messages (their panel is one shared package)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.extensions.checkout.harness import EXTENSIONS, REPO_ROOT

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _keys(tree: dict[str, Any], prefix: str = "") -> dict[str, set[str]]:
    """Dotted message keys (a plural set is one key) to their placeholder names."""
    found: dict[str, set[str]] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and "other" in value:
            found[path] = {n for form in value.values()
                           for n in PLACEHOLDER.findall(form)}
        elif isinstance(value, dict):
            found.update(_keys(value, path))
        else:
            found[path] = set(PLACEHOLDER.findall(value))
    return found


@pytest.mark.parametrize("folder", sorted(EXTENSIONS.values()))
def test_every_locale_file_has_every_english_key_with_the_same_placeholders(folder):
    locales = REPO_ROOT / "extensions" / folder / "locales"
    english = _keys(json.loads((locales / "en.default.json").read_text(encoding="utf-8")))
    others = sorted(p for p in locales.glob("*.json") if p.name != "en.default.json")
    assert [p.name for p in others] == ["fr.json"]
    for path in others:
        assert _keys(json.loads(path.read_text(encoding="utf-8"))) == english, path.name


def test_both_checkout_extensions_ship_the_same_messages():
    def files(folder: str) -> dict[str, Any]:
        locales = REPO_ROOT / "extensions" / folder / "locales"
        return {p.name: json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(locales.glob("*.json"))}

    assert files("thank-you") == files("order-status")
