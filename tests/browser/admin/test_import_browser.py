"""A merchant imports the export of the app they leave (Smile, LoyaltyLion, Yotpo) in Chromium:
chooses the source with the keyboard, picks the file, reads the preview, confirms, and watches
the progress until it is done; the RQ worker applies it. Every step's page passes axe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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

SAMPLES = Path(__file__).parents[2] / "unit" / "importing" / "samples"


@dataclass(frozen=True)
class Export:
    """A sample export and what its preview and import must show (tests/unit/importing)."""

    source: str
    # Arrow-down presses from the first choice of "Exported from" (the admin's order).
    position: int
    created: int
    refused: int
    a_reason: str
    lines: int
    emails: frozenset[str]


EXPORTS = [
    Export("smile", 0, 2, 4, "the customer is disabled in Smile", 6,
           frozenset({"ada@example.com", "grace@navy.example"})),
    Export("loyaltylion", 1, 3, 3, "the customer is blocked in LoyaltyLion", 6,
           frozenset({"ada@example.com", "grace@navy.example", "guest@example.com"})),
    Export("yotpo", 2, 2, 3, "Points Balance '-5' is negative", 5,
           frozenset({"ada@example.com", "grace@navy.example"})),
]


@pytest.mark.parametrize("export", EXPORTS, ids=[e.source for e in EXPORTS])
def test_upload_preview_confirm_and_progress_of_an_import(
        serve_app: Callable[..., RunningApp], emulator: ShopifyEmulator, redis_url: str,  # noqa: F811
        browse: Callable[..., Any], export: Export) -> None:  # noqa: F811
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
    page.keyboard.press("Home")
    for _ in range(export.position):
        page.keyboard.press("ArrowDown")
    assert source.input_value() == export.source
    frame.get_by_label("CSV file").set_input_files(str(SAMPLES / f"{export.source}.csv"))
    frame.get_by_role("button", name="Upload and preview").click()

    frame = page.frame(name="app-iframe")
    frame.get_by_role("button", name="Confirm import").wait_for()
    assert frame.locator('[data-figure="create"]').inner_text() == str(export.created)
    assert frame.locator('[data-figure="refused"]').inner_text() == str(export.refused)
    assert frame.get_by_text(export.a_reason).is_visible()
    assert serious_violations(frame) == []
    with running.db.sessions() as session:
        assert session.execute(select(Member)).first() is None  # a preview imports nothing

    frame.get_by_role("button", name="Confirm import").click()
    frame.get_by_text("Importing:").wait_for()
    running.work()
    frame.get_by_text(f"Imported: {export.lines} of {export.lines} lines.").wait_for(
        timeout=10_000)
    assert frame.locator("[data-import-bar]").get_attribute("aria-valuenow") == str(export.lines)
    assert serious_violations(frame) == []
    with running.db.sessions() as session:
        run = session.execute(select(ImportRun)).scalar_one()
        emails = set(session.execute(select(Member.email)).scalars())
    assert run.state == "done"
    assert emails == export.emails
