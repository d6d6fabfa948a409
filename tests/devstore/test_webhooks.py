"""Webhook deliveries: every X-Shopify-* header, an HMAC over the exact bytes, Shopify's habits."""

import base64
import hashlib
import hmac
import json
import re

from tests.conftest import TEST_API_SECRET
from tests.devstore.conftest import SHOP


def _expected_hmac(body: bytes, secret: str = TEST_API_SECRET) -> str:
    """base64 HMAC-SHA256 of a body, computed here independently."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_a_delivery_carries_every_shopify_header_and_a_valid_hmac(emulator, shop, receiver):
    emulator.app_url = receiver.url
    payload = emulator.sample_payload("orders/paid", order_id=1001)
    status, body = emulator.send_webhook(shop, "orders/paid", payload, webhook_id="wh-1",
                                         event_id="ev-1",
                                         triggered_at="2026-11-27T10:00:00.000Z")
    assert (status, json.loads(body)) == (200, {"ok": True})
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/webhooks")
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-shopify-topic"] == "orders/paid"
    assert headers["x-shopify-shop-domain"] == SHOP
    assert headers["x-shopify-api-version"] == "2026-07"
    assert headers["x-shopify-webhook-id"] == "wh-1"
    assert headers["x-shopify-event-id"] == "ev-1"
    assert headers["x-shopify-triggered-at"] == "2026-11-27T10:00:00.000Z"
    assert hmac.compare_digest(headers["x-shopify-hmac-sha256"], _expected_hmac(request.body))
    assert json.loads(request.body) == payload


def test_raw_bytes_are_sent_and_signed_exactly_as_given(emulator, shop, receiver):
    emulator.app_url = receiver.url
    raw = b'{"id": 12345678901234567890, "note": "caf\xc3\xa9"}'
    emulator.send_webhook(shop, "customers/update", raw)
    [request] = receiver.requests
    assert request.body == raw
    assert request.headers["x-shopify-hmac-sha256"] == _expected_hmac(raw)


def test_defaults_are_fresh_ids_and_a_millisecond_utc_timestamp(emulator, shop, receiver):
    emulator.app_url = receiver.url
    emulator.send_webhook(shop, "customers/create", emulator.sample_payload("customers/create"))
    emulator.send_webhook(shop, "customers/create", emulator.sample_payload("customers/create"))
    first, second = (r.headers for r in receiver.requests)
    assert first["x-shopify-webhook-id"] != second["x-shopify-webhook-id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["x-shopify-triggered-at"])


def test_a_wrong_secret_and_header_overrides_make_forgeries(emulator, shop, receiver):
    emulator.app_url = receiver.url
    emulator.send_webhook(shop, "orders/paid", {"id": 1}, secret="another-secret-0123456789abc",
                          headers_override={"X-Shopify-Topic": "orders/cancelled",
                                            "X-Shopify-Event-Id": None})
    [request] = receiver.requests
    assert request.headers["x-shopify-hmac-sha256"] != _expected_hmac(request.body)
    assert request.headers["x-shopify-topic"] == "orders/cancelled"
    assert "x-shopify-event-id" not in request.headers


def test_the_app_answer_is_returned_and_an_unreachable_app_is_status_zero(emulator, shop,
                                                                          receiver, dead_url):
    receiver.status, receiver.response_body = "401 UNAUTHORIZED", b'{"error":"invalid_hmac"}'
    emulator.app_url = receiver.url
    assert emulator.send_webhook(shop, "orders/paid", {"id": 1}) == (
        401, '{"error":"invalid_hmac"}')
    emulator.app_url = dead_url
    status, text = emulator.send_webhook(shop, "orders/paid", {"id": 1})
    assert status == 0 and text.startswith("ConnectError")


def test_deliver_repeats_each_delivery_with_the_same_ids(emulator, shop, receiver):
    emulator.app_url = receiver.url
    results = emulator.deliver(shop, [("orders/paid", {"id": 1}), ("orders/cancelled", {"id": 1})],
                               duplicate=2)
    assert [r.topic for r in results] == ["orders/paid", "orders/paid", "orders/cancelled",
                                          "orders/cancelled"]
    assert results[0].webhook_id == results[1].webhook_id != results[2].webhook_id
    assert results[0].event_id == results[1].event_id
    ids = [r.headers["x-shopify-webhook-id"] for r in receiver.requests]
    assert ids == [r.webhook_id for r in results]
    assert all(r.status == 200 for r in results)


def test_deliver_shuffles_reproducibly_with_a_seed(emulator, shop, receiver):
    emulator.app_url = receiver.url
    deliveries = [{"topic": "orders/updated", "payload": {"id": n}, "webhook_id": f"wh-{n}"}
                  for n in range(6)]
    first = [r.webhook_id for r in emulator.deliver(shop, deliveries, shuffle=True, seed=7)]
    second = [r.webhook_id for r in emulator.deliver(shop, deliveries, shuffle=True, seed=7)]
    assert first == second
    assert sorted(first) == [f"wh-{n}" for n in range(6)]
    assert first != [f"wh-{n}" for n in range(6)]


def test_delivered_orders_and_customers_become_known_to_the_shop(emulator, shop, receiver):
    emulator.app_url = receiver.url
    order = emulator.sample_payload("orders/paid", order_id=77, customer_id=5, email="a@b.c",
                                    line_items=[{"title": "Tea", "price": "10.00"}])
    emulator.send_webhook(shop, "orders/paid", order)
    refund = emulator.sample_payload("refunds/create", order=order,
                                     line_items=[(order["line_items"][0]["id"], 1)])
    emulator.send_webhook(shop, "refunds/create", refund)
    state = emulator.shop(shop)
    assert state.orders[77]["refunds"] == [refund]
    customer = state.customers[5]
    assert (customer.email, customer.number_of_orders, str(customer.amount_spent)) == (
        "a@b.c", 1, "20.00")


def test_uninstall_revokes_tokens_and_notifies_the_app(emulator, shop, receiver, gql,
                                                       access_token):
    emulator.app_url = receiver.url
    status, _ = emulator.uninstall_app(shop)
    assert status == 200
    assert receiver.requests[0].headers["x-shopify-topic"] == "app/uninstalled"
    assert receiver.json()["myshopify_domain"] == shop
    assert gql("{ shop { name } }", token=access_token).status_code == 401


def test_a_reinstall_is_a_new_app_installation_without_the_old_app_data_metafields(
        emulator, shop, receiver, gql, access_token):
    emulator.app_url = receiver.url
    installation = gql("{ currentAppInstallation { id } }").json()[
        "data"]["currentAppInstallation"]["id"]
    written = gql("""mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
        metafields { id } userErrors { code } } }""", {"m": [{
        "ownerId": installation, "namespace": "$app", "key": "proxy_path",
        "type": "single_line_text_field", "value": "/a/rewards"}]}).json()
    assert written["data"]["metafieldsSet"]["userErrors"] == []

    emulator.uninstall_app(shop)
    token = emulator.issue_access_token(shop).access_token

    again = gql("""{ currentAppInstallation { id
        metafield(namespace: "$app", key: "proxy_path") { value } } }""", token=token).json()
    assert again["data"]["currentAppInstallation"]["id"] != installation
    assert again["data"]["currentAppInstallation"]["metafield"] is None



def test_a_delivered_consent_change_is_the_customers_email_marketing_state_newest_first(
        emulator, shop, receiver, gql):
    emulator.app_url = receiver.url
    topic = "customers_email_marketing_consent/update"
    query = """query C($id: ID!) { customer(id: $id) {
               defaultEmailAddress { emailAddress marketingState marketingUpdatedAt } } }"""

    def marketing() -> dict:
        return gql(query, {"id": "gid://shopify/Customer/5"}).json()["data"]["customer"][
            "defaultEmailAddress"]

    emulator.send_webhook(shop, topic, emulator.sample_payload(
        topic, customer_id=5, email="a@b.c", state="subscribed",
        consent_updated_at="2026-11-27T10:00:00-05:00"))
    assert marketing() == {"emailAddress": "a@b.c", "marketingState": "SUBSCRIBED",
                           "marketingUpdatedAt": "2026-11-27T10:00:00-05:00"}
    # An earlier change delivered late does not undo the later one, as in Shopify.
    emulator.send_webhook(shop, topic, emulator.sample_payload(
        topic, customer_id=5, email="a@b.c", state="unsubscribed",
        consent_updated_at="2026-11-27T14:59:00Z"))
    assert marketing()["marketingState"] == "SUBSCRIBED"
    assert set(receiver.json()) == {"customer_id", "email_address", "email_marketing_consent"}
