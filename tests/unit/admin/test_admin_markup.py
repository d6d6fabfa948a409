"""Every admin template uses Polaris' web components as Shopify declares them, and the
development stand-ins' design tokens are Polaris' own."""

from __future__ import annotations

import re

import pytest

from tests.unit.admin import polaris_tokens
from tests.unit.admin.markup import (
    TEMPLATES,
    admin_templates,
    declared_elements,
    problems,
    without_jinja,
)


@pytest.mark.parametrize("template", admin_templates(),
                         ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_the_template_uses_only_declared_elements_and_attributes_and_no_raw_control(
        template) -> None:  # noqa: ANN001 - a Path
    assert problems(without_jinja(template.read_text(encoding="utf-8"))) == []


def test_the_declarations_come_from_shopifys_packages() -> None:
    declared = declared_elements()
    assert {"s-text-field", "s-number-field", "s-select", "s-option", "s-checkbox", "s-button",
            "s-table", "s-table-row", "s-table-cell", "s-date-field", "s-color-field",
            "s-badge", "s-banner", "s-section", "s-page", "s-app-nav",
            "ui-save-bar"} <= set(declared)
    assert declared["s-button"]["variant"] == ["auto", "primary", "secondary", "tertiary"]
    assert declared["ui-save-bar > button"]["variant"] == ["primary"]


@pytest.mark.parametrize(("markup", "problem"), [
    ('<s-text-feld name="a"></s-text-feld>', "<s-text-feld> is not a Polaris or App Bridge"),
    ('<s-button colour="red">Go</s-button>', "<s-button> has no attribute colour"),
    ('<s-button variant="dark">Go</s-button>', "<s-button variant='dark'>: not one of"),
    ('<s-number-field step="any"></s-number-field>', "<s-number-field step='any'>: not a number"),
    ('<input type="text" name="a">', "raw <input>"),
    ('<select name="a"></select>', "raw <select>"),
    ('<button type="submit">Save</button>', "raw <button>"),
    ('<table><tr><td>1</td></tr></table>', "raw <table>"),
])
def test_the_check_refuses_what_polaris_does_not_declare(markup: str, problem: str) -> None:
    found = problems(markup)
    assert len(found) == 1 and found[0].startswith(problem)


def test_the_check_allows_what_shopify_documents() -> None:
    assert problems(without_jinja(
        '<s-number-field name="a" value="{{ x }}" label="A" min="0" step="0.01" inputMode="decimal"'
        ' data-field="a"></s-number-field><input type="hidden" name="key" value="k">'
        '<ui-save-bar id="bar"><button variant="primary">Save</button><button>Discard</button>'
        '</ui-save-bar><s-button variant="{{ v }}" accessibilityLabel="Up" icon="arrow-up">'
        '</s-button>')) == []


def test_the_stand_ins_tokens_are_polaris_tokens_and_up_to_date() -> None:
    assert polaris_tokens.TOKENS_FILE.read_text(encoding="utf-8") == polaris_tokens.render()
    shipped = dict(re.findall(r"(--p-[a-z0-9-]+): ([^;]+);",
                              polaris_tokens.TOKENS_FILE.read_text(encoding="utf-8")))
    package = polaris_tokens.package_tokens()
    assert shipped and all(package[name] == value for name, value in shipped.items())
    assert set(polaris_tokens.used_tokens()) == set(shipped)
