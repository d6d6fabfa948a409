"""Every storefront asset stays inside Theme Check's limits and our own, tighter budget.

Theme Check fails app-block JavaScript over 10,000 bytes (AssetSizeAppBlockJavaScript) and CSS
over 100,000 (AssetSizeAppBlockCSS). Our budget is what a shopper downloads on first open:
at most 6,600 bytes of JavaScript (2,800 gzipped: keyboard focus after a save, copyable
unused codes, and a Copied label that returns to its own) and 4,000 bytes of CSS; the loyalty page
block's reviews script, on top of that, at most 1,500 bytes (800 gzipped). The cart block's script
(redeem, apply to the cart, give back a refused code) loads only with the cart block, at most
4,000 bytes (1,800 gzipped).
Run with `-s` to see the table.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from devstore.storefront import EXTENSION_DIR

ASSETS = sorted((EXTENSION_DIR / "assets").iterdir())
JS_LIMIT, CSS_LIMIT = 10_000, 100_000
# asset: (Theme Check limit, our raw budget, our gzipped budget)
BUDGETS = {
    "loyalty-widget.css": (CSS_LIMIT, 4_000, None),
    "loyalty-widget.js": (JS_LIMIT, 6_600, 2_800),
    # Only the loyalty page block loads it: the launcher costs nothing more.
    "loyalty-reviews.js": (JS_LIMIT, 1_500, 800),
    # Only the cart block loads it: neither the launcher nor the loyalty page pays for it.
    "loyalty-cart.js": (JS_LIMIT, 4_000, 1_800),
}


def sizes(path: Path) -> tuple[int, int]:
    """Raw and gzipped (level 9) bytes."""
    raw = path.read_bytes()
    return len(raw), len(gzip.compress(raw, compresslevel=9, mtime=0))


def test_print_the_asset_size_table():
    rows = [(p.name, *sizes(p)) for p in ASSETS]
    print("\nasset                    raw bytes  gzipped")
    for name, raw, zipped in rows:
        print(f"{name:<24} {raw:>9,}  {zipped:>7,}")
    print(f"{'total':<24} {sum(r[1] for r in rows):>9,}  {sum(r[2] for r in rows):>7,}")

    assert [name for name, *_ in rows] == [
        "loyalty-cart.js", "loyalty-reviews.js", "loyalty-widget.css", "loyalty-widget.js"]
    assert sorted(BUDGETS) == [name for name, *_ in rows]


@pytest.mark.parametrize("path", ASSETS, ids=lambda p: p.name)
def test_asset_is_within_theme_check_limit_and_our_budget(path):
    theme_check_limit, raw_budget, gzip_budget = BUDGETS[path.name]
    raw, zipped = sizes(path)

    assert raw <= theme_check_limit
    assert raw <= raw_budget, f"{path.name}: {raw:,} bytes, budget {raw_budget:,}"
    if gzip_budget:
        assert zipped <= gzip_budget, f"{path.name}: {zipped:,} gzipped, budget {gzip_budget:,}"
