"""`make demo`'s second shop: a year of history whose effect page shows a real interval around
the known true effect, an A/B test at its horizon with a verdict, and filled cohorts.

The year is seeded once for the module (about a minute on SQLite) by the demo's own function,
through the emulator's OAuth install and the program's rules; the pages are read over HTTP as
the framed admin reads them, and photographed in Debian's Chromium for the README
(test-output/demo-*.png, copied to docs/effect.png, docs/experiments.png, docs/cohorts.png).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.insights.cohorts import cohort_table
from app.insights.effect import measure_effect
from app.insights.experiments import read_experiment
from app.loyalty.experiments import running_experiment
from app.loyalty.program import current_settings
from app.models import LedgerEntry, Member, Order, Shop
from devstore.demo import Demo, start_demo
from devstore.demo_history import (
    HISTORY_SHOP,
    TRUE_REPEAT_EFFECT,
    TRUE_TEST_EFFECT,
    describe_history,
    history_instructions,
    seed_history_shop,
)
from tests.extensions.widget.tools import REPO_ROOT, debian_chromium
from tests.support.accessibility import serious_violations

pytestmark = pytest.mark.slow
OUTPUT = REPO_ROOT / "test-output"
POINTS = re.compile(r"([+-]\d+\.\d) pts")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo on its SQLite default, with the history shop seeded once."""
    folder: Path = tmp_path_factory.mktemp("demo-history")
    demo = start_demo(database_url=f"sqlite:///{folder / 'demo.db'}", port=0)
    try:
        assert seed_history_shop(demo).ran
        yield demo
    finally:
        demo.stop()


def _page(demo: Demo, path: str) -> str:
    """An admin page of the history shop as the embedded admin loads it (emulator id_token)."""
    token = demo.emulator.mint_admin_session_token(HISTORY_SHOP)
    response = httpx.get(f"{demo.app_url}{path}", timeout=60, params={
        "embedded": "1", "shop": HISTORY_SHOP, "id_token": token})
    assert response.status_code == 200, response.text[:500]
    return response.text


def _shop_counts(demo: Demo) -> tuple[int, int, int]:
    db = demo.app.extensions["runtime"].db
    with db.sessions() as s:
        shop_id = s.execute(select(Shop.id).where(Shop.domain == HISTORY_SHOP)).scalar_one()
        return tuple(s.execute(select(func.count(model.id)).where(
            model.shop_id == shop_id)).scalar_one()
            for model in (Member, Order, LedgerEntry))  # type: ignore[return-value]


def test_the_effect_page_shows_an_interval_that_holds_the_true_effect(history: Demo) -> None:
    body = _page(history, "/admin/effect")
    assert "Not enough data" not in body
    row = body[body.index('data-metric="repeat-rate"'):]
    row = row[:row.index("</s-table-row>")]
    estimate, low, high = (float(x) / 100 for x in POINTS.findall(row))
    # A real interval: it has width, and for this seed it holds the effect the year was drawn
    # with (a 95 % interval holds it for about 19 seeds in 20).
    assert low < estimate < high
    assert low <= TRUE_REPEAT_EFFECT <= high
    now = utcnow()
    db = history.app.extensions["runtime"].db
    with db.sessions() as s:
        shop = s.execute(select(Shop).where(Shop.domain == HISTORY_SHOP)).scalar_one()
        effect = measure_effect(s, shop, current_settings(s, shop.id),
                                now - timedelta(days=365), now, now)
    assert effect.enough_data and effect.control.customers >= effect.needed.control
    interval = effect.repeat_difference
    assert interval is not None
    assert (round(interval.low, 3), round(interval.high, 3)) == (round(low, 3), round(high, 3))
    # The groups are the rules' own draw: about a tenth held out.
    share = effect.control.customers / effect.customers
    assert 0.07 < share < 0.13


def test_the_welcome_bonus_test_reached_its_horizon_with_a_verdict(history: Demo) -> None:
    body = _page(history, "/admin/experiments")
    verdict = re.search(r'data-figure="experiment-difference">B ([+-]\d+\.\d) points', body)
    assert verdict is not None, "no verdict on the A/B tests page"
    between = re.search(r"lies between ([+-]\d+\.\d) and ([+-]\d+\.\d) points", body)
    assert between is not None
    low, high = (float(x) / 100 for x in between.groups())
    assert low <= TRUE_TEST_EFFECT <= high
    db = history.app.extensions["runtime"].db
    with db.sessions() as s:
        shop = s.execute(select(Shop).where(Shop.domain == HISTORY_SHOP)).scalar_one()
        reading = read_experiment(s, running_experiment(s, shop.id),
                                  current_settings(s, shop.id), utcnow())
    assert reading.horizon_reached
    assert [a.value for a in reading.arms] == [250, 500]
    assert all(a.members >= reading.experiment.sample_per_arm for a in reading.arms)


def test_the_cohorts_are_filled_for_every_segment(history: Demo) -> None:
    now = utcnow()
    db = history.app.extensions["runtime"].db
    with db.sessions() as s:
        shop = s.execute(select(Shop).where(Shop.domain == HISTORY_SHOP)).scalar_one()
        tables = {key: cohort_table(s, shop, key, now)
                  for key in ("members", "guests", "holdout")}
    for key, table in tables.items():
        filled = [c for c in table if c.customers]
        assert len(filled) >= 10, key
        assert any(r for c in filled for r in c.rates[1:] if r), key
    body = _page(history, "/admin/cohorts")
    for month in (c.month.strftime("%b %Y") for c in tables["members"] if c.customers):
        assert month in body


def test_seeding_again_changes_nothing_and_the_demo_prints_the_pages(history: Demo) -> None:
    before = _shop_counts(history)
    assert not seed_history_shop(history).ran
    assert _shop_counts(history) == before
    text = history_instructions(history)
    assert "members" in describe_history(history)
    links = re.findall(rf"{re.escape(history.app_url)}(/dev/admin\S+)", text)
    assert {link.rsplit("/", 1)[1] for link in links} == {"effect", "experiments", "cohorts"}
    for link in links:
        frame = httpx.get(f"{history.app_url}{link}", timeout=30)
        assert frame.status_code == 200
        assert HISTORY_SHOP in frame.text


@pytest.mark.browser
def test_screenshots_of_the_effect_test_and_cohort_pages(history: Demo) -> None:
    OUTPUT.mkdir(exist_ok=True)
    with debian_chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1100})
        context.route("https://cdn.shopify.com/**", lambda route: route.fulfill(
            status=200, content_type="text/javascript", body=""))
        try:
            for page_name, ready in (("effect", '[data-figure="repeat-difference"]'),
                                     ("experiments", '[data-figure="experiment-difference"]'),
                                     ("cohorts", "s-page")):
                page = context.new_page()
                page.goto(f"{history.app_url}/dev/admin?shop={HISTORY_SHOP}"
                          f"&path=/admin/{page_name}", timeout=60_000)
                frame = page.frame(name="app-iframe")
                assert frame is not None
                frame.locator(ready).first.wait_for(timeout=60_000)
                path = OUTPUT / f"demo-{page_name}.png"
                page.screenshot(path=str(path), full_page=True)
                assert path.stat().st_size > 10_000
                assert serious_violations(frame) == []
        finally:
            context.close()
