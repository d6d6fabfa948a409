"""The redirect rule (app/web/redirects.py) against Chromium's own URL parser.

Whatever `same_origin_path` accepts, Chromium resolves on this app's origin: the shapes a
browser reads differently from Python (tab and newline removed, `\\` read as `/`, leading
controls and spaces stripped) are tried one by one and in many random combinations.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import unquote

import pytest

from app.web.redirects import same_origin_path
from tests.integration.shopify.test_auth_flow import REFUSED_RELOADS

pytestmark = pytest.mark.browser

BASE = "https://loyalty.test/admin/settings"
ORIGIN = "https://loyalty.test"
PIECES = ["/", "//", "\\", "\t", "\n", "\r", " ", "\x00", "\x0c", "\x7f", "\u3000", "\u2028",
          ".", "..", ":", "@", "?", "#", "%2F", "%5C", "%09", "evil.com", "https:", "javascript:",
          "admin", "x=1", "&"]



def _origins(page: Any, targets: list[str]) -> list[str]:
    """Where Chromium resolves each target against an admin page (WHATWG URL parsing)."""
    return page.evaluate("""([base, targets]) => targets.map((t) => {
        try { return new URL(t, base).origin; } catch (e) { return 'invalid'; }
    })""", [BASE, targets])


def test_chromium_resolves_the_refused_tricks_to_another_origin_and_accepted_paths_to_ours(page):
    tricks = ["/\t/evil.com", "/\n/evil.com", "/\\evil.com", "\\\\evil.com", " //evil.com",
              "\t//evil.com", "\x00//evil.com", "https:\\\\evil.com", "/\t\\evil.com"]
    assert [same_origin_path(t) for t in tricks] == [None] * len(tricks)
    assert _origins(page, tricks) == ["https://evil.com"] * len(tricks)
    accepted = [unquote(raw) for raw in ("%2F", "%2Fadmin%3Fq%3Da%2520b", "%2F%3Fshop%3Dx")]
    assert _origins(page, accepted) == [ORIGIN] * len(accepted)


def test_every_target_the_rule_accepts_stays_on_the_apps_origin_in_chromium(page):
    rng = random.Random(13)
    candidates = [unquote(raw) for raw in REFUSED_RELOADS]
    candidates += ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
                   for _ in range(4000)]
    candidates += ["/" + c for c in candidates]
    accepted = [c for c in candidates if same_origin_path(c) is not None]
    assert len(accepted) > 500  # the random walk reaches many plain paths too
    origins = _origins(page, accepted)
    assert [(c, o) for c, o in zip(accepted, origins, strict=True) if o != ORIGIN] == []
