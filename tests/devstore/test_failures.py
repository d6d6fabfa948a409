"""Failure injection: 503, 429, THROTTLED, userErrors and dropped connections, on demand."""

import httpx
import pytest
from shopify_app import admin_graphql_request, refresh_access_token

from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.devstore.conftest import SHOP
from tests.support.emulator_fixture import emulator_http_client

CREATE = """mutation RedeemReward($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) { codeDiscountNode { id }
  userErrors { field code message } } }"""
INPUT = {"title": "Reward", "code": "LOYAL-1", "customerGets": {
    "value": {"discountAmount": {"amount": "5.00"}}, "items": {"all": True}}}


def test_http_503_fails_the_next_call_only(gql, emulator):
    emulator.fail_next("shop", "http_503")
    failed = gql("{ shop { name } }")
    assert (failed.status_code, failed.json()) == (503, {"errors": "Service Unavailable"})
    assert gql("{ shop { name } }").status_code == 200


def test_a_failure_can_repeat_and_carry_retry_after(gql, emulator):
    emulator.fail_next("RedeemReward", "http_429", times=2, retry_after=3)
    statuses = [gql(CREATE, {"input": INPUT}) for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["Retry-After"] == "3"
    assert len(emulator.shop(SHOP).discounts) == 1


def test_a_failure_named_after_one_operation_leaves_others_alone(gql, emulator):
    emulator.fail_next("RedeemReward", "http_503")
    assert gql("{ shop { name } }").status_code == 200
    assert gql(CREATE, {"input": INPUT}).status_code == 503


def test_injected_throttling_answers_throttled_with_the_bucket_untouched(gql, emulator):
    emulator.fail_next("discountCodeBasicCreate", "throttled")
    body = gql(CREATE, {"input": INPUT}).json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000.0
    assert emulator.shop(SHOP).discounts == {}


def test_an_injected_user_error_creates_nothing(gql, emulator):
    emulator.fail_next("discountCodeBasicCreate", "user_error")
    payload = gql(CREATE, {"input": INPUT}).json()["data"]["discountCodeBasicCreate"]
    assert payload == {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount"], "code": "INTERNAL_ERROR",
         "message": "Emulated failure: the mutation could not be completed."}]}
    assert emulator.shop(SHOP).discounts == {}


def test_a_network_failure_drops_the_connection_without_an_answer(gql, emulator):
    emulator.fail_next("*", "network")
    with pytest.raises(httpx.RemoteProtocolError):
        gql("{ shop { name } }")
    assert gql("{ shop { name } }").status_code == 200


def test_shopifyapp_sees_a_network_error_and_a_503_it_gives_up_on(emulator, access_token):
    emulator.fail_next("shop", "network")
    with emulator_http_client(emulator.base_url) as client:
        dropped = admin_graphql_request("{ shop { name } }", "demo-shop", access_token,
                                        "2026-07", http_client=client)
        emulator.fail_next("shop", "http_503")
        unavailable = admin_graphql_request("{ shop { name } }", "demo-shop", access_token,
                                            "2026-07", http_client=client, max_retries=0)
    assert (dropped.ok, dropped.log.code) == (False, "network_error")
    assert (unavailable.ok, unavailable.log.code) == (False, "http_error_503")


def test_the_token_endpoint_can_fail_and_shopifyapp_retries_the_refresh(emulator, shop):
    issued = emulator.issue_access_token(shop)
    emulator.fail_next("oauth/access_token", "http_503")
    stale = {"shop": "demo-shop", "access_mode": "offline", "refresh_token": issued.refresh_token,
             "expires": "2000-01-01T00:00:00Z", "refresh_token_expires": None}
    with emulator_http_client(emulator.base_url) as client:
        result = refresh_access_token(stale, {"client_id": TEST_API_KEY,
                                              "client_secret": TEST_API_SECRET},
                                      http_client=client)
    assert result.ok
    assert [log.code for log in result.http_logs] == ["server_error_retry", "success"]
    assert [r["status"] for r in emulator.shop(shop).token_requests] == [503, 200]


def test_an_unknown_failure_kind_is_refused(emulator):
    with pytest.raises(ValueError, match="kind must be one of"):
        emulator.fail_next("shop", "http_500")
