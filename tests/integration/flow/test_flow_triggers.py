"""The program's Flow triggers reach Shopify (the emulator's flowTriggerReceive) after the change
commits, once each, with the fields their extension TOMLs declare."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.loyalty import flow_triggers
from app.loyalty.ledger import post, release_unlocked
from app.loyalty.program import current_settings
from app.loyalty.referrals import FLAGGED
from app.loyalty.tiers import evaluate_tier
from app.models import Member, Referral, TierChange
from app.pipeline.flow_triggers import deliver
from devstore.flow import deployed_flow_extensions
from tests.integration.flow.conftest import CUSTOMER_ID, SHOP, FlowShop
from tests.integration.proxy.test_proxy import proxy_query


def redeem(flow_shop: FlowShop, body: dict[str, object]) -> Any:
    """POST /proxy/redeem for the member; closed, so the jobs it deferred have run."""
    with flow_shop.app.test_client() as client:
        response = client.post(f"/proxy/redeem?{proxy_query(SHOP, CUSTOMER_ID)}", json=body)
        response.close()
        return response


def test_every_trigger_the_app_sends_has_an_extension_with_exactly_its_fields() -> None:
    deployed = deployed_flow_extensions()
    for handle, fields in flow_triggers.TRIGGER_FIELDS.items():
        assert deployed[handle].kind == "flow_trigger"
        assert deployed[handle].keys == {"customer_id", *fields}, handle
        assert len(handle) <= 30


def test_a_redeemed_reward_is_sent_to_flow_once_after_the_redemption_commits(
        flow_shop: FlowShop) -> None:
    body = {"reward_id": flow_shop.rewards["$5 off"], "request_key": "tap-1"}
    first, again = redeem(flow_shop, body), redeem(flow_shop, body)
    code = first.get_json()["redemption"]["code"]
    assert again.get_json()["redemption"]["code"] == code

    assert flow_shop.received() == [{"handle": "loyalty-reward-redeemed", "payload": {
        "customer_id": CUSTOMER_ID, "reward": "$5 off", "points": 500, "code": code}}]
    [row] = flow_shop.rows()
    assert (row.status, row.attempts, row.sent_at is not None) == ("sent", 1, True)


def test_a_failed_redemption_tells_flow_nothing(flow_shop: FlowShop) -> None:
    flow_shop.emulator.fail_next("discountCodeBasicCreate", "user_error")
    answer = redeem(flow_shop, {"reward_id": flow_shop.rewards["$5 off"]})
    assert answer.status_code == 502
    assert (flow_shop.received(), flow_shop.rows()) == ([], [])


def test_a_tier_change_is_sent_when_its_transaction_commits_and_never_when_it_rolls_back(
        flow_shop: FlowShop) -> None:
    now = utcnow()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), flow_shop.db.transaction() as s:
        member = s.execute(select(Member).where(Member.customer_id == CUSTOMER_ID)).scalar_one()
        # Gold held long enough ago that the review may move the member down.
        member.tier, member.tier_since = "Gold", now - timedelta(days=800)
        evaluate_tier(s, member, current_settings(s, member.shop_id), now, reason="order")
        raise Abort
    # The trigger's row rolled back with the change.
    assert (flow_shop.received(), flow_shop.rows()) == ([], [])

    with flow_shop.db.transaction() as s:
        member = s.execute(select(Member).where(Member.customer_id == CUSTOMER_ID)).scalar_one()
        # Gold held long enough ago that the review may move the member down.
        member.tier, member.tier_since = "Gold", now - timedelta(days=800)
        change = evaluate_tier(s, member, current_settings(s, member.shop_id), now,
                               reason="order")
        assert change is not None and change.to_tier == "Bronze"
        # Nothing is sent before the commit.
        assert flow_shop.received() == []
    assert flow_shop.received("loyalty-tier-changed") == [{
        "handle": "loyalty-tier-changed", "payload": {
            "customer_id": CUSTOMER_ID, "previous tier": "Gold", "new tier": "Bronze",
            "reason": "order"}}]


def test_points_that_unlock_are_sent_once(flow_shop: FlowShop) -> None:
    now = utcnow()
    with flow_shop.db.transaction() as s:
        member = s.execute(select(Member).where(Member.customer_id == CUSTOMER_ID)).scalar_one()
        post(s, member, points=135, kind="earn_order", source_key="order:1", now=now,
             available_at=now + timedelta(days=30))
    later = now + timedelta(days=31)
    for _ in range(2):
        with flow_shop.db.transaction() as s:
            member = s.get(Member, flow_shop.member().id)
            release_unlocked(s, member, later)
    assert flow_shop.received() == [{"handle": "loyalty-points-available", "payload": {
        "customer_id": CUSTOMER_ID, "points": 135, "points available": 1135}}]


def test_an_nps_detractor_is_sent_once_per_order(flow_shop: FlowShop) -> None:
    from app.engagement.surveys import store_answer

    for comment in (None, "Late again"):
        with flow_shop.db.transaction() as s:
            member = s.get(Member, flow_shop.member().id)
            store_answer(s, member, 5001, 3, comment, "checkout", utcnow())
    with flow_shop.db.transaction() as s:
        store_answer(s, s.get(Member, flow_shop.member().id), 5002, 9, None, "checkout",
                     utcnow())
    assert flow_shop.received() == [{"handle": "loyalty-nps-detractor", "payload": {
        "customer_id": CUSTOMER_ID, "order_id": 5001, "score": 3, "comment": ""}}]


def test_a_flagged_and_a_completed_referral_are_sent(flow_shop: FlowShop) -> None:
    now = utcnow()
    with flow_shop.db.transaction() as s:
        member = s.get(Member, flow_shop.member().id)
        referral = Referral(shop_id=member.shop_id, referrer_id=member.id, order_id=6001,
                            code=member.referral_code, status=FLAGGED, reason="same_ip",
                            created_at=now)
        s.add(referral)
        s.flush()
        flow_triggers.referral_flagged(s, member, referral, now)
        flow_triggers.referral_completed(s, member, referral, 500, now)
    assert [t["payload"] for t in flow_shop.received()] == [
        {"customer_id": CUSTOMER_ID, "friend order": "6001", "reason": "same_ip"},
        {"customer_id": CUSTOMER_ID, "friend order": "6001", "points": 500}]


def test_a_refused_trigger_stays_pending_and_the_next_run_sends_it(flow_shop: FlowShop) -> None:
    flow_shop.emulator.fail_next("flowTriggerReceive", "user_error")
    with flow_shop.db.transaction() as s:
        member = s.get(Member, flow_shop.member().id)
        flow_triggers.points_expiring(s, member, 40, datetime(2027, 1, 31),
                                      datetime(2027, 1, 11))
    [row] = flow_shop.rows()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Emulated failure" in row.error
    assert flow_shop.received() == []

    # The same event reported again is not a second trigger.
    with flow_shop.db.transaction() as s:
        flow_triggers.points_expiring(s, s.get(Member, flow_shop.member().id), 40,
                                      datetime(2027, 1, 31), datetime(2027, 1, 11))
    runtime = flow_shop.app.extensions["runtime"]
    assert deliver(runtime, row.id) == "sent"
    assert deliver(runtime, row.id) == "skipped: sent or being sent"
    [row] = flow_shop.rows()
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert flow_shop.received() == [{"handle": "loyalty-points-expiring", "payload": {
        "customer_id": CUSTOMER_ID, "points": 40, "expires on": "2027-01-31",
        "days left": 20}}]


def test_a_guest_is_no_customer_flow_can_act_on(flow_shop: FlowShop) -> None:
    with flow_shop.db.transaction() as s:
        guest = Member(shop_id=flow_shop.member().shop_id, email="g@example.com",
                       referral_code="GUEST-1")
        s.add(guest)
        s.flush()
        change = TierChange(shop_id=guest.shop_id, member_id=guest.id, from_tier="Bronze",
                            to_tier="Silver", reason="order")
        s.add(change)
        s.flush()
        flow_triggers.tier_changed(s, guest, change, utcnow())
    assert flow_shop.received() == []


def test_points_expiring_within_the_warning_days_are_sent_once_per_expiry_date(
        flow_shop: FlowShop) -> None:
    from app.loyalty.expiry import add_months

    now = utcnow().replace(microsecond=0)
    with flow_shop.db.transaction() as s:
        member = s.get(Member, flow_shop.member().id)
        member.last_activity_at = add_months(now, -12) + timedelta(days=20, hours=1)
    for _ in range(2):  # two daily rounds
        with flow_shop.db.transaction() as s:
            shop = flow_shop.shop(s)
            assert flow_triggers.points_expiring_soon(s, shop, current_settings(s, shop.id),
                                                      now) == 1
    [sent] = flow_shop.received()
    assert sent["handle"] == "loyalty-points-expiring"
    assert {k: sent["payload"][k] for k in ("customer_id", "points", "days left")} == {
        "customer_id": CUSTOMER_ID, "points": 1000, "days left": 20}
