"""A merchant reads their order history in Chromium: types the window, picks "points" with the
keyboard, types the days of points, starts the run with a click and watches its progress move
to "completed" while a real RQ worker runs the emulator's bulk operation; the customers page
then shows the tiers and points. Every step's page passes axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from app.models import Backfill, Member
from devstore import ShopifyEmulator
from tests.browser.admin.test_admin_browser import SHOP, browse, chromium  # noqa: F401
from tests.e2e.conftest import RunningApp, serve_app  # noqa: F401 - fixture
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]


def _type_into(page: Any, field: Any, text: str) -> None:
    field.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_the_merchant_backfills_a_window_with_points_and_sees_it_complete(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        browse: Callable[..., Any]) -> None:  # noqa: F811
    emulator.add_shop(SHOP)
    # 90 days of orders by 40 customers: the merchant reads 60 of them, points for the last 30.
    emulator.add_order_history(SHOP, 600, days=90, customers=40)
    running = serve_app(redis_url=redis_url)
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse()
    page.goto(f"{running.url}/dev/admin?path=/")
    page.frame_locator("iframe").get_by_text("steps done").wait_for()

    page.goto(f"{running.url}/dev/admin?path=/admin/history")
    frame = page.frame(name="app-iframe")
    frame.wait_for_load_state("load")
    start = frame.get_by_role("button", name="Read order history")
    start.wait_for()
    assert serious_violations(frame) == []
    _type_into(page, frame.get_by_role("spinbutton", name=re.compile(r"^Days of orders")), "60")
    mode = frame.get_by_label("What the orders give")
    mode.focus()
    page.keyboard.press("ArrowDown")  # from "tiers" to "points", the second choice
    assert mode.input_value() == "points"
    _type_into(page, frame.get_by_role("spinbutton", name=re.compile(r"^Points for orders")),
               "30")
    start.click()

    # The page reloads on the run's "requested" state; nothing is applied before a worker.
    frame = page.frame(name="app-iframe")
    status = frame.locator('[data-backfill] [data-field="status"]')
    status.wait_for()
    assert status.inner_text() == "requested"
    bar = frame.locator("[data-progress]")
    assert bar.get_attribute("aria-valuenow") == "0"
    with running.db.sessions() as session:
        run = session.execute(select(Backfill)).scalar_one()
        assert (run.mode, run.window_days, run.points_days) == ("points", 60, 30)

    running.work()  # a real RQ worker: bulk query, poll, stream the JSONL, apply, set tiers
    frame.locator('[data-backfill] [data-field="status"]', has_text="completed").wait_for(
        timeout=15_000)
    with running.db.sessions() as session:
        run = session.execute(select(Backfill)).scalar_one()
        members = session.execute(select(Member)).scalars().all()
    assert run.status == "completed" and run.orders_recorded > 300 and run.points_awarded > 0
    # The page's own script moved the figures and the bar to the run's end.
    frame.locator('[data-field="orders_recorded"]',
                  has_text=f"{run.orders_recorded:,}").wait_for()
    assert frame.locator('[data-field="points_awarded"]').inner_text() == \
        f"{run.points_awarded:,}"
    assert bar.get_attribute("aria-valuenow") == str(run.lines_applied)
    assert bar.get_attribute("aria-valuemax") == str(run.objects_found)
    assert serious_violations(frame) == []

    page.goto(f"{running.url}/dev/admin?path=/admin/customers")
    frame = page.frame(name="app-iframe")
    frame.wait_for_load_state("load")
    table = frame.get_by_role("table")
    table.wait_for()
    text = table.inner_text()
    best = max(members, key=lambda m: m.points_lifetime)
    assert best.tier in ("Silver", "Gold") and best.points_lifetime > 0
    assert best.tier in text and f"{best.points_lifetime:,}" in text
    assert serious_violations(frame) == []
