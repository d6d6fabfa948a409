"""Signed storefront requests whose ids cannot be ours are a clear 4xx that writes nothing.

Shopify signs whatever the query holds, so a valid signature says nothing about the values:
`product_id=²` passed `str.isdigit` and failed in `int()`, and ids beyond bigint failed in
the database (SQLite's driver refuses them, PostgreSQL refuses them on insert).
"""

from __future__ import annotations

import pytest

from app.db import utcnow
from app.loyalty.members import enrol
from tests.integration.proxy.test_proxy import proxy_query
from tests.support.factories import make_shop
from tests.support.rows import row_counts

SHOP = "bad-input-shop.myshopify.com"
BEYOND_BIGINT = "99999999999999999999"


@pytest.fixture
def shop(db):
    with db.transaction() as session:
        shop = make_shop(session, domain=SHOP)
        enrol(session, shop, now=utcnow(), customer_id=11, email="ada@example.com",
              first_name="Ada")
    return db


@pytest.mark.parametrize("product_id", ["\u00b2", BEYOND_BIGINT, "\u0663", "-5", "12abc"])
def test_a_reviews_read_for_a_product_id_that_is_not_an_id_is_400(client, shop,
                                                                   product_id: str) -> None:
    before = row_counts(shop)
    response = client.get(f"/proxy/reviews?{proxy_query(SHOP, None, product_id=product_id)}")
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_product_id")
    assert row_counts(shop) == before


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/proxy/member", None), ("GET", "/proxy/program", None),
    ("POST", "/proxy/share", {"via": "copy"}), ("POST", "/proxy/birthday", {"birthday": "07-14"}),
    ("POST", "/proxy/redeem", {"reward_id": 1}),
])
def test_a_signed_customer_id_beyond_bigint_is_refused_before_anything_is_written(
        client, shop, method: str, path: str, body: dict | None) -> None:
    before = row_counts(shop)
    response = client.open(f"{path}?{proxy_query(SHOP, int(BEYOND_BIGINT))}", method=method,
                           json=body)
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_customer_id")
    assert row_counts(shop) == before


def test_a_good_product_id_still_filters_the_reviews(client, shop) -> None:
    response = client.get(f"/proxy/reviews?{proxy_query(SHOP, None, product_id='42')}")
    assert (response.status_code, response.get_json()) == (200, {"reviews": []})


@pytest.mark.parametrize("reward_id", [2**70, 2**63, 0, -1])
def test_a_redeem_of_a_reward_id_that_is_not_an_id_is_400(client, shop, reward_id: int) -> None:
    before = row_counts(shop)
    response = client.post(f"/proxy/redeem?{proxy_query(SHOP, 11)}", json={"reward_id": reward_id})
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_reward")
    assert row_counts(shop) == before
