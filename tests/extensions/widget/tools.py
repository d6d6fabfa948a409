"""Where the widget tests find Chromium and the Shopify CLI, and what happens without them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
# Debian's Chromium, never a browser downloaded by `playwright install`.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
# Installed by `npm install` at the repository root (@shopify/cli 3.94.x).
SHOPIFY_CLI = REPO_ROOT / "node_modules" / ".bin" / "shopify"


def missing_tool(tool: str, reason: str) -> None:
    """Skip when a developer machine lacks the tool; fail in CI, where it must be installed."""
    message = f"{tool} unavailable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set)", pytrace=False)
    pytest.skip(message)


@contextmanager
def debian_chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (never a Playwright-downloaded browser);
    skipped without it on a developer machine, a failure in CI."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        missing_tool("Playwright", str(exc))
    if not os.access(CHROMIUM, os.X_OK):
        missing_tool("Chromium", f"{CHROMIUM} missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
