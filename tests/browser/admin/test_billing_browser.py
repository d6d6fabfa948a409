"""Choosing a plan as a merchant does, in Debian's Chromium: the admin's plan page (inside the
development frame), Shopify's confirmation page in the emulator, and back in the app with the
plan active; axe finds nothing serious or critical on any of the three."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.models import BillingSubscription
from devstore import ShopifyEmulator
from tests.browser.admin.test_admin_browser import SHOP, browse, chromium  # noqa: F401
from tests.e2e.conftest import RunningApp, serve_app  # noqa: F401 - fixture
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]


def test_the_merchant_approves_the_growth_plan_in_shopify_and_comes_back_to_it_active(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator,  # noqa: F811
        browse: Callable[..., Any]) -> None:  # noqa: F811
    emulator.add_shop(SHOP)
    running = serve_app()
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse()
    page.goto(f"{running.url}/dev/admin?path=/")
    page.frame_locator("iframe").get_by_text("steps done").wait_for()

    page.goto(f"{running.url}/dev/admin?path=/admin/billing")
    frame = page.frame_locator("iframe")
    frame.locator('[data-plan="free"]').wait_for()
    assert serious_violations(page.frames[1]) == []
    cap = frame.get_by_role("spinbutton", name=re.compile(r"^Most you approve for usage"))
    cap.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("60")
    frame.get_by_role("button", name="Choose Growth").click()

    # Shopify's page, in the top window.
    page.wait_for_url("**/confirm_recurring_application_charge")
    assert "Usage charges up to USD 60.00" in page.inner_text("main")
    assert "Test charge" in page.inner_text("main")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Approve").focus()
    page.keyboard.press("Enter")

    page.wait_for_url("**/admin/billing?**charge_id=**")
    page.locator('[data-billing-returned="approved"]').wait_for()
    assert page.locator('[data-plan="growth"]').count() == 1
    assert serious_violations(page) == []
    with running.db.sessions() as session:
        subscription = session.execute(select(BillingSubscription)).scalar_one()
    assert (subscription.status, subscription.capped_amount, subscription.test) == (
        "ACTIVE", Decimal("60.00"), True)
