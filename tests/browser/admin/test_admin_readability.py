"""The dashboard reads at a glance in Chromium: chart labels at 11 px or more as rendered (the
SVG scales with its viewBox) and a gap between any two cards, at a wide and a narrow admin."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from app.db import Database
from devstore import ShopifyEmulator
from tests.browser.admin.test_admin_browser import (  # noqa: F401 - fixtures
    OUTPUT,
    SHOP,
    _seeded_app,
    browse,
    chromium,
)

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]

# Shopify's admin at 1280 px leaves the app frame about 1000 px; a laptop at 1024 px leaves it
# about 780 px, and the admin on a phone 390 px.
WIDTHS = (1280, 1000, 780, 390)
MIN_LABEL_PX, MIN_GAP_PX = 11.0, 8.0

# Rendered size of every text of every chart: font-size × (rendered width / viewBox width).
LABEL_SIZES = """
() => [...document.querySelectorAll('svg.chart')].flatMap((svg) => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')].map((t) => ({
    chart: svg.getAttribute('aria-label'), text: t.textContent,
    px: parseFloat(getComputedStyle(t).fontSize) * scale}));
})
"""

# The smallest distance between two cards that sit side by side or one above the other.
CLOSEST_CARDS = """
() => {
  const boxes = [...document.querySelectorAll('s-section')]
    .filter((s) => !s.parentElement.closest('s-section'))
    .map((s) => s.getBoundingClientRect());
  let closest = Infinity;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    const dx = Math.max(b.left - a.right, a.left - b.right);
    const dy = Math.max(b.top - a.bottom, a.top - b.bottom);
    closest = Math.min(closest, Math.max(dx, dy));
  }
  return closest;
}
"""


def test_chart_labels_render_at_11px_or_more_and_cards_never_touch(
        db: Database, emulator: ShopifyEmulator, live_server: Callable[[Any], str],
        browse: Callable[..., Any]) -> None:  # noqa: F811
    url = _seeded_app(db, emulator, live_server)
    measured: dict[str, Any] = {}
    for width in WIDTHS:
        for path in ("/admin/dashboard", "/admin/engagement"):
            page = browse(width, 900)
            token = emulator.mint_admin_session_token(SHOP, user_id=1)
            page.goto(f"{url}{path}?embedded=1&shop={SHOP}&dev_frame=1&id_token={token}",
                      wait_until="load")
            labels = page.evaluate(LABEL_SIZES)
            measured[f"{path}@{width}"] = {
                "smallest_label_px": round(min([lab["px"] for lab in labels] or [99]), 1),
                "closest_cards_px": round(page.evaluate(CLOSEST_CARDS), 1),
                "small_labels": sorted({f"{lab['chart']}: {lab['text']} ({lab['px']:.1f})"
                                        for lab in labels if lab["px"] < MIN_LABEL_PX})[:5]}
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "admin-readability.json").write_text(json.dumps(measured, indent=2) + "\n")
    assert {k: m["small_labels"] for k, m in measured.items() if m["small_labels"]} == {}
    assert {k: m["closest_cards_px"] for k, m in measured.items()
            if m["closest_cards_px"] < MIN_GAP_PX} == {}
