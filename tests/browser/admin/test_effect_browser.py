"""The program-effect page in Debian's Chromium: a merchant starts a holdout, reads the
comparison of a shop with a year of holdout history, and ends it; axe finds nothing serious."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.loyalty.program import save_settings
from app.models import Shop
from devstore import ShopifyEmulator
from tests.browser.admin.test_admin_browser import (  # noqa: F401 - fixtures
    OUTPUT,
    SHOP,
    browse,
    chromium,
)
from tests.e2e.conftest import RunningApp, serve_app  # noqa: F401 - fixture
from tests.integration.admin.effect_seed import seed_holdout_history
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]


def test_the_merchant_starts_reads_and_ends_a_holdout(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        browse: Callable[..., Any]) -> None:  # noqa: F811
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse(width=1280)
    page.goto(f"{running.url}/dev/admin?path=/")
    page.frame_locator("iframe").get_by_text("steps done").wait_for()
    running.launch_program(SHOP)

    page.goto(f"{running.url}/dev/admin?path=/admin/effect")
    frame = page.frame_locator("iframe")
    frame.get_by_text("No holdout is running.").wait_for()
    share = frame.get_by_label("Share of new customers held out (%)")
    share.click()
    share.press("Control+A")
    share.press_sequentially("12")
    frame.get_by_role("button", name="Start the holdout").click()
    frame.locator('[data-holdout="running"]').wait_for()
    assert frame.locator('[data-figure="holdout-share"]').inner_text() == "12%"
    with running.db.sessions() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        assert (shop.holdout_share, shop.holdout_key is not None) == (12, True)

    # A year of history: 3,000 customers, 10 % held out, repeat rate 20 % against 30 %, and
    # 10 points the smallest change that matters (about 1,600 customers needed).
    with running.db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        seed_holdout_history(session, shop, customers=3000,
                             assigned_from=utcnow() - timedelta(days=365), days=270)
        save_settings(session, shop.id, {"effect": {"smallest_effect_points": "10"}},
                      changed_by="test", now=utcnow())
    page.goto(f"{running.url}/dev/admin?path=/admin/effect")
    app_frame = page.frame(name="app-iframe")
    assert app_frame is not None
    app_frame.locator('[data-figure="program-customers"]').wait_for()
    assert "Not enough data" not in app_frame.locator("body").inner_text(), \
        app_frame.locator("body").inner_text()
    difference = app_frame.locator('[data-figure="repeat-difference"]').inner_text()
    assert difference.startswith("+") and difference.endswith(" pts")
    assert "Not enough data" not in app_frame.locator("body").inner_text()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "admin-effect.png"), full_page=True)
    assert serious_violations(app_frame) == []

    frame = page.frame_locator("iframe")
    frame.get_by_role("button", name="End the holdout").click()
    frame.locator('[data-holdout="off"]').wait_for()
    with running.db.sessions() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        assert (shop.holdout_share, shop.holdout_ended_at is not None) == (0, True)
