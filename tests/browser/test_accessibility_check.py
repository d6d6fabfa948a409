"""The accessibility check itself: axe-core finds what a person using assistive tech meets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.accessibility import serious_violations
from tests.extensions.widget.tools import CHROMIUM, CHROMIUM_ARGS, missing_tool

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    """A blank page in Debian's Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        missing_tool("Playwright", str(exc))
    if not os.access(CHROMIUM, os.X_OK):
        missing_tool("Chromium", f"{CHROMIUM} missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


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
