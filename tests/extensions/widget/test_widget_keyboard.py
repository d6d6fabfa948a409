"""The storefront widget from the keyboard alone, in Chromium, against the real demo.

Every shopper action here is a real key event (`keyboard.press`, `keyboard.type`), never a
click or `fill()`: a handler that swallows keys fails these tests the way it fails a shopper.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from app.models import Reward
from devstore.demo import DEMO_SHOP
from tests.extensions.widget.test_widget_browser import (
    MEMBER_PAGE,
    PROXY_PREFIX,
    Visit,
    ada,
    redemptions,
)

pytestmark = pytest.mark.browser


def focused(v: Visit, script: str = "el => el.textContent.trim()") -> Any:
    """Something about the element that has the keyboard focus."""
    return v.page.evaluate(f"({script})(document.activeElement)")


def open_with_keyboard(v: Visit) -> None:
    """Focus the launcher, press Enter, wait until the live data is in the panel."""
    v.page.focus("[data-ll-toggle]")
    with v.page.expect_response(lambda r: v.proxy_prefix in r.url):
        v.page.keyboard.press("Enter")
    v.wait_until_rendered()


def test_enter_opens_the_panel_and_tab_moves_from_its_heading_through_its_controls(visit):
    v = visit(MEMBER_PAGE)

    open_with_keyboard(v)

    assert focused(v) == "Rewards"
    v.page.keyboard.press("Tab")
    assert focused(v, "el => el.ariaLabel") == "Close rewards"
    v.page.keyboard.press("Tab")
    assert focused(v, "el => el.ariaLabel") == "Redeem Free shipping"
    v.page.keyboard.press("Shift+Tab")
    assert focused(v, "el => el.ariaLabel") == "Close rewards"
    v.page.keyboard.press("Escape")
    assert v.page.is_hidden("[data-ll-panel]")
    assert focused(v, "el => el.hasAttribute('data-ll-toggle')")


def test_enter_and_space_redeem_and_space_copies_the_new_code(visit, demo):
    v = visit(MEMBER_PAGE)
    open_with_keyboard(v)

    v.page.focus("[data-ll-redeem][aria-label='Redeem $5 off']")
    with v.page.expect_response(lambda r: r.url.endswith(f"{PROXY_PREFIX}redeem")):
        v.page.keyboard.press("Enter")
    v.page.wait_for_function("document.activeElement.hasAttribute('data-ll-code')")
    v.page.focus("[data-ll-redeem][aria-label='Redeem Free shipping']")
    with v.page.expect_response(lambda r: r.url.endswith(f"{PROXY_PREFIX}redeem")):
        v.page.keyboard.press(" ")
    v.page.wait_for_function("document.querySelectorAll('.ll-code').length == 2")

    five, shipping = (r.code for r in redemptions(demo))
    # The newest code first, and it has the focus.
    assert v.page.locator(".ll-code [data-ll-code]").all_inner_texts() == [shipping, five]
    assert focused(v) == shipping
    v.page.keyboard.press("Tab")
    assert (focused(v), focused(v, "el => el.getAttribute('href')")) == (
        "Apply to cart", f"/discount/{shipping}")
    v.page.keyboard.press("Tab")
    assert focused(v, "el => el.ariaLabel") == f"Copy code {shipping}"
    v.page.keyboard.press(" ")
    v.page.wait_for_function("document.activeElement.textContent == 'Copied'")
    assert v.page.evaluate("navigator.clipboard.readText()") == shipping
    assert ada(demo).points_available == 2050 - 500 - 400


def test_a_refused_redeem_gives_the_focus_back_to_its_button_and_escape_still_closes(
        visit, demo):
    v = visit(MEMBER_PAGE)
    open_with_keyboard(v)
    with demo.app.extensions["runtime"].db.transaction() as s:
        s.execute(update(Reward).where(Reward.title == "$10 off").values(active=False))

    v.page.focus("[data-ll-redeem][aria-label='Redeem $10 off']")
    with v.page.expect_response(lambda r: r.url.endswith(f"{PROXY_PREFIX}redeem")):
        v.page.keyboard.press("Enter")

    assert v.status() == "This reward is no longer available."
    assert focused(v, "el => el.ariaLabel") == "Redeem $10 off"
    v.page.keyboard.press("Escape")
    assert v.page.is_hidden("[data-ll-panel]")


def test_a_birthday_typed_and_saved_with_enter_keeps_the_focus_in_the_panel(visit, demo):
    v = visit(MEMBER_PAGE)
    open_with_keyboard(v)

    v.page.focus("input[name=birthday]")
    v.page.keyboard.type("03-14")
    with v.page.expect_response(lambda r: r.url.endswith(f"{PROXY_PREFIX}birthday")):
        v.page.keyboard.press("Enter")
    v.page.wait_for_selector("[data-ll-if='member.birthday']", state="visible")

    assert v.text("[data-ll-if='member.birthday']") == "Birthday saved: 03-14"
    birthday = ada(demo).birthday
    assert (birthday.month, birthday.day) == (3, 14)
    assert focused(v) == "Birthday saved: 03-14"
    assert v.page.evaluate(
        "document.querySelector('[data-ll-panel]').contains(document.activeElement)")
    v.page.keyboard.press("Escape")
    assert v.page.is_hidden("[data-ll-panel]")
    assert focused(v, "el => el.hasAttribute('data-ll-toggle')")


def test_space_on_copy_link_copies_the_referral_link(visit, demo):
    v = visit(MEMBER_PAGE)
    open_with_keyboard(v)

    v.page.focus("[data-ll-copy]")
    v.page.keyboard.press(" ")

    v.page.wait_for_function("document.querySelector('[data-ll-copy]').textContent == 'Copied'")
    assert v.page.evaluate("navigator.clipboard.readText()") == (
        f"https://{DEMO_SHOP}/?ref={ada(demo).referral_code}")


def test_a_redeemed_code_is_still_there_after_a_reload_and_its_copy_button_copies_it(
        visit, demo):
    v = visit(MEMBER_PAGE)
    v.open_launcher()
    v.redeem("$5 off")
    v.page.wait_for_selector(".ll-code", state="visible")

    again = visit(MEMBER_PAGE)
    open_with_keyboard(again)

    [redemption] = redemptions(demo)
    assert again.text(".ll-code") == f"Your code: {redemption.code} $5 off Apply to cart Copy code"
    assert again.page.get_attribute(".ll-code a", "href") == f"/discount/{redemption.code}"
    again.page.focus("[data-ll-copy-code]")
    again.page.keyboard.press("Enter")
    again.page.wait_for_function(
        "document.querySelector('[data-ll-copy-code]').textContent == 'Copied'")
    assert again.page.evaluate("navigator.clipboard.readText()") == redemption.code


def test_copied_is_said_by_one_button_at_a_time_and_only_for_a_moment(visit):
    v = visit(MEMBER_PAGE)
    open_with_keyboard(v)
    v.page.evaluate("delete Navigator.prototype.share")

    v.page.focus("[data-ll-copy]")
    v.page.keyboard.press("Enter")
    v.page.wait_for_function("document.querySelector('[data-ll-copy]').textContent == 'Copied'")
    v.page.focus("[data-ll-share]")
    v.page.keyboard.press("Enter")
    v.page.wait_for_function("document.querySelector('[data-ll-share]').textContent == 'Copied'")

    assert v.text("[data-ll-copy]") == "Copy link"
    v.page.wait_for_function(
        "document.querySelector('[data-ll-share]').textContent == 'Share'", timeout=4000)
    assert v.text("[data-ll-copy]") == "Copy link"
