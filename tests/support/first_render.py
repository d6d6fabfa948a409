"""First render with data: how long a shopper or a staff member waits for a surface's data once
the surface can ask for it, measured by the page's own clock (performance.now()).

Issue 18 holds every surface under 300 ms against the local app: the UI extensions from the
moment their host hands out the session token (tests/extensions/checkout/test_first_render.py),
the theme's cart block from the moment its script starts (tests/extensions/widget/
test_cart_browser.py). The end is the moment the data is in the page's DOM, which the next
frame paints.
"""

from __future__ import annotations

import json
from typing import Any

FIRST_RENDER_BUDGET_MS = 300
# A page that never shows its data fails after this long; it never hangs the test.
GIVE_UP_MS = 10_000


def shows(text: str) -> str:
    """A JavaScript condition: the page's text holds `text`."""
    return f"document.body.textContent.includes({json.dumps(text)})"


def ms_until(tab: Any, ready: str, release: str) -> float:
    """Run the JavaScript statement `release` in the page (it lets the surface have its data),
    then return the ms until the JavaScript condition `ready` holds. Fails if `ready` held
    already, or never does."""
    return tab.evaluate(f"""() => new Promise((resolve, reject) => {{
        const ready = () => {ready};
        if (ready()) {{ reject(new Error('the data was on the page before the release')); return; }}
        const start = performance.now();
        const observer = new MutationObserver(() => {{
          if (ready()) {{ observer.disconnect(); resolve(performance.now() - start); }}
        }});
        observer.observe(document, {{subtree: true, childList: true, characterData: true,
                                      attributes: true}});
        setTimeout(() => reject(new Error('no data after {GIVE_UP_MS} ms: '
          + document.body.textContent.slice(0, 400))), {GIVE_UP_MS});
        {release};
      }})""")
