"""Checkout API input that cannot be an order or a customer of ours: a clear 4xx, no write.

Shopify ids are 64-bit and our columns are bigint: a 20-digit order id in the path or in an
NPS answer, or a 20-digit customer in the token's `sub`, failed in the database (a 500) before
ids were bounded at the edge.
"""

from __future__ import annotations

import pytest

from tests.integration.checkout.conftest import ADA, CheckoutShop
from tests.support.rows import row_counts

ORDER_ID = 820982911946154508
BEYOND_BIGINT = 99999999999999999999


@pytest.mark.parametrize("order_id", [str(BEYOND_BIGINT), "9223372036854775808", "\u00b2"])
def test_an_order_id_beyond_bigint_is_not_found_and_shopify_is_not_asked(
        checkout: CheckoutShop, order_id: str) -> None:
    before = row_counts(checkout.db)
    response = checkout.get_order(order_id, checkout.token(ADA))
    assert (response.status_code, response.get_json()["error"]) == (404, "order_not_found")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert checkout.emulator.shop("thank-you-test.myshopify.com").calls_to("order") == []
    assert row_counts(checkout.db) == before


@pytest.mark.parametrize("order_id", [BEYOND_BIGINT, str(BEYOND_BIGINT), "\u00b2", 0])
def test_an_nps_answer_for_an_order_id_beyond_bigint_is_400(checkout: CheckoutShop,
                                                            order_id: object) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    before = row_counts(checkout.db)
    response = checkout.post_nps({"order_id": order_id, "score": 9}, checkout.token(ADA))
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_order_id")
    assert row_counts(checkout.db) == before


def test_a_token_whose_customer_is_beyond_bigint_is_refused(checkout: CheckoutShop) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    before = row_counts(checkout.db)
    token = checkout.token(BEYOND_BIGINT)
    read = checkout.get_order(ORDER_ID, token)
    assert (read.status_code, read.get_json()["error"]) == (401, "invalid_sub")
    answer = checkout.post_nps({"order_id": ORDER_ID, "score": 9}, token)
    assert (answer.status_code, answer.get_json()["error"]) == (401, "invalid_sub")
    assert row_counts(checkout.db) == before


def test_an_nps_comment_with_a_nul_character_is_400_and_stores_nothing(
        checkout: CheckoutShop) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    before = row_counts(checkout.db)
    response = checkout.post_nps({"order_id": ORDER_ID, "score": 9, "comment": "Lovely\u0000"},
                                 checkout.token(ADA))
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_comment")
    assert row_counts(checkout.db) == before
