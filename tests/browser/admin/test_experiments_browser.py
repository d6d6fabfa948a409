"""The A/B tests page in Debian's Chromium: a merchant chooses, with the keyboard, to test the
earning rate of new members measured by redemptions, sees the sample computed up front and no
result before it, adopts arm B, and axe finds nothing serious on the way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from app.loyalty.program import current_settings
from app.models import Experiment, Shop
from devstore import ShopifyEmulator
from tests.browser.admin.test_admin_browser import (  # noqa: F401 - fixtures
    OUTPUT,
    SHOP,
    browse,
    chromium,
)
from tests.e2e.conftest import RunningApp, serve_app  # noqa: F401 - fixture
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]


def _retype(page: Any, field: Any, text: str) -> None:
    """Click into a field, select what it holds and type over it, as a person does."""
    field.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_the_merchant_tests_the_earning_rate_by_redemptions_and_adopts_arm_b(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        browse: Callable[..., Any]) -> None:  # noqa: F811
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse(width=1280)
    page.goto(f"{running.url}/dev/admin?path=/")
    page.frame_locator("iframe").get_by_text("steps done").wait_for()
    running.launch_program(SHOP)

    page.goto(f"{running.url}/dev/admin?path=/admin/experiments")
    frame = page.frame(name="app-iframe")
    frame.wait_for_load_state("load")
    frame.get_by_role("button", name="Start the test").wait_for()
    assert serious_violations(frame) == []
    variable = frame.get_by_label("What to test")
    variable.focus()
    page.keyboard.press("ArrowDown")  # the second choice: the earning rate
    assert variable.input_value() == "earning.points_per_unit"
    metric = frame.get_by_label("Metric")
    metric.focus()
    page.keyboard.press("ArrowDown")
    assert metric.input_value() == "redemption_30d"
    _retype(page, frame.get_by_label("Arm B's value"), "7.5")
    _retype(page, frame.get_by_label("Smallest change worth knowing (points)"), "10")
    frame.get_by_role("button", name="Start the test").click()

    frame = page.frame(name="app-iframe")
    frame.locator('[data-experiment="running"]').wait_for()
    text = frame.locator("body").inner_text()
    assert frame.get_by_role("heading", name="Running test: Points per unit of spend for new "
                             "members").is_visible()
    assert "A reward redeemed within 30 days of joining" in text
    # No history: the 10 % default baseline; +10 points needs 199 members per arm.
    assert frame.locator('[data-figure="experiment-waiting"]').inner_text() == \
        "No result until each arm has 199 members"
    assert frame.locator('[data-arm="B"]').inner_text().split()[1] == "7.5"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "admin-experiments.png"), full_page=True)
    assert serious_violations(frame) == []

    adopt = frame.get_by_role("button", name="Adopt arm B and end the test")
    adopt.focus()
    page.keyboard.press("Enter")
    frame = page.frame(name="app-iframe")
    frame.locator("[data-past-experiment]").wait_for()
    with running.db.sessions() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        experiment = session.execute(select(Experiment)).scalar_one()
        assert (experiment.metric, experiment.adopted_arm) == ("redemption_30d", "B")
        assert current_settings(session, shop.id).earning["points_per_unit"] == "7.5"
    assert serious_violations(frame) == []
