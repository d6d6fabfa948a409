"""Billing through Shopify's Billing API, end to end against the emulator over HTTP: the plan
asked for, approved (or declined) on Shopify's confirmation page, back at the app's return URL,
`app_subscriptions/update` applied, usage counted on paid unrefunded orders that earned points
and charged once per closed period within the approved cap; passing a limit never stops the
program."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import insert, select

from app.db import utcnow
from app.loyalty.billing import billable_orders, billing_status
from app.loyalty.events import order_paid
from app.models import BillingSubscription, Order, Shop, UsageCharge
from app.pipeline.billing import charge_closed_periods
from devstore import payloads as emulated
from tests.integration.backfill.conftest import SHOP
from tests.support.shopify_fakes import admin_token


def subscribe(url: str, body: dict) -> requests.Response:
    return requests.post(f"{url}/admin/billing/subscribe", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {admin_token(SHOP)}"})


def page(url: str, **query: str) -> str:
    params = {"embedded": "1", "shop": SHOP, "host": "aGlzdG9yeQ", "id_token": admin_token(SHOP),
              **query}
    return requests.get(f"{url}/admin/billing?{urlencode(params)}", timeout=30).text


def shop_id(db) -> int:
    with db.sessions() as session:
        return session.execute(select(Shop.id).where(Shop.domain == SHOP)).scalar_one()


def subscription(db) -> BillingSubscription:
    with db.sessions() as session:
        return session.execute(select(BillingSubscription)
                               .order_by(BillingSubscription.id.desc())).scalars().first()


def decide(confirmation_url: str, decision: str) -> requests.Response:
    """The merchant on Shopify's page: it shows the plan, then sends them back to the app."""
    shown = requests.get(confirmation_url, timeout=30)
    assert shown.status_code == 200 and "Approve subscription" in shown.text
    return requests.post(confirmation_url, data={"decision": decision}, timeout=30)


ORDER_IDS = itertools.count(10_000_000)


def add_orders(db, count: int, paid_at, **values) -> None:
    """Recorded orders that earned points (a live program's orders/paid would write them)."""
    rows = [{"shop_id": shop_id(db), "shopify_order_id": next(ORDER_IDS), "status": "paid",
             "paid_at": paid_at, "points_awarded": 50,
             "eligible_amount": Decimal("10.00"), "refunded_amount": Decimal(0),
             "total_price": Decimal("10.00"), "currency": "USD", "test": False,
             "taxes_included": False, "created_at": paid_at, **values}
            for _ in range(count)]
    with db.transaction() as session:
        session.execute(insert(Order), rows)


def test_the_merchant_approves_a_plan_and_returns_to_the_app_with_it_active(db, billing,
                                                                            emulator):
    app, url = billing
    assert 'data-plan="free"' in page(url)
    query = urlencode({"embedded": "1", "shop": SHOP, "host": "aGlzdG9yeQ",
                       "id_token": admin_token(SHOP)})
    assert "data-billing-notice" not in requests.get(f"{url}/admin/history?{query}",
                                                     timeout=30).text

    answer = subscribe(url, {"plan": "growth", "capped_amount": "75"})

    assert answer.status_code == 200
    pending = subscription(db)
    assert (pending.status, pending.plan, pending.capped_amount, pending.test) == (
        "PENDING", "growth", Decimal("75.00"), True)
    shopify = emulator.shop(SHOP).app_subscriptions[int(pending.shopify_subscription_id
                                                         .rsplit("/", 1)[1])]
    assert shopify.test is True
    assert [(i.kind, i.price, i.capped_amount) for i in shopify.line_items] == [
        ("recurring", Decimal("19.00"), Decimal(0)), ("usage", Decimal(0), Decimal("75.00"))]
    back = decide(answer.json()["confirmation_url"], "approve")
    # Shopify sent the merchant to the return URL, which opened the app with charge_id.
    assert back.status_code == 200
    assert f"charge_id={shopify.id}" in back.url
    assert 'data-billing-returned="approved"' in back.text and 'data-plan="growth"' in back.text
    active = subscription(db)
    assert active.status == "ACTIVE" and active.activated_at is not None
    assert active.usage_line_item_id.startswith("gid://shopify/AppSubscriptionLineItem/")


def test_a_declined_plan_leaves_the_shop_on_free_and_the_webhook_records_it(db, billing):
    app, url = billing
    answer = subscribe(url, {"plan": "growth"})
    back = decide(answer.json()["confirmation_url"], "decline")
    assert 'data-billing-returned="declined"' in back.text and 'data-plan="free"' in back.text
    assert subscription(db).status == "DECLINED"


@pytest.mark.parametrize("body, field", [({"plan": "free"}, "plan"), ({"plan": "gold"}, "plan"),
                                          ({"plan": "growth", "capped_amount": "0"},
                                           "capped_amount"),
                                          ({"plan": "growth", "capped_amount": "lots"},
                                           "capped_amount"),
                                          ({"plan": "growth", "capped_amount": True},
                                           "capped_amount")])
def test_a_plan_that_cannot_be_asked_for_is_a_422_and_asks_shopify_nothing(db, billing,
                                                                           emulator, body, field):
    app, url = billing
    answer = subscribe(url, body)
    assert answer.status_code == 422
    assert list(answer.json()["fields"]) == [field]
    assert emulator.shop(SHOP).app_subscriptions == {}


