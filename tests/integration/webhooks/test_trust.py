"""POST /webhooks: a signed body counts only for the shop it names, and the destructive topics
only while Shopify could still be sending them, once per event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import LedgerEntry, Member, Order, RefusedWebhook, Shop, WebhookEvent
from tests.support.factories import make_member, make_shop
from tests.support.order_payloads import paid_order
from tests.support.webhook_signing import fixture_payload, post_webhook, signed_headers

SHOP_A, SHOP_B = "alpha-shop.myshopify.com", "beta-shop.myshopify.com"
SHOP_A_ID, SHOP_B_ID = 6001, 6002
CUSTOMER_B = 7700002222


@pytest.fixture
def two_shops(db):
    with db.transaction() as s:
        a = make_shop(s, domain=SHOP_A, shopify_shop_id=SHOP_A_ID)
        b = make_shop(s, domain=SHOP_B, shopify_shop_id=SHOP_B_ID)
        make_member(s, a, customer_id=7700001111, email="ada@example.com")
        make_member(s, b, customer_id=CUSTOMER_B, email="bob@example.com")


def _shop(db, domain: str) -> Shop | None:
    with db.sessions() as s:
        return s.execute(select(Shop).where(Shop.domain == domain)).scalar_one_or_none()


def _members_of(db, domain: str) -> list[int]:
    with db.sessions() as s:
        return list(s.execute(select(Member.customer_id).join(Shop).where(
            Shop.domain == domain)).scalars())


def _inbox(db) -> list[tuple[str, str]]:
    with db.sessions() as s:
        return [tuple(r) for r in s.execute(
            select(WebhookEvent.topic, WebhookEvent.shop_domain).order_by(WebhookEvent.id))]


def _refusals(db) -> list[tuple[str, str, str, str | None]]:
    with db.sessions() as s:
        return [tuple(r) for r in s.execute(
            select(RefusedWebhook.reason, RefusedWebhook.topic, RefusedWebhook.shop_domain,
                   RefusedWebhook.named_shop).order_by(RefusedWebhook.id))]


def _shop_resource(domain: str, shop_id: int) -> dict:
    body = fixture_payload("app/uninstalled")
    body.update(id=shop_id, domain=domain, myshopify_domain=domain)
    return body


def _compliance(topic: str, domain: str, shop_id: int, **extra) -> dict:
    return {**fixture_payload(topic), "shop_domain": domain, "shop_id": shop_id, **extra}


def _order_of(domain: str, shop_id: int, order_id: int = 5500001, **extra) -> dict:
    """A paid order of a shop: its order_status_url names the shop's Shopify id."""
    return paid_order(order_id, customer_id=7700001111, email="ada@example.com",
                      shop=domain, shop_id=shop_id, **extra)


def _orders_and_points(db, domain: str) -> tuple[list[int], int]:
    with db.sessions() as s:
        shop_id = s.execute(select(Shop.id).where(Shop.domain == domain)).scalar_one()
        orders = list(s.execute(select(Order.shopify_order_id).where(
            Order.shop_id == shop_id)).scalars())
        entries = len(s.execute(select(LedgerEntry.id).where(
            LedgerEntry.shop_id == shop_id)).all())
    return orders, entries


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- the shop a payload names is the shop it is applied to ------------------------------------

def test_an_uninstall_of_one_shop_sent_with_another_shops_header_uninstalls_nobody(
        db, client, two_shops):
    response = post_webhook(client, "app/uninstalled", SHOP_B,
                            _shop_resource(SHOP_A, SHOP_A_ID))
    assert (response.status_code, response.get_json()["error"]) == (401, "shop_mismatch")
    assert _shop(db, SHOP_B).is_installed and _shop(db, SHOP_A).is_installed
    assert _inbox(db) == []
    assert _refusals(db) == [("shop_mismatch", "app/uninstalled", SHOP_B, SHOP_A)]


def test_a_shop_redaction_naming_one_shop_cannot_delete_another(db, client, two_shops):
    with db.transaction() as s:
        s.get(Shop, _shop(db, SHOP_B).id).uninstalled_at = datetime(2026, 1, 1)
    response = post_webhook(client, "shop/redact", SHOP_B,
                            _compliance("shop/redact", SHOP_A, SHOP_A_ID))
    assert (response.status_code, response.get_json()["error"]) == (401, "shop_mismatch")
    assert _shop(db, SHOP_B) is not None
    assert _members_of(db, SHOP_B) == [CUSTOMER_B]
    assert _inbox(db) == []
    assert _refusals(db) == [("shop_mismatch", "shop/redact", SHOP_B, SHOP_A)]


