"""POST /proxy/redeem: the widget spends points on a reward, and Shopify (the local emulator, over
HTTP) gets a discount only that shopper can use, once; every refusal keeps the points."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.db import Database, utcnow
from app.loyalty.ledger import post
from app.loyalty.redemption import mark_redemptions_used, void_redemption
from app.loyalty.rewards import seed_default_rewards
from app.models import Member, Redemption, Reward, Shop
from devstore import ShopifyEmulator
from tests.conftest import TEST_API_SECRET
from tests.support.factories import make_member, make_shop
from tests.support.installed import live_shop_with_member

SHOP = "redeem-widget.myshopify.com"
CUSTOMER_ID = 7_310_627_314_723_954
CUSTOMER_GID = f"gid://shopify/Customer/{CUSTOMER_ID}"


def proxy_query(shop: str, customer_id: int | None, *, secret: str = TEST_API_SECRET) -> str:
    """The query Shopify appends, signed as shopify-notes §3 says (written independently)."""
    params = {"shop": shop,
              "logged_in_customer_id": "" if customer_id is None else str(customer_id),
              "path_prefix": "/apps/loyalty", "timestamp": str(int(time.time()))}
    message = "".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode(params)



@dataclass
class Widget:
    """The app with one installed shop whose member has 1,000 points, and its Shopify."""

    app: Flask
    db: Database
    emulator: ShopifyEmulator
    rewards: dict[str, int]

    def redeem(self, body: Any, customer_id: int | None = CUSTOMER_ID) -> Any:
        """POST /proxy/redeem as Shopify forwards it for this shopper; the answer (closed)."""
        with self.app.test_client() as client:
            response = client.post(f"/proxy/redeem?{proxy_query(SHOP, customer_id)}",
                                   json=body)
            response.close()
            return response

    def member(self) -> Any:
        """GET /proxy/member as Shopify forwards it for this shopper: the JSON answer."""
        with self.app.test_client() as client:
            return client.get(f"/proxy/member?{proxy_query(SHOP, CUSTOMER_ID)}").get_json()

    def points(self) -> int:
        """The member's available points as the app holds them."""
        with self.db.sessions() as s:
            return s.execute(select(Member.points_available).where(
                Member.customer_id == CUSTOMER_ID)).scalar_one()

    def redemptions(self) -> list[Redemption]:
        """Every redemption, oldest first."""
        with self.db.sessions() as s:
            return list(s.execute(select(Redemption).order_by(Redemption.id)).scalars())

    @property
    def shopify(self) -> Any:
        """What the emulated shop holds."""
        return self.emulator.shop(SHOP)


@pytest.fixture
def widget(db: Database, emulator: ShopifyEmulator) -> Iterator[Widget]:
    """Installed in the emulator (a real offline token) and in our database, with the default
    catalog and a member holding exactly 1,000 points."""
    now = utcnow()
    app, rewards = live_shop_with_member(db, emulator, SHOP, CUSTOMER_ID, now)
    yield Widget(app, db, emulator, rewards)


def test_a_redeemed_reward_is_a_code_only_that_shopper_can_use_once(widget):
    answer = widget.redeem({"reward_id": widget.rewards["$5 off"]})

    assert answer.status_code == 200
    body = answer.get_json()
    [redemption] = widget.redemptions()
    code = redemption.code
    assert body["redemption"] == {"code": code, "title": "$5 off",
                                  "apply_url": f"/discount/{code}"}
    assert (body["points"]["available"], widget.points()) == (500, 500)
    assert [r["affordable"] for r in body["rewards"]] == [True, True, False, False]
    assert body["activity"][0]["points"] == -500
    discount = widget.shopify.discount(code)
    assert (discount.customer_ids, discount.usage_limit, discount.applies_once_per_customer,
            discount.value) == ([CUSTOMER_GID], 1, True,
                                {"amount": "5.00", "appliesOnEachItem": False})
    assert (redemption.status, redemption.shopify_discount_id) == ("issued", discount.gid)


