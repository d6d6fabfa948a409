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


def watch_between(start: str, ready: str) -> str:
    """An init script for a surface that asks for its data on its own: the page notes its clock
    when the JavaScript condition `start` first holds, and when `ready` first holds after it
    (read with `ms_watched`)."""
    return f"""
window.__firstRender = {{}};
new MutationObserver((_, observer) => {{
  const noted = window.__firstRender;
  if (noted.start === undefined && ({start})) noted.start = performance.now();
  if (noted.start !== undefined && ({ready})) {{
    noted.ready = performance.now();
    observer.disconnect();
  }}
}}).observe(document, {{subtree: true, childList: true, characterData: true, attributes: true}});
"""


def ms_watched(tab: Any) -> float:
    """The ms between the start and the data `watch_between` noted, once the data is there."""
    tab.wait_for_function("window.__firstRender.ready !== undefined", timeout=GIVE_UP_MS)
    return tab.evaluate("window.__firstRender.ready - window.__firstRender.start")