def test_a_customer_redaction_naming_one_shop_cannot_delete_another_shops_member(
        db, client, two_shops):
    payload = _compliance("customers/redact", SHOP_A, SHOP_A_ID,
                          customer={"id": CUSTOMER_B, "email": "bob@example.com", "phone": None})
    response = post_webhook(client, "customers/redact", SHOP_B, payload)
    assert (response.status_code, response.get_json()["error"]) == (401, "shop_mismatch")
    assert _members_of(db, SHOP_B) == [CUSTOMER_B]
    assert _refusals(db) == [("shop_mismatch", "customers/redact", SHOP_B, SHOP_A)]


def test_a_data_request_naming_another_shop_exports_nothing(db, client, two_shops):
    response = post_webhook(client, "customers/data_request", SHOP_B,
                            _compliance("customers/data_request", SHOP_A, SHOP_A_ID))
    assert (response.status_code, response.get_json()["error"]) == (401, "shop_mismatch")
    assert _inbox(db) == []


def test_a_redaction_naming_the_right_domain_but_another_shop_id_is_refused(
        db, client, two_shops):
    response = post_webhook(client, "shop/redact", SHOP_B,
                            _compliance("shop/redact", SHOP_B, SHOP_A_ID))
    assert (response.status_code, response.get_json()["error"]) == (401, "shop_mismatch")
    assert _refusals(db) == [("shop_mismatch", "shop/redact", SHOP_B, f"shop id {SHOP_A_ID}")]


def test_an_uninstall_naming_its_own_shop_by_domain_and_id_is_applied(db, client, two_shops):
    response = post_webhook(client, "app/uninstalled", SHOP_B,
                            _shop_resource(SHOP_B, SHOP_B_ID))
    assert response.status_code == 200
    assert not _shop(db, SHOP_B).is_installed
    assert _shop(db, SHOP_A).is_installed
    assert _refusals(db) == []


def test_a_shop_on_its_own_domain_is_uninstalled_by_its_myshopify_domain(db, client, two_shops):
    payload = {**_shop_resource(SHOP_B, SHOP_B_ID), "domain": "www.beta-shop.example"}
    assert post_webhook(client, "app/uninstalled", SHOP_B, payload).status_code == 200
    assert not _shop(db, SHOP_B).is_installed


def test_a_payload_naming_no_shop_is_taken_for_the_headers_shop(db, client, two_shops):
    response = post_webhook(client, "customers/create", SHOP_B,
                            fixture_payload("customers/create"))
    assert response.status_code == 200
    assert _inbox(db) == [("customers/create", SHOP_B)]


# --- an order counts only for the shop whose id its status URL names --------------------------

def test_an_order_of_one_shop_replayed_with_another_shops_header_is_not_applied(
        db, client, two_shops):
    body = json.dumps(_order_of(SHOP_A, SHOP_A_ID)).encode()
    replayed = post_webhook(client, "orders/paid", SHOP_B, body)
    assert (replayed.status_code, replayed.get_json()["error"]) == (401, "shop_mismatch")
    assert _orders_and_points(db, SHOP_B) == ([], 0)
    assert _members_of(db, SHOP_B) == [CUSTOMER_B]
    assert _inbox(db) == []
    assert _refusals(db) == [("shop_mismatch", "orders/paid", SHOP_B, f"shop id {SHOP_A_ID}")]

    assert post_webhook(client, "orders/paid", SHOP_A, body).status_code == 200
    orders, entries = _orders_and_points(db, SHOP_A)
    assert orders == [5500001] and entries > 0
    assert _orders_and_points(db, SHOP_B) == ([], 0)


@pytest.mark.parametrize("topic", ["orders/paid", "orders/cancelled", "orders/updated",
                                   "orders/fulfilled"])
