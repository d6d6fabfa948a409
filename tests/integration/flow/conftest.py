"""A live shop installed in the emulator (a real offline token) with one member holding 1,000
points, the app served over HTTP so the emulator can run Flow actions against it, jobs inline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import Database, utcnow
from app.models import FlowTrigger, LedgerEntry, Member, Shop
from devstore import BackgroundServer, ShopifyEmulator
from tests.support.installed import live_shop_with_member

SHOP = "flow-shop.myshopify.com"
CUSTOMER_ID = 7_310_627_314_723_956
CUSTOMER_GID = f"gid://shopify/Customer/{CUSTOMER_ID}"



@dataclass
class FlowShop:
    """The app, its URL, the emulator as Shopify and Flow, and helpers for one shop."""

    app: Flask
    url: str
    db: Database
    emulator: ShopifyEmulator
    rewards: dict[str, int]

    def member(self) -> Member:
        with self.db.sessions() as s:
            return s.execute(select(Member).where(Member.customer_id == CUSTOMER_ID)
                             ).scalar_one()

    def received(self, handle: str | None = None) -> list[dict[str, Any]]:
        """The triggers Flow received, oldest first."""
        return [t for t in self.emulator.shop(SHOP).flow_triggers
                if handle is None or t["handle"] == handle]

    def rows(self) -> list[FlowTrigger]:
        with self.db.sessions() as s:
            return list(s.execute(select(FlowTrigger).order_by(FlowTrigger.id)).scalars())

    def ledger(self) -> list[tuple[str, int, str | None, str | None]]:
        with self.db.sessions() as s:
            return [(e.kind, e.points, e.note, e.actor) for e in s.execute(
                select(LedgerEntry).order_by(LedgerEntry.id)).scalars()]

    def eventually(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """check()'s first truthy answer: jobs a request deferred run after its response."""
        deadline = time.monotonic() + timeout
        while not (answer := check()):
            assert time.monotonic() < deadline, "the deferred jobs did not run in time"
            time.sleep(0.02)
        return answer

    def shop(self, session: Any) -> Shop:
        return session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()


@pytest.fixture
def flow_shop(db: Database, emulator: ShopifyEmulator) -> Iterator[FlowShop]:
    now = utcnow()
    app, rewards = live_shop_with_member(db, emulator, SHOP, CUSTOMER_ID, now, tier="Bronze")
    server = BackgroundServer(app)
    url = server.start()
    emulator.app_url = url
    yield FlowShop(app, url, db, emulator, rewards)
    server.stop()
    http = app.extensions.get("shopify_http")
    if http is not None:
        http.close()
