"""Message catalogs: one JSON file per locale in app/locales/, shaped like Shopify's locale files.

Keys nest (`email.welcome.subject`); a value is a string with `{{ name }}` placeholders, or,
for text that depends on a number, an object of CLDR plural categories (`one`, `other`, and
any the language has, such as French `many`) chosen by the `count` placeholder.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# The categories CLDR can name; an object with other keys is a nested section, not a plural.
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})

Message = str | dict[str, str]


def is_plural(value: Any) -> bool:
    """Whether a catalog value is a set of plural forms rather than a section."""
    return (isinstance(value, dict) and "other" in value
            and set(value) <= PLURAL_CATEGORIES
            and all(isinstance(v, str) for v in value.values()))


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Message]:
    """Dotted keys to messages (a plural set stays one message)."""
    flat: dict[str, Message] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, str) or is_plural(value):
            flat[path] = value
        elif isinstance(value, dict):
            flat.update(flatten(value, path))
        else:
            raise ValueError(f"{path}: a message is a string or plural forms, not {value!r}")
    return flat


def placeholders(message: Message) -> set[str]:
    """The placeholder names a message uses (over all its plural forms)."""
    forms = message.values() if isinstance(message, dict) else [message]
    return {name for form in forms for name in PLACEHOLDER.findall(form)}


def available_locales() -> tuple[str, ...]:
    """The locale codes there is a catalog for (file names without .json)."""
    return tuple(sorted(p.stem for p in LOCALES_DIR.glob("*.json")))


@cache
def catalog(code: str) -> dict[str, Message]:
    """The flattened catalog of one locale, read once per process; empty when there is none."""
    path = LOCALES_DIR / f"{code}.json"
    if code not in available_locales():
        return {}
    return flatten(json.loads(path.read_text(encoding="utf-8")))


def interpolate(template: str, values: dict[str, Any]) -> str:
    """Put the values in; a placeholder without a value is an error, never a blank."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for {{{{ {name} }}}} in {template!r}")
        return str(values[name])
    return PLACEHOLDER.sub(value, template)
