"""The merchant's Widget settings reach the storefront: the admin save (over HTTP) → the job →
metafieldsSet on the app installation (the emulator over HTTP) → the blocks rendered from
what Shopify holds (devstore/storefront.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.shopify.widget_settings import push_widget_settings
from devstore import ShopifyEmulator
from devstore.storefront import PAGE_PATH, create_storefront_app
from tests.e2e.conftest import SHOP, RunningApp, eventually
from tests.e2e.test_platform import _install_by_code_grant, _shop_row
from tests.e2e.test_proxy_path import _install
from tests.extensions.widget.dom import Element, parse
from tests.support.shopify_fakes import admin_token

CLUB = {"launcher_label": "Club points", "panel_title": "The Club",
        "guest_intro": "Join the club.", "position": "left",
        "colors": {"accent": "#AA0044", "accent_text": "#fefefe",
                   "panel_background": "#101010", "panel_text": "#e0e0e0"}}


@pytest.fixture
def running(db, emulator: ShopifyEmulator, serve_app) -> Iterator[RunningApp]:
    """The app served over HTTP with SHOP installed, jobs inline."""
    _install(db, emulator)
    yield serve_app()


def _save(running: RunningApp, section: str, body: dict[str, Any], user_id: str = "42"
          ) -> httpx.Response:
    """An App Bridge fetch from the embedded admin's settings page."""
    return httpx.post(f"{running.url}/admin/settings/{section}", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {admin_token(SHOP, user_id=user_id)}"})


def _widget_metafield(emulator: ShopifyEmulator) -> tuple[dict[str, Any], str] | None:
    """(value, type) of the app-data metafield `widget` Shopify holds, if any."""
    with emulator.lock:
        state = emulator.shop(SHOP)
        return next(((json.loads(mf.value), mf.type)
                     for (owner, ns, key), mf in state.metafields.items()
                     if owner == state.installation_gid and ns.startswith("app--")
                     and key == "widget"), None)


def _widget_writes(emulator: ShopifyEmulator) -> int:
    with emulator.lock:
        return sum(call.operation_name == "LoyaltyMetafieldsSet" and call.outcome == "ok"
                   for call in emulator.shop(SHOP).calls)


def _launcher(emulator: ShopifyEmulator, locale: str = "en") -> Element:
    """The launcher as the shop's storefront renders it for a visitor now."""
    with create_storefront_app(emulator, SHOP).test_client() as client:
        page = client.get(f"{PAGE_PATH}?locale={locale}")
    return parse(page.get_data(as_text=True)).find("div", data_ll_root=True)


def test_saving_the_widget_settings_shows_them_on_the_storefront(running, emulator):
    saved = _save(running, "widget", {"widget": CLUB})

    assert saved.status_code == 200
    assert saved.json()["message"] == (
        "Saved as version 1. Your storefront shows it within a minute.")
    assert eventually(lambda: _widget_metafield(emulator) == ({
        "launcher_label": "Club points", "panel_title": "The Club",
        "guest_intro": "Join the club.", "position": "left",
        "colors": {"accent": "#aa0044", "accent_text": "#fefefe",
                   "panel_background": "#101010", "panel_text": "#e0e0e0"}}, "json"))
    launcher = _launcher(emulator)
    assert launcher.find("button", data_ll_toggle=True).text() == "Club points"
    assert launcher.find("h2").text(even_if_hidden=True) == "The Club"
    assert launcher.attrs["class"] == "ll ll--embed ll--left"
    assert launcher.attrs["style"].startswith(
        "--ll-accent: #aa0044; --ll-on-accent: #fefefe; --ll-bg: #101010; --ll-fg: #e0e0e0;")


def test_texts_left_at_their_defaults_stay_translated_on_the_storefront(running, emulator):
    assert _save(running, "widget", {"widget": {"panel_title": "Le Club"}}).status_code == 200

    assert eventually(lambda: _widget_metafield(emulator) is not None)
    document, _ = _widget_metafield(emulator)
    assert (document["launcher_label"], document["panel_title"]) == (None, "Le Club")
    launcher = _launcher(emulator, locale="fr")
    assert launcher.find("button", data_ll_toggle=True).text() == "Récompenses"
    assert launcher.find("h2").text(even_if_hidden=True) == "Le Club"


def test_a_refused_colour_changes_nothing_on_the_storefront(running, emulator):
    refused = _save(running, "widget", {"widget": {"colors": {
        "accent": "red; background: url(https://evil.example/x)"}}})

    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_settings"
    assert _widget_writes(emulator) == 0 and _widget_metafield(emulator) is None


def test_saving_another_section_writes_nothing_to_the_storefront(running, emulator):
    assert _save(running, "bonuses", {"bonuses": {"signup": 300}}).status_code == 200

    assert _widget_writes(emulator) == 0


def test_the_newest_save_is_what_the_storefront_keeps_however_often_the_job_runs(
        running, emulator):
    assert _save(running, "widget", {"widget": CLUB}).status_code == 200
    assert _save(running, "widget", {"widget": {"launcher_label": "Perks"}},
                 user_id="43").status_code == 200
    assert eventually(lambda: (_widget_metafield(emulator) or ({}, ""))[0].get(
        "launcher_label") == "Perks")

    # A late or repeated run (a retry, the first save's job) writes the newest version again.
    push_widget_settings(running.runtime, _shop_row(running.db).id)

    document, _ = _widget_metafield(emulator)
    assert (document["launcher_label"], document["panel_title"]) == ("Perks", "The Club")
    assert _launcher(emulator).find("button", data_ll_toggle=True).text() == "Perks"


def test_with_rq_workers_the_storefront_changes_once_the_job_ran(db, emulator, serve_app,
                                                                 redis_url):
    _install(db, emulator)
    running = serve_app(redis_url=redis_url)
    assert _save(running, "widget", {"widget": CLUB}).status_code == 200
    assert _widget_metafield(emulator) is None
    assert _launcher(emulator).find("button", data_ll_toggle=True).text() == "Rewards"

    running.work()

    assert _widget_metafield(emulator)[0]["launcher_label"] == "Club points"
    assert _widget_writes(emulator) == 1
    assert _launcher(emulator).find("button", data_ll_toggle=True).text() == "Club points"


def test_a_reinstalled_app_shows_the_merchants_widget_settings_again(db, emulator, serve_app):
    emulator.add_shop(SHOP)
    running = serve_app()
    assert _install_by_code_grant(running).status_code == 302
    assert _save(running, "widget", {"widget": CLUB}).status_code == 200
    assert eventually(lambda: _widget_metafield(emulator) is not None)

    assert emulator.uninstall_app(SHOP)[0] == 200
    assert eventually(lambda: not _shop_row(running.db).is_installed)
    # The old installation's app-data metafields went with it.
    assert _widget_metafield(emulator) is None
    assert _install_by_code_grant(running).status_code == 302

    assert eventually(lambda: (_widget_metafield(emulator) or ({}, ""))[0].get(
        "launcher_label") == "Club points")
    assert _launcher(emulator).find("button", data_ll_toggle=True).text() == "Club points"


def test_a_fresh_install_writes_no_widget_settings(db, emulator, serve_app):
    emulator.add_shop(SHOP)
    running = serve_app()

    assert _install_by_code_grant(running).status_code == 302

    assert _widget_writes(emulator) == 0
    assert _launcher(emulator).find("button", data_ll_toggle=True).text() == "Rewards"


def test_when_the_queue_is_down_the_save_is_kept_and_the_merchant_told_the_storefront_waits(
        db, emulator, serve_app):
    _install(db, emulator)
    # Nothing listens on port 1: every enqueue fails at once.
    running = serve_app(redis_url="redis://127.0.0.1:1/0")

    saved = _save(running, "widget", {"widget": CLUB})

    assert saved.status_code == 200
    assert saved.json()["version"] == 1
    assert saved.json()["message"] == (
        "Saved as version 1, but your storefront could not be updated yet. Save again in a "
        "few minutes.")
    assert _widget_writes(emulator) == 0
