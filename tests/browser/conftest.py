"""A blank Chromium page for the browser tests that need no app behind them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.extensions.widget.tools import debian_chromium


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    """A blank page in Debian's Chromium, shared by the module's tests."""
    with debian_chromium() as browser:
        yield browser.new_page()
