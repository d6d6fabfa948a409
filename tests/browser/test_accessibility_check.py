"""The accessibility check itself: axe-core finds what a person using assistive tech meets."""

from __future__ import annotations

import pytest

from tests.support.accessibility import serious_violations

pytestmark = pytest.mark.browser


def _page(body: str) -> str:
    """A complete document around body."""
    return (f'<!doctype html><html lang="en"><head><title>Check</title></head>'
            f'<body><main>{body}</main></body></html>')


def test_an_unlabelled_field_and_faint_text_are_serious_violations(page):
    page.set_content(_page('<input type="number" name="cost">'
                           '<p style="color:#999;background:#fff">5 points</p>'))
    found = serious_violations(page)
    assert [line.split(" ")[0] for line in found] == ["color-contrast", "label"]


def test_a_labelled_field_and_readable_text_pass(page):
    page.set_content(_page('<label for="c">Cost in points</label><input id="c" type="number">'
                           '<p style="color:#303030;background:#fff">5 points</p>'))
    assert serious_violations(page) == []
