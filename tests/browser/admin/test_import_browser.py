"""A merchant imports their Smile export in Chromium: chooses the source with the keyboard,
picks the file, reads the preview, confirms, and watches the progress until it is done; the
RQ worker applies it. Every step's page passes axe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models import ImportRun, Member
from devstore import ShopifyEmulator
from tests.browser.admin.test_admin_browser import SHOP, browse, chromium  # noqa: F401
from tests.e2e.conftest import RunningApp, serve_app  # noqa: F401 - fixture
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]

SAMPLE = Path(__file__).parents[2] / "unit" / "importing" / "samples" / "smile.csv"


def test_upload_preview_confirm_and_progress_of_a_smile_import(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        browse: Callable[..., Any]) -> None:  # noqa: F811
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    running.app.extensions.update(devstore=emulator, devstore_shop=SHOP)
    page = browse()
    page.goto(f"{running.url}/dev/admin?path=/")
    page.frame_locator("iframe").get_by_text("steps done").wait_for()

    page.goto(f"{running.url}/dev/admin?path=/admin/imports")
    frame = page.frame(name="app-iframe")
    frame.wait_for_load_state("load")
    frame.get_by_role("button", name="Upload and preview").wait_for()
    assert serious_violations(frame) == []
    source = frame.get_by_label("Exported from")
    source.focus()
    page.keyboard.press("Home")  # Smile.io, the first choice
    assert source.input_value() == "smile"
    frame.get_by_label("CSV file").set_input_files(str(SAMPLE))
    frame.get_by_role("button", name="Upload and preview").click()

    frame = page.frame(name="app-iframe")
    frame.get_by_role("button", name="Confirm import").wait_for()
    assert frame.locator('[data-figure="create"]').inner_text() == "2"
    assert frame.locator('[data-figure="refused"]').inner_text() == "4"
    assert frame.get_by_text("the customer is disabled in Smile").is_visible()
    assert serious_violations(frame) == []
    with running.db.sessions() as session:
        assert session.execute(select(Member)).first() is None  # a preview imports nothing

    frame.get_by_role("button", name="Confirm import").click()
    frame.get_by_text("Importing:").wait_for()
    running.work()
    frame.get_by_text("Imported: 6 of 6 lines.").wait_for(timeout=10_000)
    assert frame.locator("[data-import-bar]").get_attribute("aria-valuenow") == "6"
    assert serious_violations(frame) == []
    with running.db.sessions() as session:
        run = session.execute(select(ImportRun)).scalar_one()
        emails = set(session.execute(select(Member.email)).scalars())
    assert run.state == "done"
    assert emails == {"ada@example.com", "grace@navy.example"}
