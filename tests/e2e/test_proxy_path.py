"""A merchant moves the app proxy (another prefix and subpath): the app learns the new storefront
path from the signed `path_prefix` and writes it to the app-data metafield the theme extension
reads. Storefront → emulator's signing proxy → the app served over HTTP → Admin GraphQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from app.config import load_settings
from app.loyalty.launch import launch
from app.models import Shop
from app.shopify.tokens import cipher_for, store_grant
from devstore import ShopifyEmulator
from tests.conftest import app_config
from tests.e2e.conftest import SHOP, RunningApp, eventually
from tests.e2e.test_platform import _install_by_code_grant, _shop_row
from tests.support.installed import grant_of


def _install(db, emulator: ShopifyEmulator) -> None:
    """SHOP in the emulator, and installed in our database with its token."""
    emulator.add_shop(SHOP)
    issued = emulator.issue_access_token(SHOP)
    settings = load_settings({}, app_config(db, shopify_admin_base=emulator.base_url))
    grant = grant_of(issued)
    with db.transaction() as s:
        shop, _ = store_grant(s, SHOP, grant, datetime.now(UTC).replace(tzinfo=None),
                              cipher_for(settings))
        launch(shop, datetime.now(UTC).replace(tzinfo=None), holdout_share=0)


@pytest.fixture
def running(db, emulator: ShopifyEmulator, serve_app) -> Iterator[RunningApp]:
    """The app served over HTTP with SHOP installed, jobs inline."""
    _install(db, emulator)
    yield serve_app()


def _storefront(emulator: ShopifyEmulator, path: str, **params: str) -> httpx.Response:
    """A shopper's request to https://{shop}{path}, as the emulator's storefront takes it."""
    return httpx.get(f"{emulator.base_url}/{SHOP}{path}", params=params, timeout=10)


def _proxy_path_metafield(emulator: ShopifyEmulator) -> tuple[str, str] | None:
    """(value, type) of the app-data metafield `proxy_path` Shopify holds, if any."""
    with emulator.lock:
        state = emulator.shop(SHOP)
        return next(((mf.value, mf.type) for (owner, ns, key), mf in state.metafields.items()
                     if owner == state.installation_gid and ns.startswith("app--")
                     and key == "proxy_path"), None)


def _metafield_writes(emulator: ShopifyEmulator) -> int:
    with emulator.lock:
        return sum(call.operation_name == "LoyaltyMetafieldsSet" and call.outcome == "ok"
                   for call in emulator.shop(SHOP).calls)


def _recorded_path(running: RunningApp) -> str | None:
    with running.db.sessions() as s:
        return s.execute(select(Shop.proxy_path).where(Shop.domain == SHOP)).scalar_one()


def test_after_the_merchant_moves_the_proxy_opening_it_tells_the_theme_the_new_path(
        running, emulator):
    emulator.customize_app_proxy(SHOP, "a", "rewards")

    opened = _storefront(emulator, "/a/rewards")

    assert (opened.status_code, opened.json()) == (200, {"ok": True})
    assert eventually(lambda: _recorded_path(running) == "/a/rewards")
    assert _proxy_path_metafield(emulator) == ("/a/rewards", "single_line_text_field")
    # Shopify no longer proxies the old path for this store.
    assert _storefront(emulator, "/apps/loyalty/program").status_code == 404


def test_any_widget_call_through_the_moved_proxy_teaches_the_app_the_path(running, emulator):
    emulator.customize_app_proxy(SHOP, "tools", "points_2")

    assert _storefront(emulator, "/tools/points_2/program").status_code == 200

    assert eventually(lambda: _proxy_path_metafield(emulator) == (
        "/tools/points_2", "single_line_text_field"))


def test_requests_through_the_configured_path_write_nothing(running, emulator):
    assert _storefront(emulator, "/apps/loyalty/program").status_code == 200
    assert _storefront(emulator, "/apps/loyalty").status_code == 200

    # The blocks already use /apps/loyalty when the metafield is unset.
    assert _metafield_writes(emulator) == 0
    assert _recorded_path(running) is None


def test_a_shopper_cannot_move_everyones_widget_with_a_path_prefix_of_their_own(
        running, emulator):
    # Shopify signs the visitor's query along with its own path_prefix: two values arrive.
    response = _storefront(emulator, "/apps/loyalty/program", path_prefix="/a/elsewhere")

    assert response.status_code == 200
    assert _metafield_writes(emulator) == 0
    assert _recorded_path(running) is None


def test_the_path_is_written_once_while_it_stays_and_again_when_it_moves(running, emulator):
    emulator.customize_app_proxy(SHOP, "a", "rewards")
    for _ in range(3):
        assert _storefront(emulator, "/a/rewards/program").status_code == 200
    assert eventually(lambda: _recorded_path(running) == "/a/rewards")
    assert _storefront(emulator, "/a/rewards/program").status_code == 200
    assert _metafield_writes(emulator) == 1

    emulator.customize_app_proxy(SHOP, "community", "club")
    assert _storefront(emulator, "/community/club/program").status_code == 200

    assert eventually(lambda: _recorded_path(running) == "/community/club")
    assert _proxy_path_metafield(emulator) == ("/community/club", "single_line_text_field")
    assert _metafield_writes(emulator) == 2


def test_moving_the_proxy_back_to_the_configured_path_is_written_too(running, emulator):
    emulator.customize_app_proxy(SHOP, "a", "rewards")
    _storefront(emulator, "/a/rewards")
    assert eventually(lambda: _recorded_path(running) == "/a/rewards")

    emulator.customize_app_proxy(SHOP, "apps", "loyalty")
    _storefront(emulator, "/apps/loyalty")

    assert eventually(lambda: _recorded_path(running) == "/apps/loyalty")
    assert _proxy_path_metafield(emulator) == ("/apps/loyalty", "single_line_text_field")


def test_a_write_shopify_refuses_is_asked_for_again_by_a_later_request(running, emulator,
                                                                       monkeypatch):
    monkeypatch.setattr("app.web.proxy_path.RECHECK_SECONDS", 0.0)
    emulator.customize_app_proxy(SHOP, "a", "rewards")
    emulator.fail_next("metafieldsSet", "user_error")

    assert _storefront(emulator, "/a/rewards/program").status_code == 200
    # The shopper's answer never depended on it; nothing is recorded as written.
    assert eventually(lambda: any(call.outcome == "user_error"
                                  for call in emulator.shop(SHOP).calls
                                  if call.operation_name == "LoyaltyMetafieldsSet"))
    assert _recorded_path(running) is None and _proxy_path_metafield(emulator) is None

    assert _storefront(emulator, "/a/rewards/program").status_code == 200
    assert eventually(lambda: _recorded_path(running) == "/a/rewards")
    assert _proxy_path_metafield(emulator) == ("/a/rewards", "single_line_text_field")


def test_with_rq_workers_the_path_is_written_by_the_job_and_asked_for_once(
        db, emulator, serve_app, redis_url):
    _install(db, emulator)
    running = serve_app(redis_url=redis_url)
    emulator.customize_app_proxy(SHOP, "a", "rewards")
    for _ in range(3):
        assert _storefront(emulator, "/a/rewards/program").status_code == 200
    assert _metafield_writes(emulator) == 0

    running.work()

    assert _recorded_path(running) == "/a/rewards"
    assert _proxy_path_metafield(emulator) == ("/a/rewards", "single_line_text_field")
    assert _metafield_writes(emulator) == 1


def test_the_proxys_own_address_is_verified_like_every_proxy_call(running):
    for path in ("/proxy", "/proxy/"):
        answer = httpx.get(f"{running.url}{path}", params={"shop": SHOP,
                                                           "path_prefix": "/a/elsewhere"})
        assert (answer.status_code, answer.json()["error"]) == (401, "invalid_signature")
    assert _recorded_path(running) is None


def test_a_reinstalled_app_tells_its_new_installation_where_the_proxy_is(db, emulator,
                                                                        serve_app):
    emulator.add_shop(SHOP)
    running = serve_app()
    assert _install_by_code_grant(running).status_code == 302
    emulator.customize_app_proxy(SHOP, "a", "rewards")
    _storefront(emulator, "/a/rewards")
    assert eventually(lambda: _proxy_path_metafield(emulator) is not None)

    assert emulator.uninstall_app(SHOP)[0] == 200
    assert eventually(lambda: not _shop_row(running.db).is_installed)
    # The old installation's app-data metafields went with it.
    assert _proxy_path_metafield(emulator) is None
    assert _install_by_code_grant(running).status_code == 302

    # No storefront request could reach the moved proxy yet: the install itself writes it.
    assert eventually(lambda: _proxy_path_metafield(emulator) == (
        "/a/rewards", "single_line_text_field"))
