"""The storefront shows a held-out customer nothing: every shopper call answers
not_in_program and changes nothing, while the program's other customers see it all."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.loyalty import holdout
from app.loyalty.ledger import post
from app.loyalty.members import enrol
from app.loyalty.rewards import seed_default_rewards
from app.models import Member, Message, Redemption
from tests.integration.loyalty.test_holdout import customers_in
from tests.integration.proxy.test_proxy import proxy_query
from tests.support.factories import make_shop

SHOP = "holdout-shop.myshopify.com"
NOT_IN_PROGRAM = {"error": "not_in_program",
                  "message": "the loyalty program is not available to this customer"}


@pytest.fixture
def shoppers(db) -> dict[str, int]:
    """A shop running a 10 % holdout; one customer of each group, enrolled, with points put
    on the held-out one's ledger as if by mistake (the storefront still shows none)."""
    now = utcnow()
    with db.transaction() as s:
        shop = make_shop(s, domain=SHOP)
        seed_default_rewards(s, shop, now)
        holdout.start(shop, 10, now)
        [control, first_seen] = customers_in(shop, holdout.CONTROL, 2)
        [treated] = customers_in(shop, holdout.PROGRAM)
        for customer_id in (control, treated):
            member = enrol(s, shop, now=now, customer_id=customer_id, email=f"{customer_id}@x.io")
            post(s, member, points=1200, kind="adjust", source_key=f"seed-{customer_id}",
                 now=now, note="seed")
    return {"control": control, "program": treated, "first_seen": first_seen}


CALLS = [("GET", "/proxy/member", None), ("POST", "/proxy/redeem", {"reward_id": 1}),
         ("POST", "/proxy/birthday", {"birthday": "04-12"}),
         ("POST", "/proxy/share", {"via": "copy"})]


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=[c[1] for c in CALLS])
def test_a_held_out_customer_is_answered_not_in_program_and_nothing_changes(
        client, db, shoppers, method, path, body):
    response = client.open(f"{path}?{proxy_query(SHOP, shoppers['control'])}", method=method,
                           json=body)
    assert (response.status_code, response.get_json()) == (404, NOT_IN_PROGRAM)
    with db.sessions() as s:
        member = s.execute(select(Member).where(
            Member.customer_id == shoppers["control"])).scalar_one()
        assert (member.birthday, member.points_available) == (None, 1200)
        assert s.execute(select(Redemption)).first() is None
        assert s.execute(select(Message)).first() is None


def test_the_programs_customers_see_their_member_view(client, shoppers):
    response = client.get(f"/proxy/member?{proxy_query(SHOP, shoppers['program'])}")
    assert response.status_code == 200
    assert response.get_json()["points"]["available"] == 1200


def test_a_customer_first_seen_through_the_widget_is_assigned_and_it_is_kept(client, db,
                                                                             shoppers):
    query = proxy_query(SHOP, shoppers["first_seen"])
    first, again = client.get(f"/proxy/member?{query}"), client.get(f"/proxy/member?{query}")
    assert first.get_json() == again.get_json() == NOT_IN_PROGRAM
    with db.sessions() as s:
        member = s.execute(select(Member).where(
            Member.customer_id == shoppers["first_seen"])).scalar_one()
        assert member.holdout_group == holdout.CONTROL


def test_after_the_holdout_ends_the_held_out_customer_sees_the_program(client, db, shoppers):
    from app.models import Shop

    with db.transaction() as s:
        holdout.end(s, s.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one(),
                    utcnow())
    response = client.get(f"/proxy/member?{proxy_query(SHOP, shoppers['control'])}")
    assert response.status_code == 200
    assert response.get_json()["points"]["available"] == 1200


def test_a_customer_first_seen_through_the_widget_gets_the_held_out_metafield_written(
        db, redis_url, shoppers):
    # The launcher was rendered before the app knew them: the metafield job hides it next time.
    from app import create_app
    from tests.conftest import app_config

    app = create_app(app_config(db, redis_url=redis_url))
    queue = app.extensions["runtime"].queue
    queue.rq_queue("default").empty()
    client = app.test_client()
    client.get(f"/proxy/member?{proxy_query(SHOP, shoppers['first_seen'])}")
    client.get(f"/proxy/member?{proxy_query(SHOP, shoppers['control'])}")
    with db.sessions() as s:
        shop_id, member_id = s.execute(select(Member.shop_id, Member.id).where(
            Member.customer_id == shoppers["first_seen"])).one()
    assert queue.rq_queue("default").job_ids == [f"metafields-{shop_id}-{member_id}-held-out"]
