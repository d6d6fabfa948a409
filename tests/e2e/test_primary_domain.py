"""Shoppers are sent to the store they know: referral links and the activity they read.

A merchant who connected their own domain (teahouse.example) gets referral links on it, learned
at install from Admin GraphQL `shop.primaryDomain` and kept current by shop/update; an order's
points are dated by the order. Installed through OAuth over HTTP against the emulator, webhooks
signed by it, the member read through its signing app proxy.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from app.db import utcnow
from app.models import Member, Shop
from tests.e2e.conftest import SHOP, eventually

ADA = 7001


def _install(running) -> None:
    """Install through OAuth, then launch the program (a new install is a draft)."""
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        browser.get(f"{running.url}/auth/install", params={"shop": SHOP})
    running.launch_program(SHOP)


def _primary_domain(db) -> str | None:
    with db.sessions() as s:
        return s.execute(select(Shop.primary_domain).where(Shop.domain == SHOP)).scalar_one()


def _ada_through_the_storefront(emulator) -> dict:
    """GET /apps/loyalty/member as Ada, logged in on the emulator's storefront."""
    with httpx.Client(base_url=f"{emulator.base_url}/{SHOP}", timeout=10) as shopper:
        shopper.get("/account/login", params={"customer_id": str(ADA)})
        response = shopper.get("/apps/loyalty/member")
    assert response.status_code == 200, response.text
    return response.json()


def _ada_joins(db, emulator) -> None:
    emulator.send_webhook(SHOP, "customers/create", emulator.sample_payload(
        "customers/create", customer_id=ADA, email="ada@example.com", first_name="Ada",
        last_name="Lovelace"))
    assert eventually(lambda: _ada(db) is not None)


def _ada(db) -> Member | None:
    with db.sessions() as s:
        return s.execute(select(Member).where(Member.customer_id == ADA)).scalar_one_or_none()


def test_a_shop_with_its_own_domain_gives_referral_links_on_it_and_follows_a_change(
        serve_app, emulator, db):
    emulator.add_shop(SHOP, primary_domain="teahouse.example")
    # The widget reads the shop afresh (by default a change shows within 5 s).
    running = serve_app(storefront_cache_seconds=0)
    _install(running)
    assert _primary_domain(db) == "teahouse.example"
    _ada_joins(db, emulator)
    code = _ada(db).referral_code

    referral = _ada_through_the_storefront(emulator)["referral"]

    assert referral["url"] == f"https://teahouse.example/?ref={code}"
    assert referral["share_text"].endswith(f"use my link: https://teahouse.example/?ref={code}")
    # The merchant makes another domain primary: Shopify sends shop/update with it as `domain`.
    emulator.shop(SHOP).primary_domain = "www.teahouse.example"
    status, _ = emulator.send_webhook(SHOP, "shop/update",
                                      emulator.sample_payload("shop/update", shop=SHOP))
    assert status == 200
    assert eventually(lambda: _primary_domain(db) == "www.teahouse.example")
    assert _ada_through_the_storefront(emulator)["referral"]["url"] == (
        f"https://www.teahouse.example/?ref={code}")


def test_a_shop_on_its_myshopify_domain_keeps_links_there(serve_app, emulator, db):
    emulator.add_shop(SHOP)
    running = serve_app()
    _install(running)
    assert _primary_domain(db) == SHOP
    _ada_joins(db, emulator)
    code = _ada(db).referral_code
    assert _ada_through_the_storefront(emulator)["referral"]["url"] == (
        f"https://{SHOP}/?ref={code}")


def test_the_activity_dates_an_orders_points_by_the_order_not_by_when_it_was_processed(
        serve_app, emulator, db):
    emulator.add_shop(SHOP)
    running = serve_app()
    _install(running)
    _ada_joins(db, emulator)
    placed = (utcnow() - timedelta(days=40)).replace(microsecond=0)
    emulator.send_webhook(SHOP, "orders/paid", emulator.sample_payload(
        "orders/paid", shop=SHOP, order_id=50001, customer_id=ADA, email="ada@example.com",
        first_name="Ada", test=False, created_at=placed.isoformat() + "Z",
        updated_at=placed.isoformat() + "Z",
        line_items=[{"id": 500010, "title": "Tea", "price": "40.00", "quantity": 1,
                     "product_id": 1}]))
    assert eventually(lambda: (_ada(db).points_lifetime or 0) > 250)

    activity = _ada_through_the_storefront(emulator)["activity"]

    order = next(a for a in activity if a["kind"] == "earn_order")
    assert order["at"] == placed.isoformat() + "Z"
    # The welcome bonus of today comes first, the forty-day-old order after it.
    assert [a["kind"] for a in activity] == ["bonus_signup", "earn_order"]
