"""Marketing consent from where Shopify puts it in API 2026-07, end to end over HTTP.

customers/create carries no consent any more; it arrives on
customers_email_marketing_consent/update, or, for a customer who subscribed before the app was
installed, from Admin GraphQL (`defaultEmailAddress { marketingState marketingUpdatedAt }`).
Webhooks go through the emulator, signed, to the app served on a port, real RQ workers apply
them, and the review requests go to a real SMTP server.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from app.db import utcnow
from app.models import Member, Message, WebhookEvent
from app.pipeline.jobs import run_due_messages
from tests.e2e.conftest import SHOP, eventually
from tests.support.smtp_fixture import smtp_server  # noqa: F401 (fixture)

NEW_YORK = ZoneInfo("America/New_York")
ADA = {"id": 9101, "email": "ada@example.com", "first_name": "Ada"}
GRACE = {"id": 9102, "email": "grace@example.com", "first_name": "Grace"}
JOAN = {"id": 9103, "email": "joan@example.com", "first_name": "Joan"}
CONSENT = "customers_email_marketing_consent/update"


def _install(running) -> None:
    """Installed through OAuth, then the merchant launches the program."""
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        browser.get(f"{running.url}/auth/install", params={"shop": SHOP})
    running.launch_program()


def _z(moment: datetime) -> str:
    """A naive UTC moment as Shopify writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _joins(emulator, customer: dict) -> None:
    """customers/create, Shopify's 2026-07 payload for this customer (no consent in it)."""
    payload = emulator.sample_payload("customers/create", customer_id=customer["id"],
                                      email=customer["email"],
                                      first_name=customer["first_name"])
    assert "email_marketing_consent" not in payload
    assert emulator.send_webhook(SHOP, "customers/create", payload)[0] == 200


def _consent(emulator, customer: dict, state: str, at: datetime | None, **headers) -> None:
    """customers_email_marketing_consent/update for the customer."""
    payload = emulator.sample_payload(CONSENT, customer_id=customer["id"],
                                      email=customer["email"], state=state,
                                      consent_updated_at=_z(at) if at else None)
    assert emulator.send_webhook(SHOP, CONSENT, payload, **headers)[0] == 200


def _buys_and_receives(emulator, customer: dict, order_id: int) -> None:
    """orders/paid, then orders/updated once the order is fulfilled."""
    now = _z(utcnow())
    common = {"shop": SHOP, "order_id": order_id, "customer_id": customer["id"],
              "email": customer["email"],
              "first_name": customer["first_name"], "test": False, "updated_at": now,
              "line_items": [{"id": order_id * 10, "title": "Loose-leaf tea", "price": "45.00",
                              "product_id": 7}]}
    paid = emulator.sample_payload("orders/paid", created_at=now, **common)
    assert emulator.send_webhook(SHOP, "orders/paid", paid)[0] == 200
    fulfilled = emulator.sample_payload("orders/updated", fulfillment_status="fulfilled",
                                        **common)
    assert emulator.send_webhook(SHOP, "orders/updated", fulfilled)[0] == 200


def _apply(running) -> None:
    """Run the workers until every delivery so far is applied: the app enqueues an event only
    after answering Shopify, so a single burst may start before the last one is queued."""
    def applied() -> bool:
        running.work()
        with running.db.sessions() as s:
            return not s.execute(select(WebhookEvent.id).where(
                WebhookEvent.processed_at.is_(None))).first()

    assert eventually(applied)


def _member(db, customer: dict) -> Member:
    with db.sessions() as s:
        return s.execute(select(Member).where(
            Member.customer_id == customer["id"])).scalar_one()


def _eleven_days_on() -> datetime:
    """10:00 in New York (the emulator shop's timezone) eleven days from now, in naive UTC:
    past the review request's ten days and outside quiet hours."""
    local = (utcnow() + timedelta(days=11)).replace(tzinfo=UTC).astimezone(NEW_YORK)
    morning = datetime.combine(local.date(), time(10), tzinfo=NEW_YORK)
    return morning.astimezone(UTC).replace(tzinfo=None)


def _review_requests(db) -> dict[int, tuple[str, str | None]]:
    """customer id → (status, reason) of their review request."""
    with db.sessions() as s:
        rows = s.execute(select(Member.customer_id, Message.status, Message.reason).join(
            Member, Member.id == Message.member_id).where(
            Message.kind == "review_request")).all()
    return {customer_id: (status, reason) for customer_id, status, reason in rows}


