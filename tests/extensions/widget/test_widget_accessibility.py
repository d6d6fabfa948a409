"""axe-core over every storefront surface of the widget, in Chromium, against the real demo:
the launcher closed and open, for a member and a guest, at desktop and phone sizes, and the
loyalty page block. No serious or critical violation anywhere."""

from __future__ import annotations

import pytest

from tests.extensions.widget.test_widget_browser import (
    ADA,
    GUEST_PAGE,
    LOYALTY_PAGE,
    MEMBER_PAGE,
    approve_review,
)
from tests.support.accessibility import serious_violations

pytestmark = pytest.mark.browser

DESKTOP, PHONE = (1280, 800), (375, 667)
# The widget's own markup: the storefront around it is the emulator's, not ours.
WIDGET = ".ll"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", [MEMBER_PAGE, GUEST_PAGE], ids=["member", "guest"])
def test_the_launcher_closed_and_open_has_no_serious_accessibility_violation(
        visit, path, viewport):
    v = visit(path, viewport=viewport)

    assert serious_violations(v.page, WIDGET) == []
    v.open_launcher()
    assert serious_violations(v.page, WIDGET) == []


def test_the_open_panel_with_a_code_and_a_saved_birthday_has_no_serious_violation(visit):
    v = visit(MEMBER_PAGE)
    v.open_launcher()
    v.redeem("$5 off")
    v.page.wait_for_selector(".ll-code", state="visible")
    v.page.click("input[name=birthday]")
    v.page.keyboard.type("03-14")
    v.page.keyboard.press("Enter")
    v.page.wait_for_selector("[data-ll-if='member.birthday']", state="visible")

    assert serious_violations(v.page, WIDGET) == []


@pytest.mark.parametrize("path", [f"{LOYALTY_PAGE}?customer_id={ADA['id']}", LOYALTY_PAGE],
                         ids=["member", "guest"])
def test_the_loyalty_page_with_reviews_has_no_serious_accessibility_violation(
        visit, demo, path):
    approve_review(demo, product="Loose-leaf tea", rating=4, body="Smoky and smooth.")
    v = visit(path)
    v.wait_until_rendered()
    v.page.wait_for_selector("[data-ll-reviews] li", state="visible")

    assert serious_violations(v.page, WIDGET) == []
