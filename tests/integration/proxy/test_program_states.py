"""The storefront follows the program's state: a draft shows shoppers nothing, a launch shows
everything (app/loyalty/launch.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.loyalty.launch import launch
from app.loyalty.members import enrol
from app.loyalty.rewards import seed_default_rewards
from app.models import Member, Shop
from tests.integration.proxy.test_proxy import proxy_query
from tests.support.factories import make_shop

SHOP = "draft-shop.myshopify.com"
SHOPPER = 11


@pytest.fixture
def draft_shop(db) -> int:
    with db.transaction() as s:
        shop = make_shop(s, domain=SHOP, name="Draft Shop", live=False)
        seed_default_rewards(s, shop, utcnow())
        enrol(s, shop, now=utcnow(), customer_id=SHOPPER, email="ada@example.com")
        return shop.id


SHOPPER_CALLS = [
    ("GET", "/proxy/program", None, None),
    ("GET", "/proxy/member", SHOPPER, None),
    ("POST", "/proxy/redeem", SHOPPER, {"reward_id": 1}),
    ("POST", "/proxy/birthday", SHOPPER, {"birthday": "04-12"}),
    ("POST", "/proxy/share", SHOPPER, {"via": "copy"}),
    ("GET", "/proxy/reviews", None, None),
]


@pytest.mark.parametrize(("method", "path", "customer", "body"), SHOPPER_CALLS,
                         ids=[c[1] for c in SHOPPER_CALLS])
def test_a_draft_program_answers_shoppers_program_not_live_and_changes_nothing(
        client, db, draft_shop, method, path, customer, body):
    response = client.open(f"{path}?{proxy_query(SHOP, customer)}", method=method, json=body)
    assert response.status_code == 404
    assert response.get_json() == {"error": "program_not_live",
                                   "message": "the loyalty program has not been launched yet"}
    with db.sessions() as s:
        ada = s.execute(select(Member).where(Member.customer_id == SHOPPER)).scalar_one()
        assert (ada.birthday, ada.points_available) == (None, 0)
        assert s.execute(select(func.count()).select_from(Member)).scalar_one() == 1


def test_the_proxys_own_address_still_answers_in_draft(client, draft_shop):
    # The merchant checks a moved proxy before launching; the path is learnt all the same.
    response = client.get(f"/proxy?{proxy_query(SHOP, None)}")
    assert (response.status_code, response.get_json()) == (200, {"ok": True})


def test_once_launched_the_same_shopper_sees_the_program(client, db, draft_shop):
    before = client.get(f"/proxy/member?{proxy_query(SHOP, SHOPPER)}")
    with db.transaction() as s:
        launch(s.get(Shop, draft_shop), utcnow(), holdout_share=0)
    after = client.get(f"/proxy/member?{proxy_query(SHOP, SHOPPER)}")
    program = client.get(f"/proxy/program?{proxy_query(SHOP, None)}")
    assert before.status_code == 404
    assert after.status_code == 200 and after.get_json()["points"]["available"] == 0
    assert program.status_code == 200
