"""Every /admin page and fetch is behind Shopify's session token, and sees only its own shop."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app import create_app
from app.models import LedgerEntry
from app.shopify.verify import RETRY_HEADER
from tests.conftest import app_config
from tests.integration.admin.conftest import OTHER_SHOP, SHOP, AdminSession
from tests.support.factories import make_member
from tests.support.shopify_fakes import admin_token

PAGES = ["/admin/onboarding", "/admin/dashboard", "/admin/customers", "/admin/engagement",
         "/admin/referrals", "/admin/settings",
         "/admin/settings/tiers", "/admin/settings/rewards", "/admin/settings/referrals",
         "/admin/settings/bonuses", "/admin/settings/engagement", "/admin/settings/widget",
         "/admin/settings/history"]
FETCHES = ["/admin/settings/points", "/admin/settings/rewards", "/admin/onboarding/launched"]


def _expired() -> str:
    """A token that expired two minutes ago (well past the 10 s leeway)."""
    return admin_token(SHOP, now=time.time() - 180, ttl=60)


def _foreign() -> str:
    """A well-formed token for SHOP signed with a secret that is not ours."""
    return admin_token(SHOP, secret="another-apps-secret-0123456789abcdef0123456789")


def _member_of(admin: AdminSession, shop_id: int) -> int:
    """A member of that shop; its id."""
    with admin.db.transaction() as session:
        from app.models import Shop

        return make_member(session, session.get(Shop, shop_id), email="ada@example.com").id


@pytest.mark.parametrize("path", PAGES)
def test_every_admin_page_renders_for_a_valid_session_token_and_only_frames_in_the_shops_admin(
        admin: AdminSession, path: str) -> None:
    response = admin.page(path)
    policy = response.headers["Content-Security-Policy"]
    assert response.status_code == 200
    assert policy == f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
    assert 'name="shopify-api-key"' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", FETCHES)
def test_a_fetch_without_a_token_is_refused(admin: AdminSession, path: str) -> None:
    response = admin.client.post(path, json={})
    assert (response.status_code, response.json["error"]) == (401, "missing_session_token")


@pytest.mark.parametrize("path", FETCHES)
def test_a_fetch_with_a_token_in_the_query_instead_of_the_header_is_refused(
        admin: AdminSession, path: str) -> None:
    response = admin.client.post(f"{path}?shop={SHOP}&id_token={admin_token(SHOP)}", json={})
    assert (response.status_code, response.json["error"]) == (401, "missing_session_token")


@pytest.mark.parametrize("path", FETCHES)
def test_a_fetch_with_an_expired_token_gets_401_and_the_retry_header(
        admin: AdminSession, path: str) -> None:
    response = admin.fetch(path, {}, token=_expired())
    assert (response.status_code, response.headers.get(RETRY_HEADER)) == (401, "1")
    assert response.json["error"] == "expired_id_token"


@pytest.mark.parametrize("path", FETCHES)
def test_a_fetch_signed_by_another_secret_gets_401_and_the_retry_header(
        admin: AdminSession, path: str) -> None:
    response = admin.fetch(path, {}, token=_foreign())
    assert (response.status_code, response.headers.get(RETRY_HEADER)) == (401, "1")


def test_a_page_loaded_without_a_token_is_bounced_to_app_bridge_for_one(
        admin: AdminSession) -> None:
    response = admin.client.get(f"/admin/dashboard?shop={SHOP}&embedded=1")
    location = urlsplit(response.headers["Location"])
    assert (response.status_code, location.path) == (302, "/auth/session-token")
    assert parse_qs(location.query)["shopify-reload"] == [
        f"/admin/dashboard?shop={SHOP}&embedded=1"]


def test_a_page_loaded_with_an_expired_id_token_is_bounced_to_get_a_fresh_one(
        admin: AdminSession) -> None:
    response = admin.page("/admin/settings", token=_expired())
    location = urlsplit(response.headers["Location"])
    reload_to = parse_qs(location.query)["shopify-reload"][0]
    assert (response.status_code, location.path) == (302, "/auth/session-token")
    assert reload_to.startswith("/admin/settings?") and "id_token" not in reload_to


def test_an_expired_token_never_saves_anything(admin: AdminSession) -> None:
    admin.fetch("/admin/settings/points", {"earning": {"points_per_unit": "50"}},
                token=_expired())
    response = admin.page("/admin/settings/history")
    assert "No changes yet" in response.get_data(as_text=True)


def test_another_shops_token_cannot_open_or_adjust_this_shops_customer(
        admin: AdminSession) -> None:
    member_id = _member_of(admin, admin.shop_id)
    page = admin.page(f"/admin/customers/{member_id}", shop=OTHER_SHOP)
    adjust = admin.fetch(f"/admin/customers/{member_id}/adjustments",
                         {"points": 500, "reason": "Gift", "request_key": "k" * 16},
                         shop=OTHER_SHOP)
    search = admin.page("/admin/customers", shop=OTHER_SHOP, q="ada")
    with admin.db.sessions() as session:
        entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    assert (page.status_code, adjust.status_code) == (404, 404)
    assert "ada@example.com" not in search.get_data(as_text=True)
    assert entries == 0
    # The same requests with this shop's token work: the token, not the id, decides.
    assert admin.page(f"/admin/customers/{member_id}").status_code == 200


def test_another_shops_token_saves_into_its_own_settings_only(admin: AdminSession) -> None:
    admin.fetch("/admin/settings/points", {"earning": {"points_per_unit": "9"}},
                shop=OTHER_SHOP)
    mine = admin.page("/admin/settings").get_data(as_text=True)
    theirs = admin.page("/admin/settings", shop=OTHER_SHOP).get_data(as_text=True)
    assert 'name="earning.points_per_unit" value="5"' in mine
    assert 'name="earning.points_per_unit" value="9"' in theirs


def test_a_fetch_for_a_shop_that_never_installed_gets_401(admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/points", {}, shop="never-installed.myshopify.com")
    assert (response.status_code, response.json["error"]) == (401, "shop_not_installed")


def test_the_frame_policy_names_only_shopify_in_production(db) -> None:  # noqa: ANN001
    app = create_app(app_config(db, env="production"))
    from tests.integration.admin.conftest import install_shop

    install_shop(db, SHOP)
    token = admin_token(SHOP)
    response = app.test_client().get(f"/admin/dashboard?shop={SHOP}&id_token={token}")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{SHOP} https://admin.shopify.com;")
