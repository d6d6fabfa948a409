"""Where the widget tests find Chromium and the Shopify CLI, and what happens without them."""

from __future__ import annotations

import os
from pathlib import Path

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
