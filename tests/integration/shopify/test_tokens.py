"""Offline tokens on the shop row: fresh ones reused, expiring ones refreshed once, exchanges."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.config import Settings, load_settings
from app.db import Database
from app.loyalty.privacy import mark_uninstalled
from app.models import Shop
from app.shopify.tokens import (
    TokenUnavailable,
    access_token_for,
    cipher_for,
    ensure_access_token,
)
from app.shopify.verify import verify_admin_session_token
from tests.conftest import TEST_API_KEY, TEST_API_SECRET, app_config
from tests.support.shopify_fakes import SHOP, FakeShopify, admin_token

NOW = datetime(2026, 11, 1, 12, 0, 0)


def settings_for(db: Database) -> Settings:
    """The app's settings on the test database."""
    return load_settings({}, app_config(db))


def seed_shop(db: Database, fake: FakeShopify, *, expires_in: timedelta,
              refresh_expires_in: timedelta = timedelta(days=90)) -> dict[str, Any]:
    """An installed shop holding a token pair the fake Shopify issued."""
    grant = fake.grant(SHOP)
    cipher = cipher_for(settings_for(db))
    with db.transaction() as session:
        session.add(Shop(domain=SHOP, installed_at=NOW - timedelta(days=3),
                         access_token_enc=cipher.encrypt(grant["access_token"]),
                         access_token_expires_at=NOW + expires_in,
                         refresh_token_enc=cipher.encrypt(grant["refresh_token"]),
                         refresh_token_expires_at=NOW + refresh_expires_in))
    return grant


def stored(db: Database) -> tuple[Shop, str | None, str | None]:
    """The shop row as committed, with its tokens decrypted."""
    cipher = cipher_for(settings_for(db))
    with db.sessions() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
    return (shop, cipher.decrypt(shop.access_token_enc) if shop.access_token_enc else None,
            cipher.decrypt(shop.refresh_token_enc) if shop.refresh_token_enc else None)


def token_for(db: Database, fake: FakeShopify, **kwargs: Any) -> str:
    """access_token_for on a fresh session, as a job would call it."""
    with fake.client() as http, db.sessions() as session:
        return access_token_for(session, SHOP, NOW, settings=settings_for(db), http=http,
                                **kwargs)


def test_a_fresh_token_is_used_without_calling_shopify(db: Database) -> None:
    grant = seed_shop(db, FakeShopify(), expires_in=timedelta(minutes=6))
    fake = FakeShopify()
    assert token_for(db, fake) == grant["access_token"]
    assert fake.calls == []


def test_a_token_expiring_within_five_minutes_is_refreshed_and_the_new_pair_stored(
        db: Database) -> None:
    fake = FakeShopify()
    old = seed_shop(db, fake, expires_in=timedelta(minutes=4, seconds=59))
    token = token_for(db, fake)
    shop, access, refresh = stored(db)
    assert [c["body"]["refresh_token"] for c in fake.calls_to("refresh")] == [
        old["refresh_token"]]
    assert token == access != old["access_token"]
    assert refresh != old["refresh_token"] and refresh in fake.refresh_tokens
    assert (shop.access_token_expires_at, shop.refresh_token_expires_at) == (
        NOW + timedelta(hours=1), NOW + timedelta(days=90))
    assert old["refresh_token"] not in fake.refresh_tokens  # Shopify rotated it


def test_tokens_are_stored_encrypted(db: Database) -> None:
    fake = FakeShopify()
    seed_shop(db, fake, expires_in=timedelta(0))
    token = token_for(db, fake)
    shop, _, refresh = stored(db)
    assert token not in shop.access_token_enc and refresh not in shop.refresh_token_enc


def test_an_expired_refresh_token_means_the_merchant_must_open_the_app(db: Database) -> None:
    fake = FakeShopify()
    seed_shop(db, fake, expires_in=timedelta(0), refresh_expires_in=timedelta(seconds=-1))
    with pytest.raises(TokenUnavailable) as caught:
        token_for(db, fake)
    assert (caught.value.code, fake.calls) == ("refresh_token_expired", [])


def test_a_revoked_refresh_token_is_unavailable_to_a_job(db: Database) -> None:
    seed_shop(db, FakeShopify(), expires_in=timedelta(0))  # a fake that never saw it
    fake = FakeShopify()
    with pytest.raises(TokenUnavailable) as caught:
        token_for(db, fake)
    assert caught.value.code == "invalid_grant"


