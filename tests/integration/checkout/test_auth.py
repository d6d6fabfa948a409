"""Who may call /api/checkout/*: the extension session token, CORS and preflights."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest

from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.integration.checkout.conftest import ADA, SHOP, CheckoutShop

ORDER_ID = 820982911946154508


def claims(**changes: Any) -> dict[str, Any]:
    """Extension token claims as Shopify signs them (shopify-notes §6), with changes."""
    now = int(time.time())
    values: dict[str, Any] = {"dest": SHOP, "aud": TEST_API_KEY, "iat": now, "nbf": now,
                              "exp": now + 300, "jti": str(uuid.uuid4()),
                              "sub": f"gid://shopify/Customer/{ADA}"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def signed(values: dict[str, Any], secret: str = TEST_API_SECRET) -> str:
    """HS256 with the given secret."""
    return jwt.encode(values, secret, algorithm="HS256")


@pytest.fixture
def paid_order(checkout: CheckoutShop) -> int:
    """Ada's order, paid and in the ledger."""
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    return ORDER_ID


def assert_refused(response: Any, status: int, code: str) -> None:
    """An error in the contract's shape, readable from any origin."""
    assert (response.status_code, response.get_json()["error"]) == (status, code)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", [f"/api/checkout/order/{ORDER_ID}", "/api/checkout/nps"])
def test_a_cors_preflight_is_answered_204_without_a_token(checkout: CheckoutShop,
                                                          path: str) -> None:
    response = checkout.client.options(path, headers={
        "Origin": "https://extensions.shopifycdn.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert response.headers["Access-Control-Max-Age"] == "7200"


def test_a_valid_token_gets_the_order_with_cors(checkout: CheckoutShop, paid_order: int) -> None:
    response = checkout.get_order(paid_order, checkout.token(ADA))
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json()["order"]["points"] == 135


def test_a_request_without_a_token_is_refused(checkout: CheckoutShop, paid_order: int) -> None:
    assert_refused(checkout.get_order(paid_order, None), 401, "missing_authorization_header")


def test_a_token_signed_with_another_secret_is_refused(checkout: CheckoutShop,
                                                       paid_order: int) -> None:
    forged = signed(claims(), secret="someone-elses-secret-0123456789abcdef012345")
    assert_refused(checkout.get_order(paid_order, forged), 401, "invalid_id_token")


def test_a_token_whose_payload_was_edited_after_signing_is_refused(checkout: CheckoutShop,
                                                                   paid_order: int) -> None:
    header, _, signature = checkout.token(ADA).split(".")
    other_payload = signed(claims(sub=f"gid://shopify/Customer/{ADA + 1}")).split(".")[1]
    tampered = f"{header}.{other_payload}.{signature}"
    assert_refused(checkout.get_order(paid_order, tampered), 401, "invalid_id_token")


def test_an_unsigned_alg_none_token_is_refused(checkout: CheckoutShop, paid_order: int) -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")
    assert_refused(checkout.get_order(paid_order, unsigned), 401, "invalid_id_token")


def test_a_token_expired_beyond_the_ten_second_leeway_is_refused(checkout: CheckoutShop,
                                                                 paid_order: int) -> None:
    now = int(time.time())
    expired = signed(claims(iat=now - 320, nbf=now - 320, exp=now - 20))
    assert_refused(checkout.get_order(paid_order, expired), 401, "expired_id_token")


def test_a_token_expired_within_the_leeway_is_still_accepted(checkout: CheckoutShop,
                                                             paid_order: int) -> None:
    now = int(time.time())
    just_expired = signed(claims(iat=now - 303, nbf=now - 303, exp=now - 3))
    assert checkout.get_order(paid_order, just_expired).status_code == 200


def test_a_token_not_valid_yet_is_refused(checkout: CheckoutShop, paid_order: int) -> None:
    now = int(time.time())
    early = signed(claims(iat=now, nbf=now + 60, exp=now + 360))
    assert_refused(checkout.get_order(paid_order, early), 401, "invalid_id_token")


def test_a_token_for_another_app_is_refused(checkout: CheckoutShop, paid_order: int) -> None:
    other_app = signed(claims(aud="another-apps-client-id"))
    assert_refused(checkout.get_order(paid_order, other_app), 401, "invalid_aud")


def test_an_admin_session_token_is_not_an_extension_token(checkout: CheckoutShop,
                                                          paid_order: int) -> None:
    admin = checkout.emulator.mint_admin_session_token(SHOP)
    assert_refused(checkout.get_order(paid_order, admin), 401, "invalid_dest")


def test_a_token_without_a_jti_is_refused(checkout: CheckoutShop, paid_order: int) -> None:
    assert_refused(checkout.get_order(paid_order, signed(claims(jti=None))), 401,
                   "missing_claim")


def test_a_sub_that_is_not_a_customer_gid_is_refused(checkout: CheckoutShop,
                                                     paid_order: int) -> None:
    staff = signed(claims(sub="gid://shopify/StaffMember/1"))
    assert_refused(checkout.get_order(paid_order, staff), 401, "invalid_sub")


def test_a_bearer_scheme_is_required(checkout: CheckoutShop, paid_order: int) -> None:
    response = checkout.client.get(f"/api/checkout/order/{paid_order}",
                                   headers={"Authorization": f"Token {checkout.token(ADA)}"})
    assert_refused(response, 401, "invalid_id_token")


def test_a_shop_without_the_app_installed_gets_nothing(checkout: CheckoutShop) -> None:
    elsewhere = signed(claims(dest="another-shop.myshopify.com"))
    assert_refused(checkout.get_order(ORDER_ID, elsewhere), 404, "shop_not_installed")


def test_answering_the_survey_needs_a_logged_in_customer(checkout: CheckoutShop,
                                                         paid_order: int) -> None:
    response = checkout.post_nps({"order_id": str(paid_order), "score": 9, "comment": ""},
                                 checkout.token(customer_id=None))
    assert_refused(response, 401, "not_logged_in")
    assert checkout.survey_responses() == []


def test_the_survey_refuses_a_forged_token_before_reading_the_body(checkout: CheckoutShop,
                                                                   paid_order: int) -> None:
    forged = signed(claims(), secret="someone-elses-secret-0123456789abcdef012345")
    response = checkout.post_nps({"order_id": str(paid_order), "score": 9}, forged)
    assert_refused(response, 401, "invalid_id_token")
    assert checkout.survey_responses() == []


def test_the_order_status_surface_verifies_the_same_token(checkout: CheckoutShop,
                                                          paid_order: int) -> None:
    response = checkout.get_order(paid_order, checkout.token(ADA), surface="customer_account")
    assert response.status_code == 200
    forged = signed(claims(), secret="someone-elses-secret-0123456789abcdef012345")
    assert_refused(checkout.get_order(paid_order, forged, surface="customer_account"), 401,
                   "invalid_id_token")


def test_an_unknown_surface_is_refused(checkout: CheckoutShop, paid_order: int) -> None:
    assert_refused(checkout.get_order(paid_order, checkout.token(ADA), surface="admin"), 400,
                   "invalid_surface")
