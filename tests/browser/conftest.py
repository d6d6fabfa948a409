"""A blank Chromium page for the browser tests that need no app behind them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.extensions.widget.tools import CHROMIUM, CHROMIUM_ARGS, missing_tool


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    """A blank page in Debian's Chromium, shared by the module's tests."""
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
