"""Fixtures for the checkout extension tests: one build for one origin, and the real app on it.

`extension_build` runs `shopify app build` once per session with SHOPIFY_APP_URL set to the
`app_slot` origin. `checkout_backend` mounts the real Flask app there for one test: pointed at
the Shopify emulator, the shop installed through OAuth over HTTP, orders paid through signed
webhooks, session tokens minted by the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.db import Database, utcnow
from app.models import Order, Shop, SurveyResponse
from devstore import BackgroundServer, ShopifyEmulator
from tests.conftest import app_config
from tests.extensions.checkout.harness import (
    AppSlot,
    Build,
    require_node_modules,
    run_shopify_build,
)

SHOP = "loyalty-loop-test.myshopify.com"
# The customer of Shopify's orders/paid sample (devstore/samples/webhooks/2026-07).
ADA = 115310627314723954
MEMBER_ORDER_ID = 820982911946154508
GUEST_ORDER_ID = 820982911946154509
PROCESSING_TIMEOUT_S = 10.0


@pytest.fixture(scope="session")
def app_slot() -> Iterator[AppSlot]:
    """The origin the bundles call, on a free loopback port, for the whole session."""
    slot = AppSlot()
    server = BackgroundServer(slot.wsgi)
    slot.url = server.start()
    yield slot
    server.stop()


@pytest.fixture(scope="session")
def extension_build(app_slot: AppSlot) -> Build:
    """`shopify app build` once per session, the bundles calling the app slot."""
    require_node_modules()
    return run_shopify_build(app_slot.url)


@dataclass
class RunningCheckout:
    """The real app behind the slot, the emulator playing Shopify, and the shop's orders."""

    app: Flask
    url: str
    db: Database
    emulator: ShopifyEmulator
    slot: AppSlot

    def token(self, customer_id: int | None = None) -> str:
        """What `shopify.sessionToken.get()` returns on the shop's thank-you page."""
        return self.emulator.mint_extension_session_token(SHOP, customer_id=customer_id)

    def order_payload(self, order_id: int, customer_id: int | None, price: str, *,
                      paid_at: datetime, quantity: int = 1, **extra: Any) -> dict[str, Any]:
        """An orders/paid body: one line of tea (shipping never earns), paid at `paid_at`."""
        stamp = paid_at.isoformat() + "Z"
        extra.setdefault("test", False)
        return self.emulator.sample_payload(
            "orders/paid", shop=SHOP, order_id=order_id, customer_id=customer_id,
            email=extra.pop("email", "ada@example.com"), first_name="Ada",
            created_at=stamp, updated_at=stamp,
            line_items=[{"id": order_id * 10, "title": "Tea", "price": price,
                         "quantity": quantity, "product_id": 1}], **extra)

    def shopify_knows(self, payload: dict[str, Any]) -> None:
        """Shopify has the order (order(id:) answers) before orders/paid reached the app."""
        with self.emulator.lock:
            self.emulator.shop(SHOP).orders[int(payload["id"])] = payload

    def pay(self, payload: dict[str, Any]) -> None:
        """Deliver orders/paid, signed, and wait until the app has recorded the order."""
        status, text = self.emulator.send_webhook(SHOP, "orders/paid", payload)
        assert status == 200, text
        deadline = time.monotonic() + PROCESSING_TIMEOUT_S
        while self._order_status(int(payload["id"])) != "paid":
            assert time.monotonic() < deadline, "orders/paid was not processed in time"
            time.sleep(0.05)

    def _order_status(self, order_id: int) -> str | None:
        """The recorded order's status, None while unknown."""
        with self.db.sessions() as session:
            return session.execute(select(Order.status).where(
                Order.shopify_order_id == order_id)).scalar_one_or_none()

    def survey_responses(self) -> list[SurveyResponse]:
        """Every stored NPS answer."""
        with self.db.sessions() as session:
            return list(session.execute(select(SurveyResponse)).scalars())


def buyer(customer_id: int) -> dict[str, str]:
    """`buyerIdentity.customer` as the hosts give it for a logged-in buyer (a guest has none)."""
    return {"id": f"gid://shopify/Customer/{customer_id}"}


def yesterday_noon() -> datetime:
    """A payment time safely in the past whose UTC and New York dates agree."""
    return (utcnow() - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def long_date(day: date) -> str:
    """How the panel writes a date in en-US: December 27, 2026."""
    return f"{day:%B} {day.day}, {day.year}"


@pytest.fixture
def checkout_backend(db: Database, emulator: ShopifyEmulator,
                     app_slot: AppSlot) -> Iterator[RunningCheckout]:
    """The real app mounted on the slot against the emulator, with the shop installed."""
    app = create_app(app_config(db, shopify_admin_base=emulator.base_url,
                                shopify_app_url=app_slot.url))
    emulator.app_url = app_slot.url
    emulator.add_shop(SHOP, name="Loyalty Loop Test Tea", currency="USD")
    with app_slot.mount(app):
        with httpx.Client(follow_redirects=True, timeout=10) as browser:
            browser.get(f"{app_slot.url}/auth/install", params={"shop": SHOP})
            # The merchant launches the program: a new install shows shoppers nothing. No
            # holdout, so no customer here is drawn out of the program at random.
            launched = browser.post(
                f"{app_slot.url}/admin/onboarding/launched", json={"holdout_share": 0},
                headers={"Authorization": f"Bearer {emulator.mint_admin_session_token(SHOP)}"})
            assert launched.json()["state"] == "live", launched.text
        with db.sessions() as session:
            shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
            assert shop.is_installed
        with app_slot.lock:
            app_slot.received.clear()
        yield RunningCheckout(app, app_slot.url, db, emulator, app_slot)
    http = app.extensions.get("shopify_http")
    if http is not None:
        http.close()
