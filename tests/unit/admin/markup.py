"""The admin's markup held to Shopify's declarations of Polaris' and App Bridge's elements.

`declared_elements()` asks the TypeScript compiler (polaris_types.cjs) what
@shopify/polaris-types and @shopify/app-bridge-types declare; `problems(html)` lists, for one
document (a template or a rendered page), every element or attribute they do not declare and
every raw control Polaris replaces.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "app" / "templates" / "admin"
EXTRACTOR = Path(__file__).with_name("polaris_types.cjs")

# Controls Polaris draws: the admin uses s-text-field, s-select, s-button, s-table… instead.
RAW_CONTROLS = {"input", "select", "button", "table", "textarea"}
# Props that are no attributes: framework plumbing (children, key, ref) and event handlers,
# which a page sets from script, not in markup.
NOT_ATTRIBUTES = {"children", "key", "ref"}
# Stands for a Jinja expression in a template's markup: any value may be there.
EXPRESSION = "\x00expr\x00"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@cache
def declared_elements() -> dict[str, dict[str, Any]]:
    """Element → {attribute (lower case) → allowed values, "number", or None for any text}."""
    result = subprocess.run(["node", str(EXTRACTOR)], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=True)
    return {tag: {name.lower(): values for name, values in attributes.items()
                  if name not in NOT_ATTRIBUTES and not name.startswith("on")}
            for tag, attributes in json.loads(result.stdout).items()}


def without_jinja(template: str) -> str:
    """A template's markup with Jinja's comments and tags removed and each expression replaced
    by EXPRESSION: every branch's attributes are then seen at once."""
    text = re.sub(r"\{#.*?#\}", "", template, flags=re.S)
    text = re.sub(r"\{%.*?%\}", "", text, flags=re.S)
    return re.sub(r"\{\{.*?\}\}", EXPRESSION, text, flags=re.S)


class _Checker(HTMLParser):
    """Collects the problems of one document."""

    def __init__(self, declared: dict[str, dict[str, Any]]) -> None:
        super().__init__(convert_charrefs=True)
        self.declared = declared
        self.open: list[str] = []
        self.found: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        parent = self.open[-1] if self.open else ""
        if tag == "button" and parent == "ui-save-bar":
            self._check(f"{parent} > {tag}", attributes)
        elif tag in RAW_CONTROLS:
            # Polaris has no hidden field; a hidden input carries a value the page must post
            # back as it is (an idempotency key, a field the form does not edit).
            if not (tag == "input" and attributes.get("type") == "hidden"):
                self.found.append(f"raw <{tag}> (use Polaris' web component)")
        elif tag.startswith(("s-", "ui-")):
            self._check(tag, attributes)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def _check(self, tag: str, attributes: dict[str, str | None]) -> None:
        known = self.declared.get(tag)
        if known is None:
            self.found.append(f"<{tag}> is not a Polaris or App Bridge element")
            return
        for name, value in attributes.items():
            if name.startswith("data-"):
                continue  # the page script's own hooks; no component reads them
            if name not in known:
                self.found.append(f"<{tag}> has no attribute {name}")
                continue
            allowed = known[name]
            if value is None or EXPRESSION in value:
                continue
            if allowed == "number":
                try:
                    float(value)
                except ValueError:
                    self.found.append(f"<{tag} {name}={value!r}>: not a number")
            elif isinstance(allowed, list) and value not in allowed:
                self.found.append(f"<{tag} {name}={value!r}>: not one of {allowed[:8]}")


def parse(html: str) -> _Checker:
    """The document checked: its problems and its elements in order."""
    checker = _Checker(declared_elements())
    checker.feed(html)
    checker.close()
    return checker


def problems(html: str) -> list[str]:
    """What in this document Shopify's declarations do not allow."""
    return parse(html).found


def admin_templates() -> list[Path]:
    """Every admin template, the development frame's included."""
    return sorted(TEMPLATES.rglob("*.html"))
