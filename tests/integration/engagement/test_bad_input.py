"""What a shopper types into the email pages is stored as sent or refused with a 400; a NUL
character (which PostgreSQL cannot store) or a product id that is not an id never is a 500."""

from __future__ import annotations

import pytest

from tests.integration.engagement.conftest import T0, TEA, days
from tests.support.rows import row_counts
from tests.support.smtp_fixture import body_text

ADA, ADA_EMAIL = 9001, "ada@example.com"


def _review_path(shopfront) -> str:
    """The review link of Ada's review request for order 5001."""
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.fulfil(5001, T0 + days(2))
    shopfront.run_due(T0 + days(12))
    text = body_text(shopfront.inbox(ADA_EMAIL)[-1])
    return text.split("Write a review: ")[1].split()[0].removeprefix("https://loyalty.test")


@pytest.mark.parametrize(("form", "problem"), [
    ({"product_id": str(TEA), "rating": "5", "body": "Lovely\u0000"}, "NUL"),
    ({"product_id": "\u00b2", "rating": "5", "body": "Lovely"}, "not in this order"),
    ({"product_id": "99999999999999999999", "rating": "5", "body": "Lovely"},
     "not in this order"),
])
def test_a_review_that_cannot_be_stored_is_400_and_stores_nothing(shopfront, form: dict,
                                                                  problem: str) -> None:
    path = _review_path(shopfront)
    client = shopfront.client(T0 + days(13))
    before = row_counts(shopfront.db)
    response = client.post(path, data=form)
    assert response.status_code == 400 and problem in response.text
    assert row_counts(shopfront.db) == before


def test_a_survey_comment_with_a_nul_character_is_400_and_stores_nothing(shopfront) -> None:
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0 + days(14))
    survey = shopfront.inbox(ADA_EMAIL)[-1]
    score_9 = [line for line in body_text(survey).splitlines() if line.startswith("9: ")][0]
    path = score_9.removeprefix("9: ").removeprefix("https://loyalty.test").split("?")[0]
    client = shopfront.client(T0 + days(14) + days(1 / 24))
    before = row_counts(shopfront.db)
    response = client.post(path, data={"score": "9", "comment": "Cold tea\u0000"})
    assert response.status_code == 400 and "NUL" in response.text
    assert row_counts(shopfront.db) == before
