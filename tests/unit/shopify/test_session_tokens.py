"""Admin and extension session tokens (notes §1B, §6), signed at test time with PyJWT."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from app.config import load_settings
from app.shopify.verify import (
    ADMIN_REQUIRED_CLAIMS,
    EXTENSION_REQUIRED_CLAIMS,
    verify_admin_session_token,
    verify_app_home_request,
    verify_extension_request,
    verify_extension_session_token,
)
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.support.shopify_fakes import OTHER_SHOP, SHOP, admin_token, extension_token

OLD_SECRET = "old-secret-0123456789abcdef0123456789abcdef"
WRONG_SECRET = "wrong-secret-0123456789abcdef0123456789abc"
SETTINGS = load_settings({}, {"shopify_api_key": TEST_API_KEY,
                              "shopify_api_secret": TEST_API_SECRET,
                              "shopify_old_api_secret": OLD_SECRET,
                              "shopify_app_url": "https://loyalty.test"})


def app_request(url: str = f"https://loyalty.test/?shop={SHOP}&host=aG9zdA",
                headers: dict[str, str] | None = None, method: str = "GET") -> dict:
    """A request as shopifyapp reads it."""
    return {"method": method, "headers": headers or {}, "url": url, "body": ""}


# --- Admin session token: our strict check ----------------------------------------------------

def test_a_valid_admin_token_names_its_shop_and_staff_user() -> None:
    check = verify_admin_session_token(SETTINGS, admin_token(user_id="9001"))
    assert (check.ok, check.code, check.shop, check.user_id) == (True, "verified", SHOP, "9001")


def test_an_admin_token_signed_with_the_old_secret_is_accepted_during_rotation() -> None:
    assert verify_admin_session_token(SETTINGS, admin_token(secret=OLD_SECRET)).ok is True


def test_an_admin_token_signed_with_a_wrong_secret_is_refused() -> None:
    check = verify_admin_session_token(SETTINGS, admin_token(secret=WRONG_SECRET))
    assert (check.ok, check.code) == (False, "invalid_signature")


def test_a_tampered_admin_token_is_refused() -> None:
    header, payload, signature = admin_token().split(".")
    forged_payload = admin_token(OTHER_SHOP).split(".")[1]
    check = verify_admin_session_token(SETTINGS, f"{header}.{forged_payload}.{signature}")
    assert (check.ok, check.code) == (False, "invalid_signature")


def test_an_unsigned_admin_token_is_refused() -> None:
    check = verify_admin_session_token(SETTINGS, admin_token(algorithm="none"))
    assert (check.ok, check.code) == (False, "invalid_algorithm")


def test_an_admin_token_for_another_app_is_refused() -> None:
    check = verify_admin_session_token(SETTINGS, admin_token(aud="another-app"))
    assert (check.ok, check.code) == (False, "invalid_audience")


def test_an_admin_token_expired_within_the_10_second_leeway_still_passes() -> None:
    assert verify_admin_session_token(SETTINGS, admin_token(ttl=-5)).ok is True


def test_an_admin_token_expired_beyond_the_leeway_is_refused() -> None:
    check = verify_admin_session_token(SETTINGS, admin_token(ttl=-11))
    assert (check.ok, check.code) == (False, "expired_token")


def test_an_admin_token_not_valid_yet_is_refused() -> None:
    check = verify_admin_session_token(SETTINGS, admin_token(nbf=int(time.time()) + 30))
    assert (check.ok, check.code) == (False, "token_not_yet_valid")


@pytest.mark.parametrize("claim", ADMIN_REQUIRED_CLAIMS)
def test_an_admin_token_missing_a_claim_is_refused(claim: str) -> None:
    check = verify_admin_session_token(SETTINGS, admin_token(drop=(claim,)))
    assert (check.ok, check.code) == (False, "missing_claim")


@pytest.mark.parametrize(("iss", "dest"), [
    (f"https://{OTHER_SHOP}/admin", f"https://{SHOP}"),
    (f"https://{SHOP}/admin", f"https://{OTHER_SHOP}"),
    (f"https://{SHOP}", f"https://{SHOP}"),
    ("https://evil.com/admin", "https://evil.com"),
    (f"https://{SHOP}.evil.com/admin", f"https://{SHOP}.evil.com"),
    (f"http://{SHOP}/admin", f"http://{SHOP}"),
])
def test_an_admin_token_whose_iss_and_dest_disagree_or_are_not_a_shop_is_refused(
        iss: str, dest: str) -> None:
    check = verify_admin_session_token(SETTINGS, admin_token(iss=iss, dest=dest))
    assert (check.ok, check.code) == (False, "shop_mismatch")


# --- Admin session token through shopifyapp: documents and fetches ---------------------------

def test_a_page_load_without_a_token_is_bounced_to_the_session_token_page() -> None:
    check = verify_app_home_request(SETTINGS, app_request())
    location = urlsplit(check.response.headers["Location"])
    assert (check.ok, check.response.status) == (False, 302)
    assert (location.netloc, location.path) == ("loyalty.test", "/auth/session-token")
    assert parse_qs(location.query) == {"shop": [SHOP], "host": ["aG9zdA"],
                                        "shopify-reload": [f"/?shop={SHOP}&host=aG9zdA"]}


def test_a_page_load_with_a_valid_id_token_is_verified_with_frame_ancestors() -> None:
    url = f"https://loyalty.test/?shop={SHOP}&id_token={admin_token()}"
    check = verify_app_home_request(SETTINGS, app_request(url))
    assert (check.ok, check.shop, check.user_id) == (True, SHOP, "42")
    assert check.response.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{SHOP} https://admin.shopify.com;")
    assert check.retry_response.status == 302


def test_a_fetch_with_a_valid_bearer_token_is_verified() -> None:
    check = verify_app_home_request(
        SETTINGS, app_request(headers={"Authorization": f"Bearer {admin_token()}"}))
    assert (check.ok, check.shop, check.token is not None) == (True, SHOP, True)


@pytest.mark.parametrize("make_token", [
    lambda: admin_token(ttl=-11), lambda: admin_token(secret=WRONG_SECRET),
    lambda: admin_token(aud="another-app"),
])
def test_a_fetch_with_a_bad_token_gets_401_and_the_retry_header(
        make_token: Callable[[], str]) -> None:
    check = verify_app_home_request(
        SETTINGS, app_request(headers={"Authorization": f"Bearer {make_token()}"}))
    assert (check.ok, check.response.status) == (False, 401)
    assert check.response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_a_fetch_whose_token_fails_only_our_stricter_checks_also_gets_the_retry_header() -> None:
    # shopifyapp alone would accept a token without sid or with a foreign iss.
    for token in (admin_token(drop=("sid",)), admin_token(iss=f"https://{OTHER_SHOP}/admin")):
        check = verify_app_home_request(
            SETTINGS, app_request(headers={"Authorization": f"Bearer {token}"}))
        assert (check.ok, check.response.status) == (False, 401)
        assert check.response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_a_page_load_with_a_stale_id_token_is_bounced_without_it() -> None:
    url = f"https://loyalty.test/admin/settings?shop={SHOP}&id_token={admin_token(ttl=-60)}"
    check = verify_app_home_request(SETTINGS, app_request(url))
    reload_to = parse_qs(urlsplit(check.response.headers["Location"]).query)["shopify-reload"]
    assert (check.ok, check.response.status) == (False, 302)
    assert reload_to == [f"/admin/settings?shop={SHOP}"]


# --- Extension session tokens -----------------------------------------------------------------

def test_a_logged_in_buyer_is_the_customer_of_the_sub_claim() -> None:
    check = verify_extension_session_token(SETTINGS, extension_token(customer_id=5567))
    assert (check.ok, check.shop, check.customer_id) == (True, SHOP, 5567)


def test_a_guest_buyer_has_no_customer() -> None:
    check = verify_extension_session_token(SETTINGS, extension_token())
    assert (check.ok, check.customer_id) == (True, None)


def test_an_admin_token_is_not_an_extension_token() -> None:
    check = verify_extension_session_token(SETTINGS, admin_token())
    assert (check.ok, check.code) == (False, "invalid_dest")


@pytest.mark.parametrize("claim", EXTENSION_REQUIRED_CLAIMS)
def test_an_extension_token_missing_a_claim_is_refused(claim: str) -> None:
    check = verify_extension_session_token(SETTINGS, extension_token(drop=(claim,)))
    assert (check.ok, check.code) == (False, "missing_claim")


# Tokens are minted when each test runs (lambdas): minted at collection, a five-minute token
# would expire before a long suite reached it.
@pytest.mark.parametrize(("make_token", "code"), [
    (lambda: extension_token(ttl=-11), "expired_token"),
    (lambda: extension_token(aud="another-app"), "invalid_audience"),
    (lambda: extension_token(algorithm="none"), "invalid_algorithm"),
    (lambda: extension_token(secret=WRONG_SECRET), "invalid_signature"),
    (lambda: extension_token(dest="shop.example.com"), "invalid_dest"),
    (lambda: extension_token(sub="gid://shopify/StaffMember/1"), "invalid_sub"),
    (lambda: extension_token(sub="5567"), "invalid_sub"),
])
def test_a_bad_extension_token_is_refused_with_its_reason(make_token: Callable[[], str],
                                                         code: str) -> None:
    check = verify_extension_session_token(SETTINGS, make_token())
    assert (check.ok, check.code, check.customer_id) == (False, code, None)


def test_an_extension_token_signed_with_the_old_secret_is_accepted() -> None:
    assert verify_extension_session_token(SETTINGS, extension_token(secret=OLD_SECRET)).ok


@pytest.mark.parametrize("surface", ["checkout", "customer_account"])
def test_an_extension_request_with_a_bearer_token_is_verified(surface: str) -> None:
    request = app_request("https://loyalty.test/api/checkout/order/1",
                          {"Authorization": f"Bearer {extension_token(customer_id=7)}"})
    check = verify_extension_request(SETTINGS, request, surface)
    assert (check.ok, check.shop, check.customer_id) == (True, SHOP, 7)


def test_an_extension_preflight_is_answered_with_cors_headers() -> None:
    request = app_request("https://loyalty.test/api/checkout/nps",
                          {"Origin": "https://extensions.shopifycdn.com"}, method="OPTIONS")
    check = verify_extension_request(SETTINGS, request)
    assert (check.ok, check.code, check.response.status) == (False, "options_request", 204)
    assert check.response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_extension_request_without_a_token_is_refused() -> None:
    check = verify_extension_request(SETTINGS, app_request("https://loyalty.test/api/x"))
    assert (check.ok, check.code, check.response.status) == (
        False, "missing_authorization_header", 401)


def test_an_extension_request_with_an_admin_token_is_refused() -> None:
    request = app_request("https://loyalty.test/api/x",
                          {"Authorization": f"Bearer {admin_token()}"})
    assert verify_extension_request(SETTINGS, request).code == "invalid_dest"
