"""Every admin page, as a merchant meets it inside the admin frame, passes axe-core.

Each page opens through the development frame (app/web/dev_admin.py) with an emulator-minted
id_token, like the demo; axe runs inside the app's iframe (the frame around it stands in for
Shopify's admin and is not ours). A new admin page route must be added to PAGES: the list is
compared with the app's own URL map.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import AnyConverter

from app import create_app
from app.db import Database, utcnow
from app.loyalty.importing.runs import stage_file
from app.loyalty.importing.sources import source_named
from app.loyalty.rewards import seed_default_rewards
from app.models import Member, Referral, Review, Shop
from devstore import ShopifyEmulator
from tests.browser.admin.test_admin_browser import OUTPUT, SHOP, chromium  # noqa: F401 - fixture
from tests.conftest import TEST_API_KEY, TEST_API_SECRET, _migrated_database, app_config, wipe
from tests.integration.admin.conftest import install_shop
from tests.integration.admin.dashboard_seed import seed_busy_shop
from tests.support.accessibility import serious_violations
from tests.support.emulator_fixture import DEFAULT_APP_URL, live_app_server

pytestmark = pytest.mark.browser
IMPORT_SAMPLE = Path(__file__).parents[2] / "unit" / "importing" / "samples" / "smile.csv"

# Every admin page a merchant can open, keyed the way the URL map routes it (a route with a
# fixed set of values, such as the settings tabs, is one page per value); the value is the path
# opened, `{member}` standing for a member of the seeded shop and `{run}` for its import.
PAGES = {
    "/admin": "/admin",
    "/admin/onboarding": "/admin/onboarding",
    "/admin/dashboard": "/admin/dashboard",
    "/admin/effect": "/admin/effect",
    "/admin/cohorts": "/admin/cohorts",
    "/admin/experiments": "/admin/experiments",
    "/admin/engagement": "/admin/engagement",
    "/admin/customers": "/admin/customers",
    "/admin/customers/<raw_member_id>": "/admin/customers/{member}",
    "/admin/referrals": "/admin/referrals",
    "/admin/settings": "/admin/settings",
    "/admin/settings/tiers": "/admin/settings/tiers",
    "/admin/settings/rewards": "/admin/settings/rewards",
    "/admin/settings/referrals": "/admin/settings/referrals",
    "/admin/settings/bonuses": "/admin/settings/bonuses",
    "/admin/settings/engagement": "/admin/settings/engagement",
    "/admin/settings/widget": "/admin/settings/widget",
    "/admin/settings/history": "/admin/settings/history",
    "/admin/history": "/admin/history",
    "/admin/billing": "/admin/billing",
    "/admin/imports": "/admin/imports",
    "/admin/imports/<raw_run_id>": "/admin/imports/{run}",
}
# Other states of those pages that render different markup.
STATES = {
    "a customer search": "/admin/customers?q=shopper1",
    "an admin path that does not exist (the error page)": "/admin/no-such-page",
}


def routed_pages(app: Flask) -> set[str]:
    """Every GET page under /admin in the URL map, a fixed-choice route once per choice."""
    pages: set[str] = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in (rule.methods or ()):
            continue
        choices = [(name, converter) for name, converter in rule._converters.items()
                   if isinstance(converter, AnyConverter)]
        if not choices:
            pages.add(rule.rule)
            continue
        (name, converter), = choices
        for value in converter.items:
            pages.add(re.sub(rf"<any\([^)]*\):{name}>", value, rule.rule))
    return pages


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """The app serving one busy shop (rewards, one switched off, a flagged referral, a review to
    approve, a Smile import previewed with refused lines): its URL, the member with the fullest
    ledger and the import."""
    db: Database = _migrated_database("postgresql", tmp_path_factory)
    wipe(db)
    with ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, app_url=DEFAULT_APP_URL) as emulator:
        emulator.add_shop(SHOP)
        app = create_app(app_config(db))
        app.extensions.update(devstore=emulator, devstore_shop=SHOP)
        shop_id = install_shop(db, SHOP)
        now = utcnow()
        with db.transaction() as session:
            shop = session.get(Shop, shop_id)
            seed_busy_shop(session, shop, now - timedelta(hours=1))
            seed_default_rewards(session, shop, now)[-1].active = False
            member = session.execute(select(Member).where(Member.shop_id == shop_id)
                                     .order_by(Member.points_lifetime.desc()).limit(1)
                                     ).scalar_one()
            session.add(Referral(shop_id=shop_id, referrer_id=member.id, order_id=91_000,
                                 code=member.referral_code, status="flagged",
                                 reason="same_address", created_at=now))
            session.add(Review(shop_id=shop_id, member_id=member.id, product_id=1,
                               product_title="Sencha", rating=4, body="Fresh and grassy",
                               created_at=now))
            member_id = member.id
            run_id = stage_file(session, shop_id, source_named("smile"),
                                IMPORT_SAMPLE.read_text("utf-8").splitlines(keepends=True),
                                filename="smile.csv", actor=None, now=now).id
        with live_app_server(app) as url:
            yield url, member_id, run_id
    wipe(db)


def open_admin_page(chromium: Any, url: str, path: str) -> tuple[Any, Any]:  # noqa: F811
    """The page in the development admin frame, and the app's frame inside it, loaded."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.route("https://cdn.shopify.com/**", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body=""))
    page = context.new_page()
    page.goto(f"{url}/dev/admin?path={quote(path, safe='/')}", wait_until="load")
    frame = page.frame(name="app-iframe")
    assert frame is not None
    frame.wait_for_load_state("load")
    frame.locator("s-page, main[data-error]").wait_for()
    return page, frame


def test_every_admin_page_route_is_in_the_accessibility_list() -> None:
    app = create_app({"database_url": "sqlite://", "redis_url": None, "env": "test",
                      "shopify_api_key": TEST_API_KEY, "shopify_api_secret": TEST_API_SECRET,
                      "shopify_app_url": DEFAULT_APP_URL})
    assert routed_pages(app) == set(PAGES)


@pytest.mark.parametrize("path", [*PAGES.values(), *STATES.values()],
                         ids=[*PAGES, *STATES])
def test_the_admin_page_has_no_serious_accessibility_violations(
        chromium: Any, admin_app: tuple[str, int, int], path: str) -> None:  # noqa: F811
    url, member_id, run_id = admin_app
    page, frame = open_admin_page(chromium, url, path.format(member=member_id, run=run_id))
    try:
        found = serious_violations(frame)
        OUTPUT.mkdir(exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-")
        page.screenshot(path=str(OUTPUT / f"a11y-{slug}.png"), full_page=True)
        assert found == []
    finally:
        page.context.close()