def test_every_order_topic_is_bound_to_the_shop_its_status_url_names(db, client, two_shops,
                                                                      topic):
    response = post_webhook(client, topic, SHOP_B, _order_of(SHOP_A, SHOP_A_ID))
    assert (response.status_code, response.get_json()["error"]) == (401, "shop_mismatch")
    assert _inbox(db) == []
    assert [r[:2] for r in _refusals(db)] == [("shop_mismatch", topic)]


def test_an_order_on_the_shops_own_domain_is_judged_by_the_shop_id_alone(db, client,
                                                                         two_shops):
    own_domain = _order_of("www.alpha-teas.example", SHOP_A_ID)
    assert post_webhook(client, "orders/paid", SHOP_A, own_domain).status_code == 200
    assert _orders_and_points(db, SHOP_A)[0] == [5500001]
    replayed = _order_of("www.alpha-teas.example", SHOP_A_ID, order_id=5500002)
    assert post_webhook(client, "orders/paid", SHOP_B, replayed).status_code == 401


def test_an_order_delivered_twice_is_stored_once_and_not_refused(db, client, two_shops):
    body = json.dumps(_order_of(SHOP_A, SHOP_A_ID)).encode()
    for _ in range(2):
        response = post_webhook(client, "orders/paid", SHOP_A, body, webhook_id="wh-order-1")
        assert response.status_code == 200
    assert _inbox(db) == [("orders/paid", SHOP_A)]
    assert _refusals(db) == []


def test_an_order_for_a_shop_whose_id_is_not_on_record_is_applied(db, client, two_shops):
    with db.transaction() as s:
        s.get(Shop, _shop(db, SHOP_B).id).shopify_shop_id = None
    response = post_webhook(client, "orders/paid", SHOP_B, _order_of(SHOP_A, SHOP_A_ID))
    assert response.status_code == 200
    assert _orders_and_points(db, SHOP_B)[0] == [5500001]


@pytest.mark.parametrize("url", [
    None, "", 42, "https://alpha-shop.myshopify.com/orders/123456abcd/authenticate?key=k",
    "https://alpha-shop.myshopify.com/6001/orders/123456abcd/status",
    "http://alpha-shop.myshopify.com/6001/orders/123456abcd/authenticate?key=k",
    "https://alpha-shop.myshopify.com/" + "9" * 19 + "/orders/123456abcd/authenticate?key=k",
])
def test_an_order_whose_status_url_names_no_shop_id_is_taken_for_the_headers_shop(
        db, client, two_shops, url):
    payload = {**_order_of(SHOP_A, SHOP_A_ID), "order_status_url": url}
    assert post_webhook(client, "orders/paid", SHOP_B, payload).status_code == 200
    assert _inbox(db) == [("orders/paid", SHOP_B)]


def test_a_refund_names_no_shop_and_is_taken_for_the_headers_shop(db, client, two_shops):
    response = post_webhook(client, "refunds/create", SHOP_B, fixture_payload("refunds/create"))
    assert response.status_code == 200
    assert _inbox(db) == [("refunds/create", SHOP_B)]


# --- destructive topics: fresh, and once per event ---------------------------------------------

@pytest.mark.parametrize("topic", ["app/uninstalled", "shop/redact", "customers/redact",
                                   "customers/data_request"])
def test_a_destructive_delivery_triggered_in_2019_is_refused_and_recorded(db, client, two_shops,
                                                                          topic):
    payload = (_shop_resource(SHOP_B, SHOP_B_ID) if topic == "app/uninstalled"
               else _compliance(topic, SHOP_B, SHOP_B_ID))
    response = post_webhook(client, topic, SHOP_B, payload,
                            triggered_at="2019-03-01T10:00:00.000Z")
    assert (response.status_code, response.get_json()["error"]) == (401, "stale_delivery")
    assert _shop(db, SHOP_B).is_installed
    assert _members_of(db, SHOP_B) == [CUSTOMER_B]
    assert _inbox(db) == []
    assert _refusals(db) == [("stale_delivery", topic, SHOP_B, None)]


def test_a_destructive_delivery_within_shopifys_retry_window_is_applied(db, client, two_shops):
    late = _iso(datetime.now(UTC) - timedelta(hours=47))
    response = post_webhook(client, "app/uninstalled", SHOP_B,
                            _shop_resource(SHOP_B, SHOP_B_ID), triggered_at=late)
    assert response.status_code == 200
    assert not _shop(db, SHOP_B).is_installed


