"""A valid session token cannot turn the order preview into a stream of Admin API calls.

Before orders/paid the API may ask Shopify for the order to preview its points. That look-up
is made only for a token naming a customer, only counts when the order is that customer's,
is limited per customer, per client address and per shop, and one that found nothing is
remembered for a minute. Before, 40 requests for unknown ids with one token made 40 Admin
GraphQL calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import pytest
from redis import Redis

from app import create_app
from app.db import Database
from app.web.checkout_api import (
    LOOKUPS_PER_CLIENT_PER_MINUTE,
    LOOKUPS_PER_CUSTOMER_PER_MINUTE,
    LOOKUPS_PER_SHOP_PER_MINUTE,
    REQUESTS_PER_MINUTE,
)
from devstore import ShopifyEmulator
from tests.conftest import app_config
from tests.integration.checkout.conftest import ADA, NOW, SHOP, CheckoutShop, install_shop

UNKNOWN = 920000000000000000


def _order_calls(checkout: CheckoutShop) -> int:
    """How many Admin API `order` queries the emulator answered for the shop."""
    return len(checkout.emulator.shop(SHOP).calls_to("order"))


def _get(checkout: CheckoutShop, order_id: int, token: str, client: str = "203.0.113.7"):
    """GET the order from a given client address."""
    return checkout.client.get(f"/api/checkout/order/{order_id}",
                               headers={"Authorization": f"Bearer {token}"},
                               environ_base={"REMOTE_ADDR": client})


def test_forty_unknown_order_ids_with_one_token_ask_shopify_at_most_five_times(
        checkout: CheckoutShop) -> None:
    token = checkout.token(ADA)

    answers = [_get(checkout, UNKNOWN + n, token) for n in range(40)]

    assert _order_calls(checkout) == LOOKUPS_PER_CUSTOMER_PER_MINUTE == 5
    codes = [(a.status_code, a.get_json()["error"]) for a in answers]
    assert codes[:5] == [(404, "order_not_found")] * 5
    assert codes[5:] == [(429, "rate_limited")] * 35
    assert all(a.headers["Access-Control-Allow-Origin"] == "*" for a in answers)


def test_an_unknown_order_asked_again_is_answered_from_memory(checkout: CheckoutShop) -> None:
    answers = [_get(checkout, UNKNOWN, checkout.token(ADA)) for _ in range(4)]

    assert {(a.status_code, a.get_json()["error"]) for a in answers} == {
        (404, "order_not_found")}
    assert _order_calls(checkout) == 1


def test_a_guest_token_never_makes_shopify_look_up_an_order(checkout: CheckoutShop) -> None:
    checkout.shopify_knows(checkout.order_payload(UNKNOWN, None, "27.00"))

    answers = [_get(checkout, UNKNOWN + n, checkout.token(None)) for n in range(10)]

    assert {(a.status_code, a.get_json()["error"]) for a in answers} == {
        (404, "order_not_ready")}
    assert _order_calls(checkout) == 0


def test_look_ups_from_one_client_are_limited_whatever_customer_the_token_names(
        checkout: CheckoutShop) -> None:
    answers = [_get(checkout, UNKNOWN + n, checkout.token(7000 + n)) for n in range(15)]

    assert _order_calls(checkout) == LOOKUPS_PER_CLIENT_PER_MINUTE == 10
    assert [a.status_code for a in answers] == [404] * 10 + [429] * 5


def test_every_call_of_one_shopper_from_one_client_is_limited(checkout: CheckoutShop) -> None:
    checkout.pay(checkout.order_payload(UNKNOWN, ADA, "27.00"))

    token = checkout.token(ADA)
    answers = [_get(checkout, UNKNOWN, token) for _ in range(REQUESTS_PER_MINUTE + 1)]

    assert [a.status_code for a in answers] == [200] * REQUESTS_PER_MINUTE + [429]
    assert answers[-1].get_json()["error"] == "rate_limited"
    # Another shopper is not held back by it.
    assert _get(checkout, UNKNOWN, checkout.token(None)).status_code == 200


@pytest.fixture
def two_processes(pg: Database, emulator: ShopifyEmulator, redis_url: str
                  ) -> Iterator[tuple[CheckoutShop, CheckoutShop]]:
    """Two app instances (two web processes) on PostgreSQL sharing the real Redis."""
    apps = [create_app(app_config(pg, redis_url=redis_url,
                                  shopify_admin_base=emulator.base_url)) for _ in range(2)]
    for app in apps:
        # The limits' windows follow this clock: the test never straddles two of them.
        app.extensions["shopify_clock"] = lambda: NOW.replace(tzinfo=UTC).timestamp()
    install_shop(pg, emulator, apps[0])
    yield tuple(CheckoutShop(app, app.test_client(), pg, emulator) for app in apps)
    for app in apps:
        http = app.extensions.get("shopify_http")
        if http is not None:
            http.close()


def test_the_limits_and_the_memory_hold_across_web_processes_on_redis(
        two_processes: tuple[CheckoutShop, CheckoutShop], redis_url: str) -> None:
    one, other = two_processes
    token = one.token(ADA)

    answers = [_get((one, other)[n % 2], UNKNOWN + n, token) for n in range(40)]
    repeated = _get(other, UNKNOWN, other.token(ADA), client="198.51.100.9")

    assert _order_calls(one) == LOOKUPS_PER_CUSTOMER_PER_MINUTE
    assert [a.status_code for a in answers].count(404) == LOOKUPS_PER_CUSTOMER_PER_MINUTE
    assert (repeated.status_code, repeated.get_json()["error"]) == (404, "order_not_found")
    assert _order_calls(one) == LOOKUPS_PER_CUSTOMER_PER_MINUTE
    conn = Redis.from_url(redis_url)
    try:
        assert conn.get(f"memory:checkout-lookup:{SHOP}:{UNKNOWN}") == b"missing"
    finally:
        conn.close()


def test_when_the_shops_look_up_budget_is_spent_shoppers_wait_for_orders_paid(
        two_processes: tuple[CheckoutShop, CheckoutShop]) -> None:
    one, _ = two_processes
    budget = LOOKUPS_PER_SHOP_PER_MINUTE
    # Each customer from their own address: no per-customer or per-client limit is reached.
    answers = [_get(one, UNKNOWN + n, one.token(7000 + n), client=f"10.0.{n // 250}.{n % 250}")
               for n in range(budget + 3)]

    assert _order_calls(one) == budget
    assert [a.status_code for a in answers[:budget]] == [404] * budget
    assert {a.get_json()["error"] for a in answers[budget:]} == {"order_not_ready"}


def test_with_redis_down_the_block_still_answers_and_the_limits_hold_in_the_process(
        db: Database, emulator: ShopifyEmulator) -> None:
    # A closed port: Redis refuses every connection, as in an outage.
    app = create_app(app_config(db, redis_url="redis://127.0.0.1:9/0",
                                shopify_admin_base=emulator.base_url))
    app.extensions["shopify_clock"] = lambda: NOW.replace(tzinfo=UTC).timestamp()
    install_shop(db, emulator, app)
    checkout = CheckoutShop(app, app.test_client(), db, emulator)
    checkout.pay(checkout.order_payload(UNKNOWN, ADA, "27.00"))
    try:
        own = _get(checkout, UNKNOWN, checkout.token(ADA))
        unknown = [_get(checkout, UNKNOWN + 1 + n, checkout.token(ADA)) for n in range(8)]
    finally:
        if app.extensions.get("shopify_http") is not None:
            app.extensions["shopify_http"].close()

    assert (own.status_code, own.get_json()["order"]["points"]) == (200, 135)
    assert [a.status_code for a in unknown] == [404] * 5 + [429] * 3
    assert _order_calls(checkout) == LOOKUPS_PER_CUSTOMER_PER_MINUTE
