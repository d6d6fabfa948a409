"""A shop with the app installed, its Shopify played by the emulator, and the checkout API.

Orders reach the ledger through the same business events the webhook worker runs
(app.loyalty.events), at fixed times, so dates and points are exact. Session tokens are minted
by the emulator (shopify-notes §6 claims) at the wall-clock time PyJWT checks them against;
the views run on the fixed clock injected as `shopify_clock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.db import Database
from app.loyalty import events
from app.loyalty.launch import launch
from app.loyalty.members import enrol
from app.loyalty.program import save_settings
from app.models import LedgerEntry, Member, Shop, SurveyResponse
from app.shopify.tokens import TokenGrant, cipher_for, store_grant
from devstore import ShopifyEmulator
from tests.conftest import app_config

SHOP = "thank-you-test.myshopify.com"
ADA = 115310627314723954
GRACE = 7002
# The views' clock; orders are paid an hour earlier.
NOW = datetime(2026, 11, 27, 15, 0, 0)
PAID_AT = "2026-11-27T14:00:00Z"


@dataclass
class CheckoutShop:
    """The app on the test database, the emulator as Shopify, and helpers for one shop."""

    app: Flask
    client: FlaskClient
    db: Database
    emulator: ShopifyEmulator

    def token(self, customer_id: int | None = None, **kwargs: Any) -> str:
        """An extension session token for the shop, as `shopify.sessionToken.get()` gives."""
        return self.emulator.mint_extension_session_token(SHOP, customer_id=customer_id,
                                                          **kwargs)

    def get_order(self, order_id: int | str, token: str | None, *, surface: str | None = None
                  ) -> Any:
        """GET /api/checkout/order/<id> with the token as Bearer."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        query = {"surface": surface} if surface else {}
        return self.client.get(f"/api/checkout/order/{order_id}", headers=headers,
                               query_string=query)

    def post_nps(self, body: dict[str, Any], token: str, *, surface: str | None = None) -> Any:
        """POST /api/checkout/nps with the token as Bearer."""
        query = {"surface": surface} if surface else {}
        return self.client.post("/api/checkout/nps", json=body, query_string=query,
                                headers={"Authorization": f"Bearer {token}"})

    def order_payload(self, order_id: int, customer_id: int | None, price: str,
                      quantity: int = 1, **extra: Any) -> dict[str, Any]:
        """An orders/paid body: one line of goods, 10.00 shipping, paid at PAID_AT."""
        extra.setdefault("updated_at", PAID_AT)
        extra.setdefault("created_at", PAID_AT)
        extra.setdefault("test", False)
        return self.emulator.sample_payload(
            "orders/paid", shop=SHOP, order_id=order_id, customer_id=customer_id,
            email=extra.pop("email", f"c{customer_id or 'guest'}@example.com"),
            first_name=extra.pop("first_name", "Ada"),
            line_items=[{"id": order_id * 10, "title": "Tea", "price": price,
                         "quantity": quantity, "product_id": 1}], **extra)

    def shopify_knows(self, payload: dict[str, Any]) -> None:
        """Shopify has the order (so order(id:) answers) before any webhook reached us."""
        with self.emulator.lock:
            self.emulator.shop(SHOP).orders[int(payload["id"])] = payload

    def apply(self, business_event: Any, payload: dict[str, Any], now: datetime = NOW) -> None:
        """Apply a webhook's business event as the worker does, in its own transaction."""
        with self.db.transaction() as session:
            shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
            business_event(session, shop, payload, now)

    def pay(self, payload: dict[str, Any]) -> None:
        """orders/paid for the order."""
        self.shopify_knows(payload)
        self.apply(events.order_paid, payload)

    def enrol(self, customer_id: int, first_name: str = "Ada") -> None:
        """The customer is a member already (customers/create)."""
        with self.db.transaction() as session:
            shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
            enrol(session, shop, now=NOW, customer_id=customer_id,
                  email=f"c{customer_id}@example.com", first_name=first_name)

    def save_settings(self, changes: dict[str, Any]) -> None:
        """The merchant saves program settings."""
        with self.db.transaction() as session:
            shop_id = session.execute(select(Shop.id).where(Shop.domain == SHOP)).scalar_one()
            save_settings(session, shop_id, changes, changed_by="test", now=NOW)

    def member(self, customer_id: int) -> Member:
        """The member of a customer."""
        with self.db.sessions() as session:
            return session.execute(
                select(Member).where(Member.customer_id == customer_id)).scalar_one()

    def survey_responses(self) -> list[SurveyResponse]:
        """Every stored NPS answer."""
        with self.db.sessions() as session:
            return list(session.execute(select(SurveyResponse)).scalars())

    def ledger_kinds(self, customer_id: int) -> list[tuple[str, int]]:
        """(kind, points) of a customer's entries, oldest first."""
        member = self.member(customer_id)
        with self.db.sessions() as session:
            return [(e.kind, e.points) for e in session.execute(
                select(LedgerEntry).where(LedgerEntry.member_id == member.id)
                .order_by(LedgerEntry.id)).scalars()]


def install_shop(db: Database, emulator: ShopifyEmulator, app: Flask) -> None:
    """The shop installed the app: an offline token from the emulator, stored encrypted."""
    emulator.add_shop(SHOP, name="Tea Room", currency="USD")
    issued = emulator.issue_access_token(SHOP, expiring=False)
    settings = app.extensions["runtime"].settings
    grant = TokenGrant(access_token=issued.access_token, scope=issued.scope, expires_at=None,
                       refresh_token=None, refresh_token_expires_at=None)
    with db.transaction() as session:
        shop, _ = store_grant(session, SHOP, grant, NOW, cipher_for(settings))
        shop.name, shop.timezone = "Tea Room", "America/New_York"
        launch(shop, NOW, holdout_share=0)


def _running(db: Database, emulator: ShopifyEmulator) -> Iterator[CheckoutShop]:
    """The app against the emulator, one installed shop, views on the fixed clock."""
    app = create_app(app_config(db, shopify_admin_base=emulator.base_url))
    app.extensions["shopify_clock"] = lambda: NOW.replace(tzinfo=UTC).timestamp()
    install_shop(db, emulator, app)
    yield CheckoutShop(app, app.test_client(), db, emulator)
    http = app.extensions.get("shopify_http")
    if http is not None:
        http.close()


@pytest.fixture
def checkout(db: Database, emulator: ShopifyEmulator) -> Iterator[CheckoutShop]:
    """The checkout API of one installed shop, on SQLite and on PostgreSQL."""
    yield from _running(db, emulator)


@pytest.fixture
def pg_checkout(pg: Database, emulator: ShopifyEmulator) -> Iterator[CheckoutShop]:
    """The same on PostgreSQL only, for requests that race each other."""
    yield from _running(pg, emulator)
