"""A shop in New York with a real SMTP server, driven through the business events on a frozen
clock: every step names its moment, and `run_due(at)` sends what is due at that moment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from app.db import Database
from app.loyalty import events
from app.loyalty.program import save_settings
from app.loyalty.rewards import seed_default_rewards
from app.messaging.dispatch import send_due
from app.models import Member, Message, Shop
from app.pipeline import topics
from app.pipeline.enqueue import AfterCommit, after_commit
from app.pipeline.jobs import daily_round_of, dispatcher_for
from devstore.payloads import consent_payload, customer_payload
from tests.conftest import app_config
from tests.support.factories import make_shop
from tests.support.order_payloads import iso, line, paid_order, refund
from tests.support.smtp_fixture import SmtpTestServer, smtp_server  # noqa: F401 (fixture)

NEW_YORK = "America/New_York"
# Monday 2 November 2026, 10:00 in New York (EST, UTC-5): outside the default quiet hours.
T0 = datetime(2026, 11, 2, 15, 0)
JOINED = T0 - timedelta(days=60)
TEA = 7_100_000_000_000_000_001
CUPS = 7_100_000_000_000_000_002


def days(n: float) -> timedelta:
    """n days."""
    return timedelta(days=n)


@dataclass
class Shopfront:
    """One shop, its app (jobs inline), its SMTP server and a test client for the links."""

    app: Flask
    db: Database
    smtp: SmtpTestServer
    shop_id: int
    names: dict[int, str] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction, as a worker would own it."""
        with self.db.transaction() as session:
            yield session

    def jobs(self, session: Session) -> AfterCommit:
        """The session's after-commit jobs, on the app's queue (inline: wake-ups are left to
        `run_due`)."""
        return after_commit(session, self.app.extensions["runtime"].queue)

    def shop(self, session: Session) -> Shop:
        """The shop row in this session."""
        return session.get(Shop, self.shop_id)

    def settings(self, **engagement: Any) -> None:
        """Save engagement settings (a new settings version)."""
        with self.session() as s:
            save_settings(s, self.shop_id, {"engagement": engagement}, changed_by="test",
                          now=T0 - days(30))

    def customer(self, customer_id: int, email: str, first_name: str, *,
                 consent: bool = True, at: datetime = JOINED) -> int:
        """A customer account joins (customers/create, Shopify's 2026-07 payload) and, with
        consent, subscribes to email marketing (customers_email_marketing_consent/update)."""
        payload = customer_payload(customer_id, email=email, first_name=first_name,
                                   last_name="Tester")
        self.names[customer_id] = first_name
        with self.session() as s:
            events.customer_joined(s, self.shop(s), payload, at, welcome=False)
            if consent:
                events.marketing_consent_updated(s, self.shop(s), consent_payload(
                    customer_id, email=email, state="subscribed",
                    consent_updated_at=iso(at)), at)
            return s.execute(select(Member.id).where(
                Member.customer_id == customer_id)).scalar_one()

    def pay(self, order_id: int, customer_id: int, email: str, price: str, at: datetime, *,
            product_id: int = TEA, title: str = "Loose-leaf tea", quantity: int = 1,
            **extra: Any) -> events.EventOutcome:
        """orders/paid for one product, paid at `at` and processed then."""
        item = line(price, quantity, line_id=order_id * 10, title=title)
        item["product_id"] = product_id
        self.orders[order_id] = {"lines": [item], "customer_id": customer_id, "email": email}
        payload = paid_order(order_id, updated_at=at, customer_id=customer_id, email=email,
                             lines=[item], name=f"#{order_id}", **extra)
        payload["shipping_lines"] = []
        # The order's customer is the member we know, under the same name.
        payload["customer"].update(first_name=self.names.get(customer_id, "Shopper"),
                                   last_name="Tester")
        with self.session() as s:
            return topics.order_paid(s, self.shop(s), payload, at, self.jobs(s))

    def fulfil(self, order_id: int, at: datetime) -> events.EventOutcome:
        """orders/updated saying the order was fulfilled at `at`."""
        placed = self.orders[order_id]
        payload = paid_order(order_id, updated_at=at, name=f"#{order_id}",
                             customer_id=placed["customer_id"], email=placed["email"],
                             lines=placed["lines"], fulfillment_status="fulfilled",
                             fulfillments=[{"id": order_id + 1, "status": "success",
                                            "created_at": iso(at)}])
        with self.session() as s:
            return topics.order_updated(s, self.shop(s), payload, at, self.jobs(s))

    def refund(self, refund_id: int, order_id: int, amount: str,
               at: datetime) -> events.EventOutcome:
        """refunds/create for part of an order."""
        with self.session() as s:
            return topics.refund_created(
                s, self.shop(s), refund(refund_id, order_id, subtotals=[amount], created_at=at),
                at, self.jobs(s))

    def daily(self, at: datetime) -> Any:
        """The shop's daily round at `at`."""
        with self.session() as s:
            return daily_round_of(s, self.shop(s), at, self.jobs(s))

    def run_due(self, at: datetime) -> Counter[str]:
        """Send what is due at `at`, through the real SMTP server."""
        return send_due(dispatcher_for(self.app.extensions["runtime"]), at)

    def messages(self, kind: str | None = None) -> list[Message]:
        """The shop's messages (of one kind), oldest first."""
        with self.db.sessions() as s:
            query = select(Message).where(Message.shop_id == self.shop_id)
            if kind is not None:
                query = query.where(Message.kind == kind)
            return list(s.execute(query.order_by(Message.id)).scalars())

    def message(self, kind: str) -> Message:
        """The shop's only message of a kind."""
        [message] = self.messages(kind)
        return message

    def inbox(self, address: str) -> list[EmailMessage]:
        """What the SMTP server received for an address."""
        return self.smtp.to(address)

    def member(self, member_id: int) -> Member:
        """A fresh copy of a member row."""
        with self.db.sessions() as s:
            return s.get(Member, member_id)

    def client(self, at: datetime) -> FlaskClient:
        """A browser on the app, with the app's clock at `at` for the link pages."""
        self.app.extensions["engagement_clock"] = lambda: at
        return self.app.test_client()


@pytest.fixture
def shopfront(db: Database, smtp_server: SmtpTestServer) -> Shopfront:  # noqa: F811
    """An installed shop in New York with default rewards, and its app sending by SMTP."""
    return build_shopfront(db, smtp_server)


def build_shopfront(db: Database, smtp: SmtpTestServer) -> Shopfront:
    """The shopfront on a given database (the fixture's, or PostgreSQL only)."""
    app = create_app(app_config(db, smtp_url=smtp.url))
    with db.transaction() as s:
        shop = make_shop(s, domain="tea-and-co.myshopify.com", name="Tea & Co",
                         timezone=NEW_YORK, email="owner@tea.example",
                         installed_at=T0 - days(90))
        seed_default_rewards(s, shop, T0 - days(90))
        shop_id = shop.id
    return Shopfront(app, db, smtp, shop_id)