def test_usage_counts_paid_unrefunded_orders_that_earned_and_is_charged_once_within_the_cap(
        db, billing, emulator):
    app, url = billing
    decide(subscribe(url, {"plan": "growth", "capped_amount": "5.00"}).json()[
        "confirmation_url"], "approve")
    active = subscription(db)
    start = active.activated_at
    day = start + timedelta(days=3)
    add_orders(db, 1_150, day)                                       # counted
    add_orders(db, 20, day + timedelta(hours=1), refunded_amount=Decimal("2.00"))
    add_orders(db, 10, day + timedelta(hours=2), status="cancelled")
    add_orders(db, 30, day + timedelta(hours=3), points_awarded=0)   # earned nothing
    add_orders(db, 5, day + timedelta(hours=4), test=True)
    add_orders(db, 40, start - timedelta(days=1))                    # before the period
    with db.sessions() as session:
        assert billable_orders(session, shop_id(db), start, start + timedelta(days=30)) == 1_150
        status = billing_status(session, session.get(Shop, shop_id(db)), day)
    assert (status.orders, status.over_by) == (1_150, 150)
    # 150 over at 0.02 is 3.00, within the 5.00 cap.
    assert status.charge_so_far == Decimal("3.00") and status.banner is None
    assert 'data-period-count="1150"' in page(url)

    runtime = app.extensions["runtime"]
    assert charge_closed_periods(runtime, shop_id(db), day) == "nothing to charge"
    closed = start + timedelta(days=30, hours=1)
    assert charge_closed_periods(runtime, shop_id(db), closed).startswith("charged")
    assert charge_closed_periods(runtime, shop_id(db), closed) == "nothing to charge"

    [usage] = [i for s in emulator.shop(SHOP).app_subscriptions.values()
               for i in s.line_items if i.kind == "usage"]
    assert [u.price for u in usage.usage] == [Decimal("3.00")]
    with db.sessions() as session:
        [charge] = session.execute(select(UsageCharge)).scalars().all()
    assert (charge.orders_counted, charge.orders_charged, charge.amount) == (
        1_150, 150, Decimal("3.00"))
    assert charge.shopify_usage_record_id.startswith("gid://shopify/AppUsageRecord/")


def test_usage_past_the_cap_is_never_charged_and_says_so(db, billing, emulator):
    app, url = billing
    decide(subscribe(url, {"plan": "growth", "capped_amount": "1.00"}).json()[
        "confirmation_url"], "approve")
    start = subscription(db).activated_at
    add_orders(db, 1_500, start + timedelta(days=1))
    assert 'data-billing-banner="warning"' in page(url)
    charge_closed_periods(app.extensions["runtime"], shop_id(db), start + timedelta(days=31))
    [usage] = [i for s in emulator.shop(SHOP).app_subscriptions.values()
               for i in s.line_items if i.kind == "usage"]
    assert usage.balance_used == Decimal("1.00") == usage.capped_amount


def test_passing_the_free_limit_starts_a_grace_period_and_the_program_keeps_earning(db, billing):
    app, url = billing
    with db.sessions() as session:
        shop = session.get(Shop, shop_id(db))
        start = billing_status(session, shop, utcnow()).period_start
    passed = start + timedelta(hours=2)
    add_orders(db, 101, passed)
    with db.sessions() as session:
        shop = session.get(Shop, shop_id(db))
        during = billing_status(session, shop, passed + timedelta(days=1))
        after = billing_status(session, shop, passed + timedelta(days=15))
    assert (during.over_by, during.banner, during.grace_until) == (
        1, "warning", passed + timedelta(days=14))
    assert after.banner == "critical"
    text = page(url)
    assert 'data-billing-banner="' in text and "It keeps running" in text
    # Every admin page carries the notice, with the way to the plan.
    query = urlencode({"embedded": "1", "shop": SHOP, "host": "aGlzdG9yeQ",
                       "id_token": admin_token(SHOP)})
    other = requests.get(f"{url}/admin/history?{query}", timeout=30).text
    assert 'data-billing-notice="' in other and "/admin/billing" in other
    # Nothing stops: a new order is paid and earns its points as before.
    order = emulated.order_payload("orders/paid", order_id=777, customer_id=4242,
                                   email="late@example.com") | {"test": False}
    with db.transaction() as session:
        shop = session.get(Shop, shop_id(db))
        assert order_paid(session, shop, order, utcnow()).note == "earned"


def test_the_bill_usage_command_charges_each_closed_period_once(db, billing, emulator):
    app, url = billing
    decide(subscribe(url, {"plan": "growth", "capped_amount": "50"}).json()[
        "confirmation_url"], "approve")
    start = subscription(db).activated_at
    add_orders(db, 1_010, start + timedelta(days=2))
    later = (start + timedelta(days=31)).isoformat()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["bill-usage", "--now", later])
    again = runner.invoke(args=["bill-usage", "--now", later])

    assert first.exit_code == 0 and f"{SHOP}: charged" in first.output
    assert again.exit_code == 0 and f"{SHOP}: nothing to charge" in again.output
    [usage] = [i for s in emulator.shop(SHOP).app_subscriptions.values()
               for i in s.line_items if i.kind == "usage"]
    assert [u.price for u in usage.usage] == [Decimal("0.20")]
