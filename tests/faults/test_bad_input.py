"""Issue 9, case 10: bad input is a clear 4xx or a recorded failed event; never a 500 without
a record, never a crashed worker. (tests/integration/webhooks/test_ingest.py already covers
malformed JSON, a non-myshopify shop header, an unknown topic and a small size cap through the
test client; these cases go through the production server and real RQ workers.)"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from app.db import Database
from app.models import WebhookEvent
from tests.faults.conftest import (
    SHOP,
    Deliveries,
    customer_created,
    events,
    member_points,
    paid_order,
    refund_of,
)
from tests.faults.processes import Gunicorn, app_environment
from tests.support.webhook_signing import signed_headers

GOOD_CUSTOMER = 72001


def _stored(db: Database) -> int:
    """How many deliveries the inbox holds."""
    with db.sessions() as session:
        return session.execute(select(func.count()).select_from(WebhookEvent)).scalar_one()


@pytest.fixture
def production_server(shop_installed: Database, redis_url: str) -> Iterator[Deliveries]:
    """gunicorn serving wsgi:app on the test database, as production runs it."""
    server = Gunicorn(app_environment(shop_installed.url, redis_url))
    try:
        deliveries = Deliveries(server.start())
        yield deliveries
        deliveries.close()
    finally:
        server.stop()


def _reject(deliveries: Deliveries, body: bytes, *, drop: tuple[str, ...] = (),
            **headers: str) -> httpx.Response:
    """POST a correctly signed body with some headers changed or dropped."""
    signed = signed_headers(body, "orders/paid", SHOP)
    signed.update(headers)
    for name in drop:
        del signed[name]
    return deliveries.client.post(deliveries.url, content=body, headers=signed)


def test_bad_requests_to_the_production_server_are_clear_4xx_and_store_nothing(
        production_server, shop_installed):
    deliveries, db = production_server, shop_installed
    order = json.dumps(paid_order(820001, GOOD_CUSTOMER, ["10.00"])).encode()
    cases = {
        "body that is not UTF-8": (b'{"id": "\xff"}', {}, (), 400, "invalid_body_encoding"),
        "no webhook id": (order, {}, ("X-Shopify-Webhook-Id",), 400, "missing_webhook_id"),
        "a 256-character webhook id": (order, {"X-Shopify-Webhook-Id": "w" * 256}, (), 400,
                                       "missing_webhook_id"),
        "no topic": (order, {}, ("X-Shopify-Topic",), 400, "missing_topic"),
        "no shop header": (order, {}, ("X-Shopify-Shop-Domain",), 400, "invalid_shop_domain"),
        "a shop header with a suffix": (order, {"X-Shopify-Shop-Domain":
                                                f"{SHOP}.evil.example"}, (), 400,
                                        "invalid_shop_domain"),
        "a shop header with a path": (order, {"X-Shopify-Shop-Domain": f"{SHOP}/admin"}, (),
                                      400, "invalid_shop_domain"),
        "a valid signature over someone else's body": (
            order.replace(b"10.00", b"99.00"), {"X-Shopify-Hmac-Sha256":
                                                signed_headers(order, "orders/paid",
                                                               SHOP)["X-Shopify-Hmac-Sha256"]},
            (), 401, "invalid_hmac"),
    }
    for name, (body, headers, drop, status, code) in cases.items():
        response = _reject(deliveries, body, drop=drop, **headers)
        assert (name, response.status_code) == (name, status)
        assert (name, response.json()["error"]) == (name, code)
    assert _stored(db) == 0


def test_bodies_over_the_size_cap_are_refused_with_or_without_a_length(production_server,
                                                                   shop_installed):
    deliveries, db = production_server, shop_installed
    # The default cap is 1 MB (WEBHOOK_MAX_BYTES); Shopify's largest orders stay far below it.
    huge = json.dumps({"id": 1, "note": "x" * 2_000_000}).encode()
    with_length = deliveries.post("orders/paid", huge, "huge-with-length")
    assert with_length.status_code == 413

    def chunks() -> Iterator[bytes]:
        """The body in 64 KB pieces: sent chunked, without a Content-Length."""
        for start in range(0, len(huge), 65536):
            yield huge[start:start + 65536]

    headers = signed_headers(huge, "orders/paid", SHOP, webhook_id="huge-chunked")
    chunked = deliveries.client.post(deliveries.url, content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in chunked.request.headers}
    # Werkzeug stops a streamed body at the cap instead of raising, so the HMAC is computed
    # over the first megabyte only and cannot match: refused all the same, as 401.
    assert (chunked.status_code, chunked.json()["error"]) == (401, "invalid_hmac")
    assert _stored(db) == 0
    # The server is fine afterwards.
    good = paid_order(820002, GOOD_CUSTOMER, ["10.00"])
    assert deliveries.post("orders/paid", good, "after-huge").status_code == 200
    assert _stored(db) == 1


HEADER_LIMITS = {
    # Each is a column of webhook_events: a longer value makes the INSERT fail with a DataError.
    "a shop domain longer than 255 characters": {"X-Shopify-Shop-Domain":
                                                 "s" * 250 + ".myshopify.com"},
    "a topic longer than 64 characters": {"X-Shopify-Topic": "orders/" + "p" * 64},
    "an API version longer than 16 characters": {"X-Shopify-API-Version": "2026-07" * 3},
    "a triggered-at longer than 64 characters": {"X-Shopify-Triggered-At": "2026" * 20},
}


def test_signed_deliveries_with_headers_too_long_to_store_are_400(production_server,
                                                                  shop_installed):
    body = json.dumps(paid_order(820003, GOOD_CUSTOMER, ["10.00"])).encode()
    statuses = {name: _reject(production_server, body, **headers).status_code
                for name, headers in HEADER_LIMITS.items()}
    assert statuses == dict.fromkeys(HEADER_LIMITS, 400)
    assert _stored(shop_installed) == 0


def test_deeply_nested_json_with_a_valid_signature_is_400(production_server, shop_installed):
    deep = b"[" * 100_000 + b"]" * 100_000
    response = production_server.post("orders/paid", deep, "deep")
    assert response.status_code == 400
    assert _stored(shop_installed) == 0


# Payloads that can never apply, recorded failed on the first attempt.
FAILED_AT_ONCE = {
    "a JSON array": ("orders/paid", [1, 2], "PayloadError"),
    "JSON null": ("orders/paid", None, "PayloadError"),
    "an order id that is not a number": ("orders/paid", {"id": "abc"}, "ValueError"),
    "an order without an id": ("orders/paid", {"name": "#1"}, "KeyError"),
    "NaN for an order id": ("orders/paid", b'{"id": NaN}', "ValueError"),
    "a customer id that is not a number": (
        "orders/paid", "customer-ten", "ValueError"),
    "a refund of order 'x'": ("refunds/create", "refund-x", "ValueError"),
    "a customer id that is a list": ("customers/create", {"id": [1]}, "TypeError"),
    "an updated_at that is not a time": ("orders/paid", "updated-yesterday", "ValueError"),
    "a lone surrogate in a name": (
        "customers/create", b'{"id": 72009, "first_name": "\\ud800", "email": "s@x.io"}',
        "UnicodeEncodeError"),
}

# Payloads of the wrong shape deeper inside (line items, amounts, ids the database refuses):
# also permanent, so also failed on the first attempt (app/pipeline/jobs.py PERMANENT_ERRORS).
WRONG_SHAPE = {
    "line items that are a string": ("orders/paid", "line-items-string", "AttributeError"),
    "a refund amount that is not a number": ("refunds/create", "refund-amount-abc",
                                             "InvalidOperation"),
    "a customer email that is a number": ("customers/create", {"id": 72010, "email": 5},
                                          "AttributeError"),
    "an order id beyond 64 bits": ("orders/paid", "order-id-2-100", "DataError"),
    "an order id of 1e400": ("orders/paid", b'{"id": 1e400}', "OverflowError"),
    "a NUL character in a name": ("customers/create", "nul-name", "DataError"),
}


def _payload(spec: object, n: int) -> object:
    """The named variants of a real order, refund or customer; other specs as they are."""
    order = paid_order(821000 + n, GOOD_CUSTOMER + n, ["10.00"])
    variants = {
        "customer-ten": lambda: {**order, "customer": {**order["customer"], "id": "ten"}},
        "refund-x": lambda: {**refund_of(order, 0, 921000 + n), "order_id": "x"},
        "updated-yesterday": lambda: {**order, "updated_at": "yesterday"},
        "line-items-string": lambda: {**order, "line_items": "nope"},
        "refund-amount-abc": lambda: {**refund_of(order, 0, 921000 + n), "transactions": [
            {"kind": "refund", "status": "success", "amount": "abc"}]},
        "order-id-2-100": lambda: {**order, "id": 2 ** 100},
        "nul-name": lambda: {**customer_created(72011), "first_name": "A\u0000da"},
    }
    return variants[spec]() if isinstance(spec, str) else spec


def test_payloads_that_can_never_apply_are_recorded_and_the_worker_carries_on(
        served, shop_installed, redis_url, workers):
    db = shop_installed
    _, deliveries = served
    cases = {**FAILED_AT_ONCE, **WRONG_SHAPE}
    for n, (name, (topic, spec, _)) in enumerate(cases.items()):
        response = deliveries.post(topic, _payload(spec, n), f"bad-{n}")
        assert (name, response.status_code) == (name, 200)
    # A good order after all of them, for a customer who joined first.
    deliveries.post("customers/create", customer_created(GOOD_CUSTOMER), "good-joins")
    deliveries.post("orders/paid", paid_order(822000, GOOD_CUSTOMER, ["12.00"]), "good-paid")

    worker = workers(db.url, redis_url, burst=True, scheduler=False)
    assert worker.wait(timeout=120) == 0

    by_id = {e.webhook_id: e for e in events(db)}
    for n, (name, (_, _, error)) in enumerate(cases.items()):
        event = by_id[f"bad-{n}"]
        assert (name, event.attempts) == (name, 1)
        assert event.last_error.startswith(f"{error}:"), (name, event.last_error)
        assert (name, event.outcome) == (name, "failed")
    assert (by_id["good-paid"].outcome, by_id["good-paid"].attempts) == ("processed", 1)
    assert member_points(db, GOOD_CUSTOMER) == (250, 60, 310)


def test_payloads_of_the_wrong_shape_fail_on_their_first_attempt(served, shop_installed,
                                                                 redis_url, workers):
    db = shop_installed
    _, deliveries = served
    for n, (topic, spec, _) in enumerate(WRONG_SHAPE.values()):
        deliveries.post(topic, _payload(spec, n), f"shape-{n}")
    worker = workers(db.url, redis_url, burst=True, scheduler=False)
    assert worker.wait(timeout=120) == 0
    assert {e.webhook_id: e.outcome for e in events(db)} == {
        f"shape-{n}": "failed" for n in range(len(WRONG_SHAPE))}
