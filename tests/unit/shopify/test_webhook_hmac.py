"""Our webhook HMAC check gives shopifyapp's answer on every case, in a fraction of its time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from shopify_app import ShopifyApp

from app.shopify.webhooks import body_hmac_matches, verify_delivery
from devstore.payloads import order_payload

SECRET = "current-secret-0123456789abcdef0123456789abcdef"
OLD = "old-secret-0123456789abcdef0123456789abcdef0123"
BODY = json.dumps(order_payload("orders/paid", order_id=1, customer_id=1, test=False),
                  ensure_ascii=False).encode()
UNICODE_BODY = '{"note": "thé — ☕ 🎁", "id": 1}'.encode()


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


CASES = {
    "signed with the current secret": (BODY, _sign(SECRET, BODY), True),
    "signed with the old secret": (BODY, _sign(OLD, BODY), True),
    "non-ASCII body": (UNICODE_BODY, _sign(SECRET, UNICODE_BODY), True),
    "signed by someone else": (BODY, _sign("not-our-secret-0123456789abcdef0123", BODY), False),
    "body changed after signing": (BODY + b" ", _sign(SECRET, BODY), False),
    "hex instead of base64": (BODY, hmac.new(SECRET.encode(), BODY, "sha256").hexdigest(),
                              False),
    "truncated": (BODY, _sign(SECRET, BODY)[:-2], False),
}


@pytest.mark.parametrize("body,received,expected", CASES.values(), ids=CASES.keys())
def test_the_same_answer_as_shopifyapp(body: bytes, received: str, expected: bool):
    theirs = ShopifyApp("key", SECRET, OLD).verify_webhook_req({
        "method": "POST", "headers": {"X-Shopify-Hmac-Sha256": received},
        "url": "https://app.test/webhooks", "body": body.decode()}).ok
    assert body_hmac_matches((SECRET, OLD), body, received) is theirs is expected


def test_a_non_ascii_header_is_a_refusal_not_a_crash():
    # shopifyapp's compare_digest raises TypeError on it: a 500 where Shopify expects a 401.
    forged = "ä" + _sign(SECRET, BODY)[1:]
    with pytest.raises(TypeError):
        ShopifyApp("key", SECRET).verify_webhook_req({
            "method": "POST", "headers": {"X-Shopify-Hmac-Sha256": forged},
            "url": "https://app.test/webhooks", "body": BODY.decode()})
    assert verify_delivery((SECRET,), {"X-Shopify-Hmac-SHA256": forged}, BODY).code \
        == "invalid_hmac"


def test_the_old_secret_is_refused_once_the_rotation_is_over():
    assert not body_hmac_matches((SECRET,), BODY, _sign(OLD, BODY))


def test_shopifys_newer_header_name_is_read_too():
    headers = {"Shopify-Hmac-SHA256": _sign(SECRET, BODY), "X-Shopify-Topic": "orders/paid",
               "X-Shopify-Shop-Domain": "tea.myshopify.com", "X-Shopify-Webhook-Id": "w-1"}
    check = verify_delivery((SECRET,), headers, BODY)
    assert check.ok and check.delivery.webhook_id == "w-1"


def test_the_hmac_is_checked_before_the_body_is_decoded():
    garbage = b"\xff\xfe not utf-8"
    assert verify_delivery((SECRET,), {"X-Shopify-Hmac-SHA256": "AAAA"}, garbage).code \
        == "invalid_hmac"
    assert verify_delivery((SECRET,), {}, garbage).code == "missing_hmac_header"