def test_the_members_unused_codes_stay_listed_newest_first_until_an_order_uses_or_expiry_ends_them(
        widget):
    five = widget.redeem({"reward_id": widget.rewards["$5 off"]}).get_json()["redemption"]
    answer = widget.redeem({"reward_id": widget.rewards["Free shipping"]}).get_json()
    shipping = answer["redemption"]

    # A reload reads them from GET /proxy/member; the redeem answer carries the same list.
    assert widget.member()["codes"] == answer["codes"] == [shipping, five]
    assert five == {"code": five["code"], "title": "$5 off",
                    "apply_url": f"/discount/{five['code']}"}
    with widget.db.transaction() as s:
        shop_id = s.execute(select(Shop.id).where(Shop.domain == SHOP)).scalar_one()
        mark_redemptions_used(s, shop_id, [five["code"]], 9001, utcnow())
    assert widget.member()["codes"] == [shipping]
    with widget.db.transaction() as s:
        row = s.execute(select(Redemption).where(
            Redemption.code == shipping["code"])).scalar_one()
        void_redemption(s, row, utcnow(), expired=True)
    assert widget.member()["codes"] == []


def test_a_failed_redemption_and_another_shoppers_code_are_not_listed(widget):
    widget.emulator.shop(SHOP).add_customer(CUSTOMER_ID + 1, email="bo@example.com",
                                            first_name="Bo")
    with widget.db.transaction() as s:
        shop = s.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        other = make_member(s, shop, customer_id=CUSTOMER_ID + 1, now=utcnow())
        post(s, other, points=1000, kind="adjust", source_key="start-bo", now=utcnow())
    assert widget.redeem({"reward_id": widget.rewards["$5 off"]},
                         customer_id=CUSTOMER_ID + 1).status_code == 200
    widget.emulator.fail_next("discountCodeBasicCreate", "user_error")
    assert widget.redeem({"reward_id": widget.rewards["$5 off"]}).status_code == 502

    assert widget.member()["codes"] == []


def test_the_balance_after_a_redeem_is_synced_to_the_shoppers_metafield(widget):
    widget.redeem({"reward_id": widget.rewards["$10 off"]})

    synced = {mf.key: mf.value for (owner, _, _), mf in widget.shopify.metafields.items()
              if owner == CUSTOMER_GID}
    assert synced["points"] == "0"


def test_a_reward_that_costs_more_than_the_balance_is_409_and_shopify_is_never_asked(widget):
    answer = widget.redeem({"reward_id": widget.rewards["$25 off"]})

    assert answer.status_code == 409
    assert answer.get_json() == {
        "error": "insufficient_points",
        "message": "this reward needs 2500 points; you have 1000"}
    assert (widget.points(), widget.redemptions()) == (1000, [])
    assert widget.shopify.calls_to("discountCodeBasicCreate") == []


@pytest.mark.parametrize("which", ["unknown", "withdrawn", "another_shops"])
def test_a_reward_that_is_not_on_offer_here_is_409_reward_unavailable(widget, which):
    reward_id = widget.rewards["$5 off"]
    if which == "unknown":
        reward_id += 1000
    elif which == "withdrawn":
        with widget.db.transaction() as s:
            s.execute(update(Reward).where(Reward.id == reward_id).values(active=False))
    else:
        with widget.db.transaction() as s:
            other = make_shop(s, domain="other-shop.myshopify.com")
            reward_id = seed_default_rewards(s, other, utcnow())[1].id

    answer = widget.redeem({"reward_id": reward_id})

    assert (answer.status_code, answer.get_json()["error"]) == (409, "reward_unavailable")
    assert (widget.points(), widget.redemptions(), widget.shopify.discounts) == (1000, [], {})


def test_a_logged_out_visitor_is_401_not_logged_in(widget):
    answer = widget.redeem({"reward_id": widget.rewards["$5 off"]}, customer_id=None)

    assert (answer.status_code, answer.get_json()["error"]) == (401, "not_logged_in")
    assert widget.redemptions() == []


