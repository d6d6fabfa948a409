"""Flow action runs: the emulator POSTs them signed over HTTP, as Flow does; the app verifies
the signature and the shop, applies each run once, and refuses what cannot apply with a 4xx."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.db import utcnow
from app.loyalty.program import current_settings
from app.loyalty.tiers import evaluate_tier
from app.models import FlowActionRun, Member, TierChange
from devstore.flow import flow_action_request
from tests.conftest import TEST_API_SECRET
from tests.integration.flow.conftest import CUSTOMER_GID, CUSTOMER_ID, SHOP, FlowShop

ADJUST, SET_TIER = "loyalty-adjust-points", "loyalty-set-tier"


def post_signed(flow_shop: FlowShop, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return httpx.post(f"{flow_shop.url}{path}", content=body, headers=headers, timeout=10)


def test_an_adjustment_is_applied_once_however_often_flow_resends_the_run(
        flow_shop: FlowShop) -> None:
    properties = {"customer_id": CUSTOMER_GID, "points": 250, "reason": "Birthday week"}
    first = flow_shop.emulator.send_flow_action(SHOP, ADJUST, properties, action_run_id="run-1")
    again = flow_shop.emulator.send_flow_action(SHOP, ADJUST, properties, action_run_id="run-1")

    assert first.status_code == 200, first.text
    assert first.json() == {"ok": True, "outcome": "adjusted +250", "repeated": False}
    assert again.json() == {"ok": True, "outcome": "adjusted +250", "repeated": True}
    assert flow_shop.ledger()[-1] == ("adjust", 250, "Birthday week", "flow")
    assert [k for k, *_ in flow_shop.ledger()].count("adjust") == 2  # the start and this one
    assert flow_shop.member().points_available == 1250
    # The balance Liquid renders is synced after the run.
    synced = flow_shop.eventually(lambda: {
        mf.key: mf.value for (owner, _, _), mf in
        flow_shop.emulator.shop(SHOP).metafields.items() if owner == CUSTOMER_GID})
    assert synced["points"] == "1250"


def test_a_numeric_customer_id_and_a_negative_adjustment_are_accepted(
        flow_shop: FlowShop) -> None:
    answer = flow_shop.emulator.send_flow_action(
        SHOP, ADJUST, {"customer_id": str(CUSTOMER_ID), "points": "-100", "reason": "Correction"})
    assert answer.json()["outcome"] == "adjusted -100"
    assert flow_shop.member().points_available == 900


def test_runs_that_cannot_apply_are_422_and_change_nothing(flow_shop: FlowShop) -> None:
    cases = [
        ({"customer_id": CUSTOMER_GID, "points": -5000, "reason": "Too much"},
         "insufficient_points"),
        ({"customer_id": CUSTOMER_GID, "points": 10, "reason": "  "}, "invalid_properties"),
        ({"customer_id": CUSTOMER_GID, "points": 0, "reason": "Zero"}, "invalid_properties"),
        ({"customer_id": "gid://shopify/Order/1", "points": 10, "reason": "x"},
         "invalid_customer"),
    ]
    for properties, code in cases:
        answer = flow_shop.emulator.send_flow_action(SHOP, ADJUST, properties)
        assert (answer.status_code, answer.json()["error"]) == (422, code), properties
    assert flow_shop.member().points_available == 1000
    with flow_shop.db.sessions() as s:
        assert s.execute(select(FlowActionRun)).scalars().all() == []


def test_only_a_run_signed_for_this_shop_and_this_action_is_applied(
        flow_shop: FlowShop) -> None:
    properties = {"customer_id": CUSTOMER_GID, "points": 100, "reason": "Gift"}
    body, headers = flow_action_request(SHOP, 1, ADJUST, properties,
                                        "someone-elses-secret-of-32-bytes-or-more")
    answer = post_signed(flow_shop, "/flow/actions/adjust-points", body, headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_hmac")

    body, headers = flow_action_request(SHOP, 1, ADJUST, properties, TEST_API_SECRET)
    forged = {**headers, "X-Shopify-Shop-Domain": "other-shop.myshopify.com"}
    answer = post_signed(flow_shop, "/flow/actions/adjust-points", body, forged)
    assert (answer.status_code, answer.json()["error"]) == (401, "shop_mismatch")

    answer = post_signed(flow_shop, "/flow/actions/set-tier", body, headers)
    assert (answer.status_code, answer.json()["error"]) == (400, "handle_mismatch")

    answer = post_signed(flow_shop, "/flow/actions/adjust-points", body[:-1] + b" }", headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_hmac")

    body, headers = flow_action_request("unknown-shop.myshopify.com", 2, ADJUST, properties,
                                        TEST_API_SECRET)
    answer = post_signed(flow_shop, "/flow/actions/adjust-points", body, headers)
    assert (answer.status_code, answer.json()["error"]) == (404, "shop_not_installed")

    body, headers = flow_action_request(SHOP, 1, ADJUST, properties, TEST_API_SECRET)
    answer = post_signed(flow_shop, "/flow/actions/no-such-action", body, headers)
    assert (answer.status_code, answer.json()["error"]) == (404, "unknown_action")
    assert flow_shop.member().points_available == 1000


def test_a_tier_set_by_flow_is_held_until_its_date_and_flow_hears_of_the_change(
        flow_shop: FlowShop) -> None:
    until = (utcnow() + timedelta(days=60)).date()
    answer = flow_shop.emulator.send_flow_action(
        SHOP, SET_TIER, {"customer_id": CUSTOMER_GID, "tier": "gold", "until": until.isoformat()})
    assert answer.json()["outcome"] == f"tier Gold until {until.isoformat()}"
    member = flow_shop.member()
    assert (member.tier, member.tier_held_until) == (
        "Gold", datetime.combine(until + timedelta(days=1), datetime.min.time()))
    assert flow_shop.eventually(lambda: flow_shop.received("loyalty-tier-changed")
                                )[-1]["payload"] == {
        "customer_id": CUSTOMER_ID, "previous tier": "Bronze", "new tier": "Gold",
        "reason": "flow"}

    # A review while it is held, even after the retention period, keeps Gold.
    review = utcnow() + timedelta(days=59)
    with flow_shop.db.transaction() as s:
        m = s.get(Member, member.id)
        m.tier_since = review - timedelta(days=800)
        assert evaluate_tier(s, m, current_settings(s, m.shop_id), review, "daily") is None
    # The day after its date, the review moves the member to the tier their spend supports.
    with flow_shop.db.transaction() as s:
        m = s.get(Member, member.id)
        change = evaluate_tier(s, m, current_settings(s, m.shop_id),
                               m.tier_held_until + timedelta(hours=1), "daily")
        assert change is not None and change.to_tier == "Bronze"


def test_a_tier_the_program_does_not_have_or_a_past_date_is_refused(flow_shop: FlowShop) -> None:
    for properties, code in (
            ({"customer_id": CUSTOMER_GID, "tier": "Diamond", "until": "2099-01-01"},
             "unknown_tier"),
            ({"customer_id": CUSTOMER_GID, "tier": "Gold", "until": "2001-01-01"},
             "invalid_until"),
            ({"customer_id": CUSTOMER_GID, "tier": "Gold", "until": "next week"},
             "invalid_until")):
        answer = flow_shop.emulator.send_flow_action(SHOP, SET_TIER, properties)
        assert (answer.status_code, answer.json()["error"]) == (422, code)
    with flow_shop.db.sessions() as s:
        assert s.execute(select(TierChange).where(TierChange.reason == "flow")).all() == []
    assert flow_shop.member().tier == "Bronze"
