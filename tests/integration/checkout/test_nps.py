"""POST /api/checkout/nps: one answer per order, the latest kept, the bonus paid once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.checkout.conftest import ADA, GRACE, CheckoutShop

ORDER_ID = 820982911946154508
ANSWERS_AT_ONCE = 4


@pytest.fixture
def paid_order(checkout: CheckoutShop) -> str:
    """Ada's paid order, as the extension names it (a string)."""
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    return str(ORDER_ID)


def test_a_score_then_a_comment_keep_one_answer_and_pay_the_bonus_once(
        checkout: CheckoutShop, paid_order: str) -> None:
    token = checkout.token(ADA)

    first = checkout.post_nps({"order_id": paid_order, "score": 9, "comment": ""}, token)
    second = checkout.post_nps({"order_id": paid_order, "score": 9,
                                "comment": "  Quick delivery, lovely packaging.  "}, token)

    assert (first.status_code, first.get_json()) == (200, {"ok": True, "bonus_points": 50})
    assert (second.status_code, second.get_json()) == (200, {"ok": True, "bonus_points": 50})
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    (answer,) = checkout.survey_responses()
    assert (answer.order_id, answer.score, answer.comment, answer.detractor, answer.channel) == (
        ORDER_ID, 9, "Quick delivery, lovely packaging.", False, "thank_you")
    assert answer.member_id == checkout.member(ADA).id
    assert checkout.ledger_kinds(ADA) == [("earn_order", 135), ("bonus_nps", 50)]
    member = checkout.member(ADA)
    assert (member.points_available, member.points_pending) == (50, 135)


def test_the_view_says_the_survey_was_answered(checkout: CheckoutShop, paid_order: str) -> None:
    checkout.post_nps({"order_id": paid_order, "score": 10, "comment": ""}, checkout.token(ADA))

    body = checkout.get_order(paid_order, checkout.token(ADA)).get_json()

    assert body["nps"] == {"asked": True, "answered": True, "bonus_points": 50}
    assert body["member"]["points"] == {"available": 50, "pending": 135}


@pytest.mark.parametrize(("score", "detractor"), [(0, True), (6, True), (7, False),
                                                  (10, False)])
def test_scores_up_to_six_are_flagged_as_detractors_for_the_merchant(
        checkout: CheckoutShop, paid_order: str, score: int, detractor: bool) -> None:
    checkout.post_nps({"order_id": paid_order, "score": score, "comment": ""},
                      checkout.token(ADA))
    (answer,) = checkout.survey_responses()
    assert (answer.score, answer.detractor) == (score, detractor)


def test_a_changed_score_replaces_the_first_and_its_flag(checkout: CheckoutShop,
                                                         paid_order: str) -> None:
    token = checkout.token(ADA)
    checkout.post_nps({"order_id": paid_order, "score": 9, "comment": ""}, token)
    checkout.post_nps({"order_id": paid_order, "score": 3, "comment": "Arrived broken"}, token)

    (answer,) = checkout.survey_responses()
    assert (answer.score, answer.comment, answer.detractor) == (3, "Arrived broken", True)
    assert checkout.ledger_kinds(ADA).count(("bonus_nps", 50)) == 1


def test_without_an_nps_bonus_the_answer_is_stored_and_earns_nothing(
        checkout: CheckoutShop, paid_order: str) -> None:
    checkout.save_settings({"bonuses": {"nps": 0}})

    response = checkout.post_nps({"order_id": paid_order, "score": 8, "comment": ""},
                                 checkout.token(ADA))

    assert response.get_json() == {"ok": True, "bonus_points": 0}
    assert len(checkout.survey_responses()) == 1
    assert checkout.ledger_kinds(ADA) == [("earn_order", 135)]
    assert checkout.get_order(paid_order, checkout.token(ADA)).get_json()["nps"] == {
        "asked": True, "answered": True, "bonus_points": 0}


def test_the_order_status_page_records_its_own_channel(checkout: CheckoutShop,
                                                       paid_order: str) -> None:
    checkout.post_nps({"order_id": paid_order, "score": 9, "comment": ""}, checkout.token(ADA),
                      surface="customer_account")
    (answer,) = checkout.survey_responses()
    assert answer.channel == "order_status"


