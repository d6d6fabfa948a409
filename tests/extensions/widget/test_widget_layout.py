"""What the widget looks like, measured in Chromium against the real demo: the panel's header
stays on top while its body scrolls, and nothing leaves a blank band or gap. Screenshots of the
panel at desktop and phone sizes go to test-output/ for a person to look at."""

from __future__ import annotations

import pytest

from devstore.demo import CUSTOMERS
from tests.extensions.widget.test_widget_browser import (
    ADA,
    LOYALTY_PAGE,
    MEMBER_PAGE,
    PAGE_PATH,
    SCREENSHOTS,
)

pytestmark = pytest.mark.browser

DESKTOP, PHONE = (1280, 800), (375, 667)
# Alan's 250 points buy no reward yet.
ALAN_PAGE = f"{PAGE_PATH}?customer_id={CUSTOMERS[2]['id']}"

# For every scroll position of the panel, the points of its header where something else is
# painted on top (elementFromPoint honours stacking order).
COVERED_HEADER_POINTS = """() => {
  const panel = document.querySelector('[data-ll-panel]');
  const head = panel.querySelector('.ll-head');
  const covered = [];
  for (let top = 0; top <= panel.scrollHeight; top += 10) {
    panel.scrollTop = top;
    const box = head.getBoundingClientRect();
    // Clear of the panel's rounded corners (12px).
    for (let x = box.left + 14; x < box.right - 14; x += 12) {
      for (const y of [box.top + 2, box.top + box.height / 2, box.bottom - 2]) {
        const el = document.elementFromPoint(x, y);
        if (!head.contains(el)) covered.push(`${panel.scrollTop}: ${el.className || el.tagName}`);
      }
    }
  }
  return covered;
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_panel_header_stays_on_top_of_everything_its_body_scrolls_under(visit, viewport):
    v = visit(MEMBER_PAGE, viewport=viewport)
    v.open_launcher()
    v.redeem("$5 off")
    v.page.wait_for_selector(".ll-code", state="visible")

    assert v.page.evaluate(COVERED_HEADER_POINTS) == []
    v.page.eval_on_selector("[data-ll-panel]", "p => { p.scrollTop = 260; }")
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / f"widget-scrolled-{viewport[0]}.png"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_keep_earning_sits_right_under_the_rewards_heading_when_no_reward_is_affordable(
        visit, viewport):
    v = visit(ALAN_PAGE, viewport=viewport)
    v.open_launcher()

    heading = v.page.locator("[data-ll-panel] h3:text-is('Your rewards')").bounding_box()
    keep = v.page.locator("[data-ll-panel] [data-ll-if='!affordable']")
    assert keep.inner_text() == "Keep earning to unlock your first reward."
    gap = keep.bounding_box()["y"] - (heading["y"] + heading["height"])
    # The heading's own margin (6px), no empty list above the sentence.
    assert 0 <= gap <= 8, gap
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / f"widget-no-reward-{viewport[0]}.png"))


@pytest.mark.parametrize("path", [f"{LOYALTY_PAGE}?customer_id={ADA['id']}", LOYALTY_PAGE],
                         ids=["member", "guest"])
def test_without_reviews_the_loyalty_page_leaves_no_blank_band(visit, path):
    v = visit(path)
    v.wait_until_rendered()
    v.page.wait_for_function(
        "getComputedStyle(document.querySelector('[data-ll-reviews]')).display == 'none'")

    columns = v.page.locator(".ll-cols").bounding_box()
    status = v.page.locator(".ll--page [data-ll-status]").bounding_box()
    # Only the status line's own margin between the columns and it.
    assert status["y"] - (columns["y"] + columns["height"]) <= 10
    assert v.layout_shift() == 0
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / f"widget-page-no-reviews-{path.count('=')}.png"),
                      full_page=True)
