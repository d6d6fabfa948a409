"""The thank-you and order-status block shows nothing of a draft program; after the launch an
order earns and shows its points, while an order paid in draft stays at none."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.loyalty.launch import launch
from app.models import Shop
from tests.integration.checkout.conftest import NOW, SHOP, CheckoutShop

ADA = 7001
NOT_LIVE = {"error": "program_not_live", "message": "the loyalty program has not been launched yet"}


@pytest.fixture
def draft(checkout: CheckoutShop) -> CheckoutShop:
    """The shop just installed: nobody has launched its program yet."""
    with checkout.db.transaction() as session:
        session.execute(update(Shop).where(Shop.domain == SHOP).values(launched_at=None))
    return checkout


def _launch(checkout: CheckoutShop) -> None:
    with checkout.db.transaction() as session:
        shop = session.query(Shop).filter_by(domain=SHOP).one()
        launch(shop, NOW, holdout_share=0)


def test_a_draft_program_shows_nothing_at_checkout_and_takes_no_nps(draft: CheckoutShop):
    order = draft.order_payload(91001, ADA, "40.00")
    before_paid = draft.get_order(91001, draft.token(ADA))
    draft.shopify_knows(order)
    draft.pay(order)
    after_paid = draft.get_order(91001, draft.token(ADA))
    guest = draft.get_order(91001, draft.token())
    nps = draft.post_nps({"order_id": "91001", "score": 9}, draft.token(ADA))
    for answer in (before_paid, after_paid, guest, nps):
        assert (answer.status_code, answer.get_json()) == (404, NOT_LIVE)
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert draft.survey_responses() == []


def test_after_the_launch_a_new_order_earns_and_one_paid_in_draft_stays_at_none(
        draft: CheckoutShop):
    draft.pay(draft.order_payload(91001, ADA, "40.00"))
    _launch(draft)
    draft.pay(draft.order_payload(91002, ADA, "40.00"))
    in_draft = draft.get_order(91001, draft.token(ADA)).get_json()
    launched = draft.get_order(91002, draft.token(ADA)).get_json()
    assert (in_draft["order"]["points"], in_draft["order"]["status"]) == (0, "not_eligible")
    assert (launched["order"]["points"], launched["order"]["status"]) == (200, "pending")
    assert draft.member(ADA).points_pending == 200