def test_a_revoked_refresh_token_falls_back_to_token_exchange_in_the_admin(
        db: Database) -> None:
    seed_shop(db, FakeShopify(), expires_in=timedelta(0))
    fake = FakeShopify()
    session_token = verify_admin_session_token(settings_for(db), admin_token())
    token = token_for(db, fake, session_token=session_token)
    assert [c["kind"] for c in fake.calls] == ["refresh", "token_exchange"]
    assert stored(db)[1] == token


def test_the_first_embedded_load_of_a_new_shop_installs_it_by_token_exchange(
        db: Database) -> None:
    fake = FakeShopify()
    id_token = admin_token()
    session_token = verify_admin_session_token(settings_for(db), id_token)
    with fake.client() as http, db.sessions() as session:
        outcome = ensure_access_token(session, SHOP, NOW, settings=settings_for(db), http=http,
                                      session_token=session_token)
    shop, access, refresh = stored(db)
    assert outcome.installed_now is True
    assert (shop.id, access, shop.installed_at, shop.uninstalled_at) == (
        outcome.shop_id, outcome.access_token, NOW, None)
    assert shop.access_token_expires_at == NOW + timedelta(hours=1)
    assert fake.calls_to("token_exchange")[0]["body"] == {
        "client_id": TEST_API_KEY, "client_secret": TEST_API_SECRET,
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": id_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
        "expiring": 1}


def test_a_reinstall_updates_the_existing_shop(db: Database) -> None:
    fake = FakeShopify()
    seed_shop(db, fake, expires_in=timedelta(hours=1))
    with db.transaction() as session:
        mark_uninstalled(session, SHOP, NOW - timedelta(hours=1))
        original_id = session.execute(select(Shop.id).where(Shop.domain == SHOP)).scalar_one()
    session_token = verify_admin_session_token(settings_for(db), admin_token())
    token_for(db, fake, session_token=session_token)
    shop, access, _ = stored(db)
    assert (shop.id, shop.installed_at, shop.uninstalled_at) == (original_id, NOW, None)
    assert [c["kind"] for c in fake.calls] == ["token_exchange"]
    assert access is not None


def test_an_uninstalled_shop_has_no_token_for_jobs(db: Database) -> None:
    fake = FakeShopify()
    seed_shop(db, fake, expires_in=timedelta(hours=1))
    with db.transaction() as session:
        mark_uninstalled(session, SHOP, NOW)
    with pytest.raises(TokenUnavailable) as caught:
        token_for(db, fake)
    assert (caught.value.code, fake.calls) == ("shop_not_installed", [])


def test_a_refused_exchange_installs_nothing(db: Database) -> None:
    fake = FakeShopify(refuse_exchange=True)
    session_token = verify_admin_session_token(settings_for(db), admin_token())
    with pytest.raises(TokenUnavailable) as caught:
        token_for(db, fake, session_token=session_token)
    with db.sessions() as session:
        assert session.execute(select(Shop)).first() is None
    assert caught.value.code == "invalid_subject_token"


def test_an_unknown_shop_has_no_token(db: Database) -> None:
    with pytest.raises(TokenUnavailable) as caught:
        token_for(db, FakeShopify())
    assert caught.value.code == "unknown_shop"


def test_two_workers_needing_a_refresh_at_once_refresh_only_once(pg: Database) -> None:
    fake = FakeShopify(delay_s=0.3)  # the first refresh is still in flight when the second asks
    seed_shop(pg, fake, expires_in=timedelta(seconds=30))
    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            tokens.append(token_for(pg, fake))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert len(fake.calls_to("refresh")) == 1
    assert tokens[0] == tokens[1] == stored(pg)[1]


def test_two_first_loads_of_a_new_shop_at_once_create_one_shop_and_exchange_once(
        pg: Database) -> None:
    fake = FakeShopify(delay_s=0.3)
    settings = settings_for(pg)
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def first_load() -> None:
        try:
            with fake.client() as http, pg.sessions() as session:
                outcomes.append(ensure_access_token(
                    session, SHOP, NOW, settings=settings, http=http,
                    session_token=verify_admin_session_token(settings, admin_token())))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=first_load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert len(fake.calls_to("token_exchange")) == 1
    assert sorted(o.installed_now for o in outcomes) == [False, True]
    assert outcomes[0].access_token == outcomes[1].access_token
    with pg.sessions() as session:
        assert len(session.execute(select(Shop)).all()) == 1