@pytest.mark.parametrize("score", [11, -1, "9", 9.5, True, None])
def test_a_score_outside_zero_to_ten_is_refused(checkout: CheckoutShop, paid_order: str,
                                                score: object) -> None:
    response = checkout.post_nps({"order_id": paid_order, "score": score, "comment": ""},
                                 checkout.token(ADA))
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_score")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert checkout.survey_responses() == []


def test_a_comment_of_a_thousand_characters_is_kept_and_one_more_is_refused(
        checkout: CheckoutShop, paid_order: str) -> None:
    token = checkout.token(ADA)
    too_long = checkout.post_nps({"order_id": paid_order, "score": 9, "comment": "x" * 1001},
                                 token)
    assert (too_long.status_code, too_long.get_json()["error"]) == (400, "invalid_comment")
    assert checkout.survey_responses() == []

    fits = checkout.post_nps({"order_id": paid_order, "score": 9, "comment": "x" * 1000}, token)
    assert fits.status_code == 200
    (answer,) = checkout.survey_responses()
    assert answer.comment == "x" * 1000


@pytest.mark.parametrize("body", [{"score": 9}, {"order_id": "gid://shopify/Order/1",
                                                 "score": 9}, {"order_id": True, "score": 9}])
def test_an_answer_must_name_the_order_by_its_number(checkout: CheckoutShop, paid_order: str,
                                                     body: dict) -> None:
    response = checkout.post_nps(body, checkout.token(ADA))
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_order_id")


def test_another_customer_cannot_answer_for_this_order(checkout: CheckoutShop,
                                                       paid_order: str) -> None:
    checkout.enrol(GRACE, first_name="Grace")

    response = checkout.post_nps({"order_id": paid_order, "score": 0, "comment": ""},
                                 checkout.token(GRACE))

    assert (response.status_code, response.get_json()["error"]) == (404, "order_not_found")
    assert checkout.survey_responses() == []
    assert checkout.ledger_kinds(GRACE) == []


def test_an_order_not_recorded_yet_cannot_be_answered(checkout: CheckoutShop) -> None:
    checkout.enrol(ADA)
    checkout.shopify_knows(checkout.order_payload(ORDER_ID, ADA, "27.00"))

    response = checkout.post_nps({"order_id": str(ORDER_ID), "score": 9, "comment": ""},
                                 checkout.token(ADA))

    assert (response.status_code, response.get_json()["error"]) == (404, "order_not_found")
    assert checkout.survey_responses() == []


def test_two_answers_racing_each_other_store_one_answer_and_pay_once(
        pg_checkout: CheckoutShop) -> None:
    # A double tap sends two first answers at once: they must not both insert or both pay.
    pg_checkout.pay(pg_checkout.order_payload(ORDER_ID, ADA, "27.00"))
    token = pg_checkout.token(ADA)
    start = threading.Barrier(ANSWERS_AT_ONCE)

    def answer(score: int) -> int:
        """Post one first answer as soon as every thread is ready; its HTTP status."""
        client = pg_checkout.app.test_client()
        start.wait()
        return client.post("/api/checkout/nps", headers={"Authorization": f"Bearer {token}"},
                           json={"order_id": str(ORDER_ID), "score": score,
                                 "comment": ""}).status_code

    with ThreadPoolExecutor(ANSWERS_AT_ONCE) as pool:
        statuses = list(pool.map(answer, range(ANSWERS_AT_ONCE)))

    assert statuses == [200] * ANSWERS_AT_ONCE
    assert len(pg_checkout.survey_responses()) == 1
    assert pg_checkout.ledger_kinds(ADA) == [("earn_order", 135), ("bonus_nps", 50)]
    assert pg_checkout.member(ADA).points_available == 50


def test_an_answer_that_is_not_json_is_refused(checkout: CheckoutShop, paid_order: str) -> None:
    response = checkout.client.post("/api/checkout/nps", data={"score": "9"}, headers={
        "Authorization": f"Bearer {checkout.token(ADA)}"})
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_body")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
