"""Issue 3 end to end: install a shop through the emulator over HTTP by both grant paths,
receive a signed webhook, create a discount through Admin GraphQL, refresh an expired token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy import select

from app.db import utcnow
from app.models import Member, Order, Reward, Shop
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient
from app.shopify.tokens import access_token_for, cipher_for
from tests.e2e.conftest import SHOP, eventually


def _shop_row(db) -> Shop:
    with db.sessions() as s:
        return s.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()


def _install_by_code_grant(running, shop: str = SHOP) -> httpx.Response:
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        to_consent = browser.get(f"{running.url}/auth/install", params={"shop": shop})
        assert to_consent.status_code == 302
        consent_url = to_consent.headers["location"]
        assert consent_url.startswith(f"{running.emulator.base_url}/{shop}/admin/oauth/authorize")
        back = browser.get(consent_url)
        assert back.status_code == 302
        callback = back.headers["location"]
        assert callback.startswith(f"{running.url}/auth/callback?")
        return browser.get(callback)


def test_a_merchant_installs_through_the_authorization_code_grant(serve_app, emulator):
    emulator.add_shop(SHOP, name="Loop Demo", currency="EUR")
    running = serve_app()
    landed = _install_by_code_grant(running)
    assert landed.status_code == 302
    shop = _shop_row(running.db)
    assert shop.is_installed
    assert (shop.name, shop.currency) == ("Loop Demo", "EUR")
    access_token = cipher_for(running.runtime.settings).decrypt(shop.access_token_enc)
    assert access_token.startswith("shpat_")
    assert shop.access_token_enc != access_token
    assert access_token in emulator.shop(SHOP).tokens
    assert shop.refresh_token_enc and shop.access_token_expires_at > utcnow()
    # A new install is a draft: nothing shows to shoppers until the merchant launches it.
    assert shop.launched_at is None


def test_a_callback_with_a_tampered_query_is_refused(serve_app, emulator):
    emulator.add_shop(SHOP)
    running = serve_app()
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        consent = browser.get(f"{running.url}/auth/install", params={"shop": SHOP})
        callback = browser.get(consent.headers["location"]).headers["location"]
        forged = callback.replace("code=", "code=x")
        assert browser.get(forged).status_code == 401
    with running.db.sessions() as s:
        assert s.execute(select(Shop)).first() is None


def test_the_embedded_admin_connects_a_shop_by_token_exchange(serve_app, emulator):
    emulator.add_shop(SHOP, name="Loop Demo")
    running = serve_app()
    host = base64.urlsafe_b64encode(f"admin.shopify.com/store/{SHOP[:-14]}".encode()).decode()
    token = emulator.mint_admin_session_token(SHOP)
    page = httpx.get(f"{running.url}/", params={"shop": SHOP, "host": host, "embedded": "1",
                                                 "id_token": token}, timeout=10,
                     follow_redirects=True)
    assert page.url.path == "/admin/onboarding"
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == (
        f"frame-ancestors https://{SHOP} https://admin.shopify.com;")
    assert '<meta name="shopify-api-key"' in page.text
    shop = _shop_row(running.db)
    assert shop.is_installed and shop.name == "Loop Demo"
    access_token = cipher_for(running.runtime.settings).decrypt(shop.access_token_enc)
    issued = emulator.shop(SHOP).tokens[access_token]
    assert issued.grant == "token_exchange"
    assert issued.refresh_token is not None


def test_an_expired_session_token_is_bounced_for_a_fresh_one(serve_app, emulator):
    emulator.add_shop(SHOP)
    running = serve_app()
    stale = emulator.mint_admin_session_token(SHOP, now=datetime.now(UTC).timestamp() - 3600)
    document = httpx.get(f"{running.url}/", params={"shop": SHOP, "id_token": stale},
                         timeout=10)
    assert document.status_code in (200, 302)
    fetch = httpx.get(f"{running.url}/", headers={"Authorization": f"Bearer {stale}"},
                      timeout=10)
    assert fetch.status_code == 401
    assert fetch.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_a_signed_webhook_from_shopify_is_applied(serve_app, emulator):
    emulator.add_shop(SHOP)
    running = serve_app()
    _install_by_code_grant(running)
    running.launch_program()
    payload = emulator.sample_payload("customers/create", customer_id=4242,
                                      email="grace@example.com", first_name="Grace")
    status, _ = emulator.send_webhook(SHOP, "customers/create", payload)
    assert status == 200

    def member():
        with running.db.sessions() as s:
            return s.execute(select(Member).where(Member.customer_id == 4242)).scalar_one_or_none()

    joined = eventually(member)
    assert (joined.email, joined.points_available) == ("grace@example.com", 250)


def test_shopifys_uninstall_of_one_shop_cannot_be_replayed_against_another(serve_app, emulator):
    other = "other-demo.myshopify.com"
    emulator.add_shop(SHOP)
    emulator.add_shop(other)
    running = serve_app()
    _install_by_code_grant(running)
    _install_by_code_grant(running, other)

    def installed(domain: str) -> bool:
        with running.db.sessions() as s:
            return s.execute(select(Shop).where(Shop.domain == domain)).scalar_one().is_installed

    # The other shop's uninstall body, validly signed, sent as if for SHOP.
    replayed = emulator.sample_payload("app/uninstalled", shop=other)
    status, body = emulator.send_webhook(SHOP, "app/uninstalled", replayed)
    assert status == 401
    assert json.loads(body)["error"] == "shop_mismatch"
    assert installed(SHOP) and installed(other)
    # Shopify's own uninstall of SHOP (its domain and shop id in the body) still applies.
    assert _shop_row(running.db).shopify_shop_id == emulator.shop(SHOP).shop_id
    status, _ = emulator.uninstall_app(SHOP)
    assert status == 200
    assert eventually(lambda: not installed(SHOP))
    assert installed(other)


def test_shopifys_order_of_one_shop_cannot_be_replayed_against_another(serve_app, emulator):
    other = "other-demo.myshopify.com"
    emulator.add_shop(SHOP)
    emulator.add_shop(other)
    running = serve_app()
    _install_by_code_grant(running)
    _install_by_code_grant(running, other)

    def orders_of(domain: str) -> list[int]:
        with running.db.sessions() as s:
            return list(s.execute(select(Order.shopify_order_id).join(
                Shop, Shop.id == Order.shop_id).where(Shop.domain == domain)).scalars())

    # The other shop's paid order (its shop id in order_status_url), validly signed, sent as
    # if for SHOP.
    order = emulator.sample_payload("orders/paid", shop=other, order_id=880001,
                                    customer_id=4242, email="grace@example.com", test=False)
    status, body = emulator.send_webhook(SHOP, "orders/paid", order)
    assert status == 401
    assert json.loads(body)["error"] == "shop_mismatch"
    assert orders_of(SHOP) == []
    # Shopify's own delivery of it, for the shop it belongs to, is applied.
    status, _ = emulator.send_webhook(other, "orders/paid", order)
    assert status == 200
    assert eventually(lambda: orders_of(other)) == [880001]
    assert orders_of(SHOP) == []


def test_a_discount_is_created_through_admin_graphql_and_an_expired_token_refreshed(
        serve_app, emulator):
    emulator.add_shop(SHOP)
    running = serve_app()
    _install_by_code_grant(running)
    settings = running.runtime.settings
    first_token = cipher_for(settings).decrypt(_shop_row(running.db).access_token_enc)

    emulator.expire_access_token(SHOP)
    with shop_http_client(settings) as http, running.db.sessions() as session:
        # Our clock says the token still has an hour; Shopify's says it is gone: a 401
        # is what tells the app. Here the app's own clock moves past the expiry instead.
        later = _shop_row(running.db).access_token_expires_at
        token = access_token_for(session, SHOP, later, settings=settings, http=http)
        assert token != first_token
        created = AdminClient(SHOP, token, settings=settings, http=http).create_basic_discount(
            code="LOOP-TEST-1", title="Reward", customer_id=4242, starts_at=utcnow(),
            amount=Decimal("5.00"), minimum_subtotal=Decimal("20.00"))
    discount = emulator.shop(SHOP).discounts["LOOP-TEST-1"]
    assert created.id == discount.gid
    assert discount.customer_ids == ["gid://shopify/Customer/4242"]
    assert discount.usage_limit == 1
    assert emulator.shop(SHOP).tokens[token].grant == "refresh_token"
    assert not emulator.shop(SHOP).tokens[first_token].active(emulator.clock())


def test_a_shop_priced_in_euros_gets_its_default_rewards_titled_in_euros(serve_app, emulator):
    emulator.add_shop(SHOP, name="Boutique", currency="EUR")
    running = serve_app()
    _install_by_code_grant(running)
    with running.db.sessions() as s:
        titles = [r.title for r in s.execute(select(Reward).order_by(Reward.cost)).scalars()]
    assert titles == ["Free shipping", "€5 off", "€10 off", "€25 off"]


def test_an_install_prepares_the_default_program(serve_app, emulator):
    emulator.add_shop(SHOP)
    running = serve_app()
    _install_by_code_grant(running)
    with running.db.sessions() as s:
        costs = sorted(r.cost for r in s.execute(select(Reward)).scalars())
    assert costs == [400, 500, 1000, 2500]