def test_a_destructive_delivery_just_past_the_48_hour_window_is_refused(db, client, two_shops):
    stale = _iso(datetime.now(UTC) - timedelta(hours=48, minutes=1))
    response = post_webhook(client, "app/uninstalled", SHOP_B,
                            _shop_resource(SHOP_B, SHOP_B_ID), triggered_at=stale)
    assert (response.status_code, response.get_json()["error"]) == (401, "stale_delivery")


@pytest.mark.parametrize(("triggered_at", "status", "code"), [
    (None, 400, "missing_triggered_at"),
    ("yesterday", 400, "invalid_triggered_at"),
    ("2026-11-27T10:00:00", 400, "invalid_triggered_at"),
    ("2099-01-01T00:00:00.000Z", 401, "triggered_in_the_future"),
    ("9999-12-31T23:59:59-23:59", 400, "invalid_triggered_at"),
])
def test_a_destructive_delivery_without_a_usable_trigger_time_is_refused(
        db, client, two_shops, triggered_at, status, code):
    body = json.dumps(_compliance("shop/redact", SHOP_B, SHOP_B_ID)).encode()
    headers = signed_headers(body, "shop/redact", SHOP_B)
    if triggered_at is None:
        del headers["X-Shopify-Triggered-At"]
    else:
        headers["X-Shopify-Triggered-At"] = triggered_at
    response = client.post("/webhooks", data=body, headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (status, code)
    assert _inbox(db) == []
    assert [r[0] for r in _refusals(db)] == [code]


def test_an_old_order_delivery_is_still_stored(db, client, two_shops):
    response = post_webhook(client, "orders/paid", SHOP_B, _order_of(SHOP_B, SHOP_B_ID),
                            triggered_at="2019-03-01T10:00:00.000Z")
    assert response.status_code == 200
    assert _inbox(db) == [("orders/paid", SHOP_B)]


def test_one_event_delivered_under_two_webhook_ids_is_applied_once(db, client, two_shops):
    payload = _compliance("customers/redact", SHOP_B, SHOP_B_ID,
                          customer={"id": CUSTOMER_B, "email": "bob@example.com", "phone": None})
    for webhook_id in ("wh-first", "wh-second"):
        response = post_webhook(client, "customers/redact", SHOP_B, payload,
                                webhook_id=webhook_id, event_id="event-1")
        assert response.status_code == 200
    with db.sessions() as s:
        rows = s.execute(select(WebhookEvent.webhook_id, WebhookEvent.shopify_event_id)).all()
    assert [tuple(r) for r in rows] == [("wh-first", "event-1")]
    assert _members_of(db, SHOP_B) == []


def test_order_deliveries_keep_no_event_id_and_are_keyed_by_webhook_id_alone(db, client,
                                                                              two_shops):
    for webhook_id in ("wh-1", "wh-2"):
        post_webhook(client, "customers/create", SHOP_B, fixture_payload("customers/create"),
                     webhook_id=webhook_id, event_id="same-event")
    with db.sessions() as s:
        rows = s.execute(select(WebhookEvent.webhook_id, WebhookEvent.shopify_event_id)
                         .order_by(WebhookEvent.id)).all()
    assert [tuple(r) for r in rows] == [("wh-1", None), ("wh-2", None)]


@pytest.mark.parametrize("shop_id", ["²", "1" * 5000, -1, 1.5, None])
def test_a_shop_id_that_is_no_plain_number_is_judged_by_the_domain_alone(db, client, two_shops,
                                                                         shop_id):
    response = post_webhook(client, "customers/data_request", SHOP_B,
                            _compliance("customers/data_request", SHOP_B, shop_id))
    assert response.status_code == 200
    assert _inbox(db) == [("customers/data_request", SHOP_B)]


def test_freshness_is_judged_on_the_apps_clock(db, app, client, two_shops):
    later = datetime.now(UTC) + timedelta(days=30)
    app.extensions["shopify_clock"] = later.timestamp
    response = post_webhook(client, "app/uninstalled", SHOP_B,
                            _shop_resource(SHOP_B, SHOP_B_ID),
                            triggered_at=_iso(later - timedelta(hours=1)))
    assert response.status_code == 200
    assert not _shop(db, SHOP_B).is_installed
