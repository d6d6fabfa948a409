"""An app with one installed shop and requests signed the way Shopify's admin signs them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.db import Database
from app.models import Shop
from tests.conftest import app_config
from tests.support.factories import T0, make_shop
from tests.support.shopify_fakes import admin_token

SHOP = "loop-admin.myshopify.com"
OTHER_SHOP = "other-admin.myshopify.com"
HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvbG9vcC1hZG1pbg"
STAFF = "42"
# The admin's clock in these tests: an hour after the factories' T0.
NOW = T0 + timedelta(hours=1)


@dataclass
class AdminSession:
    """The app, its database, and a staff member of SHOP calling it from the embedded admin."""

    app: Flask
    client: FlaskClient
    db: Database
    shop_id: int

    def page(self, path: str, *, shop: str = SHOP, user_id: str = STAFF, token: str | None = None,
             **query: Any) -> Any:
        """A document load as Shopify's admin makes it: `id_token` and the shop in the query."""
        params = {"embedded": "1", "host": HOST, "shop": shop,
                  "id_token": token or admin_token(shop, user_id=user_id), **query}
        return self.client.get(f"{path}?{urlencode(params)}")

    def fetch(self, path: str, body: Any = None, *, shop: str = SHOP, user_id: str = STAFF,
              token: str | None = None, method: str = "POST") -> Any:
        """An App Bridge fetch: the session token in the Authorization header."""
        headers = {"Authorization": f"Bearer {token or admin_token(shop, user_id=user_id)}"}
        return self.client.open(path, method=method, json=body, headers=headers)

    def shop(self) -> Shop:
        """The shop row as committed."""
        with self.db.sessions() as session:
            return session.get(Shop, self.shop_id)


def install_shop(db: Database, domain: str, **attrs: Any) -> int:
    """An installed shop; its id."""
    with db.transaction() as session:
        existing = session.execute(select(Shop).where(Shop.domain == domain)).scalar_one_or_none()
        if existing is not None:
            return existing.id
        return make_shop(session, domain, installed_at=T0, timezone="UTC", **attrs).id


def _admin(db: Database, *, live: bool) -> AdminSession:
    app = create_app(app_config(db))
    app.extensions["admin_clock"] = lambda: NOW
    shop_id = install_shop(db, SHOP, live=live)
    install_shop(db, OTHER_SHOP)
    return AdminSession(app, app.test_client(), db, shop_id)


@pytest.fixture
def admin(db: Database) -> Iterator[AdminSession]:
    """SHOP installed with its program live (and OTHER_SHOP, for isolation tests); the app on
    the test database."""
    yield _admin(db, live=True)


@pytest.fixture
def draft_admin(db: Database) -> Iterator[AdminSession]:
    """SHOP just installed: its program is a draft nobody has launched yet."""
    yield _admin(db, live=False)
