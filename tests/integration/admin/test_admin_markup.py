"""Every admin page as served: Polaris' web components as Shopify declares them, no raw
control, and one primary action (App Bridge's save bar on the settings forms, else at most one
`variant="primary"` button)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.loyalty.importing.runs import stage_file
from app.loyalty.importing.sources import source_named
from app.loyalty.rewards import seed_default_rewards
from app.models import Member, Referral, Review, Shop
from tests.browser.admin.test_admin_accessibility import IMPORT_SAMPLE, PAGES, STATES
from tests.conftest import app_config
from tests.integration.admin.conftest import NOW, AdminSession
from tests.integration.admin.dashboard_seed import seed_busy_shop
from tests.unit.admin.markup import parse

# Settings forms a merchant edits and saves: each saves through the save bar.
SAVE_BAR_PAGES = {"/admin/settings", "/admin/settings/tiers", "/admin/settings/rewards",
                  "/admin/settings/referrals", "/admin/settings/bonuses",
                  "/admin/settings/engagement", "/admin/settings/widget"}


@pytest.fixture
def busy(admin: AdminSession) -> int:
    """SHOP with a month of activity, its rewards (one off), a flagged referral and a review
    to approve; the member with the fullest ledger."""
    with admin.db.transaction() as session:
        shop = session.get(Shop, admin.shop_id)
        seed_busy_shop(session, shop, NOW - timedelta(hours=1))
        seed_default_rewards(session, shop, NOW)[-1].active = False
        member = session.execute(select(Member).where(Member.shop_id == shop.id)
                                 .order_by(Member.points_lifetime.desc()).limit(1)).scalar_one()
        session.add(Referral(shop_id=shop.id, referrer_id=member.id, order_id=91_000,
                             code=member.referral_code, status="flagged", reason="same_address",
                             created_at=NOW))
        session.add(Review(shop_id=shop.id, member_id=member.id, product_id=1,
                           product_title="Sencha", rating=4, body="Fresh", created_at=NOW))
        return member.id


@pytest.fixture
def import_run(admin: AdminSession) -> int:
    """A Smile export of SHOP previewed, with refused lines: the import's id."""
    with admin.db.transaction() as session:
        return stage_file(session, admin.shop_id, source_named("smile"),
                          IMPORT_SAMPLE.read_text("utf-8").splitlines(keepends=True),
                          filename="smile.csv", actor=None, now=NOW).id


@pytest.mark.parametrize("path", [*PAGES.values(), *STATES.values()], ids=[*PAGES, *STATES])
def test_the_page_is_declared_polaris_with_one_primary_action(
        admin: AdminSession, busy: int, import_run: int, path: str) -> None:
    path, _, query = path.format(member=busy, run=import_run).partition("?")
    params = dict(part.split("=") for part in query.split("&")) if query else {}
    response = admin.page(path, **params)
    if response.status_code == 302:  # /admin opens the checklist or the dashboard
        response = admin.client.get(response.headers["Location"])
    html = response.get_data(as_text=True)
    document = parse(html)
    assert response.status_code in (200, 404)
    assert document.found == []
    primary = [tag for tag, attributes in document.elements
               if tag == "s-button" and attributes.get("variant") == "primary"]
    save_bars = [attributes.get("id") for tag, attributes in document.elements
                 if tag == "ui-save-bar"]
    assert len(primary) + len(save_bars) <= 1
    if path in SAVE_BAR_PAGES:
        governed = [attributes for tag, attributes in document.elements
                    if tag == "form" and "data-save-with" in attributes]
        assert save_bars == ["page-save-bar"] and governed
        assert all(form["data-save-with"] == "page-save-bar" for form in governed)


def test_without_the_development_frame_pages_load_shopifys_scripts_and_no_stand_in(
        admin: AdminSession) -> None:
    app = create_app(app_config(admin.db, devstore_enabled=False))
    outside = AdminSession(app, app.test_client(), admin.db, admin.shop_id)
    html = outside.page("/admin/settings", dev_frame="1").get_data(as_text=True)
    assert '<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>' in html
    assert '<script src="https://cdn.shopify.com/shopifycloud/polaris.js"></script>' in html
    assert "data-stand-in" not in html and "customElements.define" not in html
