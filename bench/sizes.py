"""Benchmark 5: what the storefront and checkout download.

Widget assets (theme app extension): raw and gzip -9 bytes per file; Theme Check allows
10,000 raw bytes of JavaScript per file, design.md targets under 10 KB gzipped in all.
UI extensions: the built bundle raw, deflate-compressed (Shopify's 64 KB limit is on the
compressed bundle, shopify-notes §0.4) and gzipped. Bundles are measured as built in
extensions/*/dist; `npm run build` rebuilds them.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

from bench.report import table

ROOT = Path(__file__).resolve().parent.parent
WIDGET_ASSETS = ROOT / "extensions" / "loyalty-widget" / "assets"
UI_BUNDLES = ("thank-you", "order-status")
JS_RAW_LIMIT = 10_000
UI_COMPRESSED_LIMIT = 64 * 1024


def _sizes(path: Path) -> dict[str, Any]:
    """Raw, gzip -9 and deflate -9 bytes of one file."""
    data = path.read_bytes()
    return {"file": str(path.relative_to(ROOT)), "raw": len(data),
            "gzip": len(gzip.compress(data, compresslevel=9, mtime=0)),
            "deflate": len(zlib.compress(data, 9))}


def run(quick: bool = False) -> dict[str, Any]:
    """Measure every widget asset and UI extension bundle."""
    widget = [_sizes(p) for p in sorted(WIDGET_ASSETS.glob("*")) if p.suffix in (".js", ".css")]
    bundles = [_sizes(p) for name in UI_BUNDLES
               for p in sorted((ROOT / "extensions" / name / "dist").glob("*.js"))]
    widget_gzip = sum(f["gzip"] for f in widget)
    checks = {
        "widget_js_raw_each_under_10000": all(f["raw"] <= JS_RAW_LIMIT for f in widget
                                              if f["file"].endswith(".js")),
        "widget_gzip_total_under_10240": widget_gzip <= 10 * 1024,
        "ui_bundles_deflate_under_64KiB": all(b["deflate"] <= UI_COMPRESSED_LIMIT
                                              for b in bundles),
    }
    print(table(["file", "raw", "gzip -9", "deflate -9"],
                [[f["file"], f["raw"], f["gzip"], f["deflate"]] for f in widget + bundles]))
    print(f"widget total gzip {widget_gzip} bytes; checks {checks}")
    return {"widget_assets": widget, "widget_gzip_total": widget_gzip, "ui_bundles": bundles,
            "checks": checks}
