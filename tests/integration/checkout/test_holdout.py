"""The thank-you and order-status block shows a held-out customer nothing: neither the order
recorded for them, nor a preview before Shopify's orders/paid reaches the app."""

from __future__ import annotations

import pytest

from app.loyalty import holdout
from app.models import Shop
from tests.integration.checkout.conftest import NOW, SHOP, CheckoutShop
from tests.integration.loyalty.test_holdout import customers_in

NOT_IN_PROGRAM = {"error": "not_in_program",
                  "message": "the loyalty program is not available to this customer"}


@pytest.fixture
def groups(checkout: CheckoutShop) -> dict[str, int]:
    """The shop runs a 10 % holdout: two held-out customers and one in the program."""
    with checkout.db.transaction() as session:
        shop = session.query(Shop).filter_by(domain=SHOP).one()
        holdout.start(shop, 10, NOW)
        control = customers_in(shop, holdout.CONTROL, 2, first=8_000)
        [treated] = customers_in(shop, holdout.PROGRAM, first=8_000)
    return {"control": control[0], "unseen": control[1], "program": treated}


def test_a_held_out_customers_order_shows_nothing_to_them_or_a_guest(
        checkout: CheckoutShop, groups):
    checkout.pay(checkout.order_payload(92001, groups["control"], "40.00"))
    for token in (checkout.token(groups["control"]), checkout.token()):
        answer = checkout.get_order(92001, token)
        assert (answer.status_code, answer.get_json()) == (404, NOT_IN_PROGRAM)
        assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_no_preview_for_a_customer_the_holdout_will_keep_out(checkout: CheckoutShop, groups):
    order = checkout.order_payload(92002, groups["unseen"], "40.00")
    checkout.shopify_knows(order)
    answer = checkout.get_order(92002, checkout.token(groups["unseen"]))
    assert (answer.status_code, answer.get_json()) == (404, NOT_IN_PROGRAM)


def test_the_programs_customers_see_their_points(checkout: CheckoutShop, groups):
    order = checkout.order_payload(92003, groups["program"], "40.00")
    checkout.shopify_knows(order)
    preview = checkout.get_order(92003, checkout.token(groups["program"]))
    checkout.pay(order)
    paid = checkout.get_order(92003, checkout.token(groups["program"]))
    assert preview.status_code == 200 and preview.get_json()["order"]["status"] == "preview"
    assert paid.status_code == 200 and paid.get_json()["order"]["points"] == 200