@pytest.mark.parametrize("body", [None, {}, {"reward_id": "2"}, {"reward_id": True}])
def test_a_body_without_a_numeric_reward_id_is_400(widget, body):
    answer = widget.redeem(body)

    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_reward")


def test_when_shopify_refuses_the_code_the_answer_is_502_with_the_points_back(widget):
    widget.emulator.fail_next("discountCodeBasicCreate", "user_error")

    answer = widget.redeem({"reward_id": widget.rewards["$5 off"]})

    assert answer.status_code == 502
    body = answer.get_json()
    assert (body["error"], body["points"]["available"]) == ("reward_not_issued", 1000)
    assert widget.points() == 1000
    assert [r.status for r in widget.redemptions()] == ["failed"]
    assert widget.shopify.discounts == {}


def test_a_repeated_request_key_answers_the_same_code_and_spends_once(widget):
    body = {"reward_id": widget.rewards["$5 off"], "request_key": "click-7f3k"}

    first = widget.redeem(body).get_json()
    again = widget.redeem(body)

    assert again.status_code == 200
    assert again.get_json()["redemption"] == first["redemption"]
    assert list(widget.shopify.discounts) == [first["redemption"]["code"]]
    assert widget.points() == 500


def test_a_repeated_request_key_whose_code_is_still_being_made_is_409_and_spends_nothing(
        widget):
    # The first request reserved the points and is talking to Shopify right now.
    now = utcnow()
    with widget.db.transaction() as s:
        shop = s.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        member = s.execute(select(Member).where(Member.customer_id == CUSTOMER_ID)).scalar_one()
        pending = Redemption(shop_id=shop.id, member_id=member.id,
                             reward_id=widget.rewards["$5 off"], points=500, code="LOYAL-INFLIGHT",
                             request_key="click-1", status="pending", created_at=now,
                             updated_at=now)
        s.add(pending)
        post(s, member, points=-500, kind="redeem", source_key="redeem:in-flight", now=now)

    answer = widget.redeem({"reward_id": widget.rewards["$5 off"], "request_key": "click-1"})

    assert answer.status_code == 409
    assert answer.get_json()["error"] == "redemption_in_progress"
    assert widget.points() == 500
    assert [r.status for r in widget.redemptions()] == ["pending"]
    assert widget.shopify.calls_to("discountCodeBasicCreate") == []


@pytest.mark.parametrize("request_key", ["", "has spaces", "x" * 101, 42])
def test_a_malformed_request_key_is_400_and_spends_nothing(widget, request_key):
    answer = widget.redeem({"reward_id": widget.rewards["$5 off"], "request_key": request_key})

    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_request_key")
    assert (widget.points(), widget.redemptions()) == (1000, [])


def test_a_sync_that_read_an_older_balance_writes_the_newer_one_after_it(widget, monkeypatch):
    """Two syncs of one member overlap: this one read 1,000 points, and while it talked to
    Shopify another event spent 250 and its own sync finished first. Last write must not
    leave the older balance in Shopify."""
    from app.pipeline.member_sync import push_member_metafields
    from app.shopify.graphql import AdminClient

    real_set = AdminClient.set_metafields
    calls: list[list[str]] = []

    def set_while_another_event_commits(self, fields):
        result = real_set(self, fields)
        if not calls:
            with widget.db.transaction() as s:
                s.execute(update(Member).where(Member.customer_id == CUSTOMER_ID)
                          .values(points_available=750))
        calls.append([f.value for f in fields if f.key == "points"])
        return result

    monkeypatch.setattr(AdminClient, "set_metafields", set_while_another_event_commits)
    with widget.db.sessions() as s:
        member = s.execute(select(Member).where(Member.customer_id == CUSTOMER_ID)).scalar_one()
        shop_id, member_id = member.shop_id, member.id
    push_member_metafields(widget.app.extensions["runtime"], shop_id, member_id)

    assert calls == [["1000"], ["750"]]
    synced = {mf.key: mf.value for (owner, _, _), mf in widget.shopify.metafields.items()
              if owner == CUSTOMER_GID}
    assert synced["points"] == "750"
