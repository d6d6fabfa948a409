"""Fault tests: the app's real processes broken on purpose; nothing may be lost or doubled.

Quick cases run with the rest of the suite (`make test`, CI). Cases marked `slow` (their own
PostgreSQL cluster, or waiting out RQ's heartbeat) run only with FAULTS=all: `make faults`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app import create_app
from app.db import Database, utcnow
from app.loyalty.ledger import ledger_balances
from app.models import LedgerEntry, Member, WebhookEvent
from devstore.payloads import customer_payload, order_payload, refund_payload
from tests.conftest import app_config
from tests.faults.processes import RQWorker, app_environment
from tests.support.emulator_fixture import live_app_server
from tests.support.factories import make_shop
from tests.support.webhook_signing import signed_headers

HERE = Path(__file__).resolve().parent
SHOP = "faults.myshopify.com"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this folder's slow cases unless FAULTS=all asks for every one of them."""
    if os.environ.get("FAULTS") == "all":
        return
    skip = pytest.mark.skip(reason="slow fault case: run `make faults` (FAULTS=all)")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).parents:
            item.add_marker(skip)


def now_iso() -> str:
    """Shopify's timestamp style for 'now' (the return window starts at the order's update)."""
    return utcnow().isoformat(timespec="seconds") + "Z"


def paid_order(order_id: int, customer_id: int, prices: list[str]) -> dict[str, Any]:
    """orders/paid for a customer: one line per price, quantity 1, paid now, not a test."""
    now = now_iso()
    return order_payload(
        "orders/paid", order_id=order_id, customer_id=customer_id,
        email=f"c{customer_id}@example.com", first_name=f"C{customer_id}",
        line_items=[{"id": order_id * 10 + n, "title": f"Item {n}", "price": price,
                     "quantity": 1, "product_id": 1} for n, price in enumerate(prices)],
        test=False, updated_at=now, created_at=now, processed_at=now)


def refund_of(order: dict[str, Any], line_index: int, refund_id: int) -> dict[str, Any]:
    """refunds/create giving back one line of the order."""
    line_id = order["line_items"][line_index]["id"]
    return refund_payload(order, line_items=[(line_id, 1)], refund_id=refund_id,
                          created_at=now_iso())


def cancelled(order: dict[str, Any]) -> dict[str, Any]:
    """The same order as orders/cancelled delivers it."""
    return {**order, "cancelled_at": now_iso(), "cancel_reason": "customer",
            "financial_status": "refunded"}


def customer_created(customer_id: int) -> dict[str, Any]:
    """customers/create for a customer (the welcome bonus)."""
    return customer_payload(customer_id, email=f"c{customer_id}@example.com",
                            first_name=f"C{customer_id}")


class Deliveries:
    """Signed deliveries posted over HTTP to a running app, as Shopify sends them."""

    def __init__(self, base_url: str, shop: str = SHOP):
        """Send to base_url/webhooks for `shop`."""
        self.url = base_url.rstrip("/") + "/webhooks"
        self.shop = shop
        self.client = httpx.Client(timeout=15)

    def post(self, topic: str, payload: Any, webhook_id: str,
             **headers_override: str) -> httpx.Response:
        """POST one delivery; the same webhook_id is what Shopify keeps across retries."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = signed_headers(body, topic, self.shop, webhook_id=webhook_id)
        headers.update(headers_override)
        return self.client.post(self.url, content=body, headers=headers)

    def post_many(self, deliveries: list[tuple[str, Any, str]], threads: int = 8
                  ) -> list[int]:
        """POST (topic, payload, webhook_id) deliveries concurrently; their status codes."""
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda d: self.post(*d).status_code, deliveries))

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


@pytest.fixture
def shop_installed(pg: Database) -> Database:
    """The shared test PostgreSQL with the fault tests' shop installed."""
    with pg.transaction() as session:
        make_shop(session, domain=SHOP)
    return pg


@pytest.fixture
def served(shop_installed: Database, redis_url: str) -> Iterator[tuple[Any, Deliveries]]:
    """The app over HTTP (threaded server) on the test PostgreSQL and Redis."""
    app = create_app(app_config(shop_installed, redis_url=redis_url))
    with live_app_server(app) as url:
        deliveries = Deliveries(url)
        try:
            yield app, deliveries
        finally:
            deliveries.close()


@pytest.fixture
def workers() -> Iterator[Callable[..., RQWorker]]:
    """Start real `rq worker` processes; every one is stopped after the test."""
    started: list[RQWorker] = []

    def start(database_url: str, redis_url: str, **options: Any) -> RQWorker:
        """One worker on the webhooks queue of that database and Redis."""
        worker = RQWorker(app_environment(database_url, redis_url), **options).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def events(db: Database) -> list[WebhookEvent]:
    """Every inbox row, oldest first."""
    with db.sessions() as session:
        return session.execute(select(WebhookEvent).order_by(WebhookEvent.id)).scalars().all()


def member_points(db: Database, customer_id: int) -> tuple[int, int, int]:
    """(available, pending, lifetime) of a customer's member, checked against the ledger."""
    with db.sessions() as session:
        member = session.execute(select(Member).where(
            Member.customer_id == customer_id)).scalar_one()
        sums = ledger_balances(session, member.id, utcnow())
        cached = (member.points_available, member.points_pending, member.points_lifetime)
        assert cached == (sums.available, sums.pending, sums.lifetime), (
            f"cached balances {cached} differ from the ledger {sums}")
        return cached


def ledger_kinds(db: Database, customer_id: int) -> list[tuple[str, int]]:
    """(kind, points) of a customer's ledger entries in the order they were written."""
    with db.sessions() as session:
        return [(e.kind, e.points) for e in session.execute(
            select(LedgerEntry).join(Member, Member.id == LedgerEntry.member_id)
            .where(Member.customer_id == customer_id).order_by(LedgerEntry.id)).scalars()]


def all_processed(db: Database) -> bool:
    """Whether every inbox row has been applied (or recorded as ignored or failed)."""
    rows = events(db)
    return bool(rows) and all(e.processed_at is not None for e in rows)