def test_a_customer_who_subscribes_after_joining_gets_the_review_request_and_one_who_never_did_not(
        serve_app, emulator, redis_url, smtp_server):  # noqa: F811 - the fixture imported above
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url, smtp_url=smtp_server.url)
    _install(running)
    _joins(emulator, ADA)
    _joins(emulator, GRACE)
    _apply(running)
    _consent(emulator, ADA, "subscribed", utcnow())
    _buys_and_receives(emulator, ADA, 71001)
    _buys_and_receives(emulator, GRACE, 71002)
    _apply(running)
    assert (_member(running.db, ADA).accepts_marketing,
            _member(running.db, GRACE).accepts_marketing) == (True, False)

    run_due_messages(running.runtime, _eleven_days_on().isoformat())
    assert _review_requests(running.db) == {ADA["id"]: ("sent", None),
                                            GRACE["id"]: ("suppressed", "no_marketing_consent")}
    assert [m["Subject"] for m in smtp_server.to(ADA["email"])
            if "How is your order" in m["Subject"]] == [
        "How is your order #72001? Earn 100 points"]
    assert not [m for m in smtp_server.to(GRACE["email"]) if "How is your order" in m["Subject"]]
    with running.db.sessions() as s:
        outcomes = s.execute(select(WebhookEvent.topic, WebhookEvent.outcome).where(
            WebhookEvent.topic == CONSENT)).all()
    assert outcomes == [(CONSENT, "processed")]


def test_a_customer_who_subscribed_before_the_install_is_asked_on_their_first_order(
        serve_app, emulator, redis_url, smtp_server):  # noqa: F811 - the fixture imported above
    emulator.add_shop(SHOP)
    # Joan subscribed long before the app existed: no consent webhook will ever come for her.
    emulator.shop(SHOP).add_customer(JOAN["id"], email=JOAN["email"], first_name="Joan",
                                     email_marketing_state="SUBSCRIBED",
                                     email_marketing_updated_at="2025-03-01T12:00:00Z")
    running = serve_app(redis_url=redis_url, smtp_url=smtp_server.url)
    _install(running)
    _buys_and_receives(emulator, JOAN, 71003)
    _apply(running)
    joan = _member(running.db, JOAN)
    assert (joan.accepts_marketing, joan.marketing_consent_updated_at) == (
        True, datetime(2025, 3, 1, 12, 0))
    lookups = [c for c in emulator.shop(SHOP).calls_to("customer")
               if "defaultEmailAddress" in c.query]
    assert len(lookups) == 1
    run_due_messages(running.runtime, _eleven_days_on().isoformat())
    assert _review_requests(running.db) == {JOAN["id"]: ("sent", None)}


def test_an_older_consent_update_arriving_late_never_overwrites_a_newer_one(
        serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    _install(running)
    _joins(emulator, ADA)
    _apply(running)
    now = utcnow().replace(microsecond=0)
    _consent(emulator, ADA, "subscribed", now)
    # Shopify retried an earlier unsubscribe: it arrives after the subscription it preceded.
    _consent(emulator, ADA, "unsubscribed", now - timedelta(hours=1))
    _apply(running)
    ada = _member(running.db, ADA)
    assert (ada.accepts_marketing, ada.marketing_consent_updated_at) == (True, now)
    _consent(emulator, ADA, "unsubscribed", now + timedelta(hours=1))
    _apply(running)
    assert _member(running.db, ADA).accepts_marketing is False


def test_an_undated_consent_update_is_ordered_by_when_shopify_sent_it(
        serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    _install(running)
    now = utcnow().replace(microsecond=0)
    _consent(emulator, ADA, "subscribed", None, triggered_at=_z(now))
    _consent(emulator, ADA, "not_subscribed", None,
             triggered_at=_z(now - timedelta(minutes=5)))
    _apply(running)
    ada = _member(running.db, ADA)
    assert (ada.accepts_marketing, ada.marketing_consent_updated_at) == (True, now)


def test_consent_for_a_customer_not_met_yet_waits_for_their_first_order(
        serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    _install(running)
    _consent(emulator, GRACE, "subscribed", utcnow())
    _apply(running)
    _buys_and_receives(emulator, GRACE, 71004)
    _apply(running)
    with running.db.sessions() as s:
        members = s.execute(select(Member.customer_id, Member.accepts_marketing)).all()
    assert members == [(GRACE["id"], True)]
