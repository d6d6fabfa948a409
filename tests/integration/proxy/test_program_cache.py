"""Storefront reads reuse a shop's program (row, settings, catalog) for a few seconds."""

from __future__ import annotations

from app import create_app
from app.models import Reward
from bench.statements import counting
from tests.conftest import app_config
from tests.integration.proxy.test_proxy import OTHER, SHOP, proxy_query, shop_with_member

__all__ = ["shop_with_member"]


class Clock:
    """time.monotonic for the web process, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rename_cheapest_reward(db, title: str) -> None:
    with db.transaction() as s:
        reward = s.query(Reward).order_by(Reward.cost).first()
        reward.title = title


def _titles(client, shop: str = SHOP) -> list[str]:
    body = client.get(f"/proxy/member?{proxy_query(shop, 11)}").get_json()
    return [r["title"] for r in body["rewards"]]


def test_a_second_read_within_the_ttl_skips_the_program_and_an_edit_shows_after_it(
        db, shop_with_member, monkeypatch):
    clock = Clock()
    monkeypatch.setattr("app.web.proxy.time.monotonic", clock)
    app = create_app(app_config(db, storefront_cache_seconds=5.0))
    client = app.test_client()
    first = _titles(client)
    with counting(db.engine) as statements:
        assert _titles(client) == first
    # The shopper's own rows only: member, spend, activity, then COMMIT.
    assert not any(s.startswith(("SELECT shops", "SELECT settings_versions", "SELECT rewards"))
                   for s in statements), statements
    _rename_cheapest_reward(db, "Merchant's new name")
    clock.now += 4.9
    assert _titles(client) == first
    clock.now += 0.2
    assert _titles(client)[0] == "Merchant's new name"


def test_every_shop_has_its_own_program(db, shop_with_member):
    app = create_app(app_config(db, storefront_cache_seconds=60.0))
    client = app.test_client()
    assert _titles(client, SHOP)
    # The other shop has no rewards: nothing of the first shop's catalog leaks into it.
    assert _titles(client, OTHER) == []


def test_with_no_ttl_every_read_sees_the_merchants_edit(db, shop_with_member):
    app = create_app(app_config(db, storefront_cache_seconds=0))
    client = app.test_client()
    _titles(client)
    _rename_cheapest_reward(db, "Renamed")
    assert _titles(client)[0] == "Renamed"


def test_an_uninstalled_shop_is_not_served_once_its_copy_expires(db, shop_with_member,
                                                                  monkeypatch):
    from app.db import utcnow
    from app.models import Shop

    clock = Clock()
    monkeypatch.setattr("app.web.proxy.time.monotonic", clock)
    app = create_app(app_config(db, storefront_cache_seconds=5.0))
    client = app.test_client()
    assert client.get(f"/proxy/member?{proxy_query(SHOP, 11)}").status_code == 200
    with db.transaction() as s:
        s.query(Shop).filter_by(domain=SHOP).one().uninstalled_at = utcnow()
    clock.now += 6
    response = client.get(f"/proxy/member?{proxy_query(SHOP, 11)}")
    assert response.status_code == 404
    assert response.get_json()["error"] == "shop_not_installed"


def test_a_cached_member_read_is_four_round_trips_codes_included(db, shop_with_member):
    app = create_app(app_config(db, storefront_cache_seconds=60.0))
    client = app.test_client()
    _titles(client)
    with counting(db.engine) as statements:
        body = client.get(f"/proxy/member?{proxy_query(SHOP, 11)}").get_json()
    assert "codes" in body and "activity" in body
    # The member, their tier spend, their activity and unused codes (one UNION), COMMIT.
    assert len(statements) == 4, statements
