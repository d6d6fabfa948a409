"""The storefront app proxy: /apps/loyalty/* reaches {app_url}/proxy/* signed like Shopify."""

import hashlib
import hmac
from collections import defaultdict
from urllib.parse import parse_qsl

import pytest
from shopify_app import verify_app_proxy_req

from tests.conftest import TEST_API_SECRET
from tests.devstore.conftest import SHOP


def _signature_is_valid(query: str) -> bool:
    """shopify-notes §3, written out here independently of the emulator."""
    pairs = defaultdict(list)
    for key, value in parse_qsl(query, keep_blank_values=True):
        pairs[key].append(value)
    [signature] = pairs.pop("signature")
    message = "".join(f"{k}={','.join(v)}" for k, v in sorted(pairs.items()))
    expected = hmac.new(TEST_API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, expected)


def test_a_logged_out_visitor_is_forwarded_with_an_empty_customer_id(http, emulator, shop,
                                                                     receiver):
    emulator.app_url = receiver.url
    response = http.get(f"{emulator.base_url}/{shop}/apps/loyalty/member?lang=en")
    assert (response.status_code, response.json()) == (200, {"ok": True})
    [request] = receiver.requests
    assert request.path == "/proxy/member"
    params = dict(parse_qsl(request.query, keep_blank_values=True))
    assert params["lang"] == "en"
    assert (params["shop"], params["logged_in_customer_id"], params["path_prefix"]) == (
        SHOP, "", "/apps/loyalty")
    assert abs(int(params["timestamp"]) - int(emulator.clock())) <= 1
    assert _signature_is_valid(request.query)


def test_a_logged_in_customer_reaches_the_app_signed_and_verifiable(http, emulator, shop,
                                                                    receiver):
    emulator.app_url = receiver.url
    login = http.get(f"{emulator.base_url}/{shop}/account/login", params={"customer_id": "42"})
    assert login.json() == {"logged_in_customer_id": "42"}
    http.get(f"{emulator.base_url}/{shop}/apps/loyalty/member")
    [request] = receiver.requests
    assert dict(parse_qsl(request.query))["logged_in_customer_id"] == "42"
    assert "cookie" not in request.headers
    verified = verify_app_proxy_req(
        {"method": "GET", "headers": {}, "body": "",
         "url": f"https://loyalty.test/proxy/member?{request.query}"},
        {"client_secret": TEST_API_SECRET})
    assert (verified.ok, verified.shop, verified.logged_in_customer_id) == (True, "demo-shop",
                                                                           "42")
    http.get(f"{emulator.base_url}/{shop}/account/logout")
    http.get(f"{emulator.base_url}/{shop}/apps/loyalty/member")
    assert dict(parse_qsl(receiver.requests[-1].query,
                          keep_blank_values=True))["logged_in_customer_id"] == ""


def test_a_post_passes_its_body_and_content_type_and_the_answer_comes_back(http, emulator, shop,
                                                                           receiver):
    receiver.status, receiver.response_body = "409 CONFLICT", b'{"error":"insufficient_points"}'
    receiver.response_headers = [("Content-Type", "application/json"),
                                 ("Set-Cookie", "tracking=1")]
    emulator.app_url = receiver.url
    response = http.post(f"{emulator.base_url}/{shop}/apps/loyalty/redeem",
                         json={"reward_id": 3})
    assert response.status_code == 409
    assert response.json() == {"error": "insufficient_points"}
    assert "set-cookie" not in response.headers
    [request] = receiver.requests
    assert (request.method, request.path, request.body) == ("POST", "/proxy/redeem",
                                                            b'{"reward_id":3}')
    assert request.headers["content-type"] == "application/json"


def test_a_cookie_the_app_sets_never_comes_back_on_a_later_visitors_call(http, emulator, shop,
                                                                         receiver):
    # The proxy's hops share one HTTP client: it must keep nothing of one call for the next.
    receiver.response_headers = [("Content-Type", "application/json"),
                                 ("Set-Cookie", "session=ada")]
    emulator.app_url = receiver.url
    for _ in range(2):
        assert http.get(f"{emulator.base_url}/{shop}/apps/loyalty/member").status_code == 200
    assert [r.headers.get("cookie") for r in receiver.requests] == [None, None]


def test_a_forged_shop_in_the_storefront_query_is_passed_on_repeated(http, emulator, shop,
                                                                     receiver):
    emulator.app_url = receiver.url
    http.get(f"{emulator.base_url}/{shop}/apps/loyalty/member?shop=evil.myshopify.com")
    [request] = receiver.requests
    shops = [v for k, v in parse_qsl(request.query) if k == "shop"]
    assert shops == ["evil.myshopify.com", SHOP]
    assert _signature_is_valid(request.query)


def test_the_proxy_root_maps_to_the_proxy_url(http, emulator, shop, receiver):
    emulator.app_url = receiver.url
    http.get(f"{emulator.base_url}/{shop}/apps/loyalty")
    assert receiver.requests[0].path == "/proxy"


def test_an_app_that_does_not_answer_is_a_bad_gateway(http, emulator, shop, dead_url):
    emulator.app_url = dead_url
    assert http.get(f"{emulator.base_url}/{shop}/apps/loyalty/member").status_code == 502


def test_sign_proxy_query_builds_what_the_app_receives(emulator):
    query = emulator.sign_proxy_query(SHOP, {"lang": "en", "tags": ["a", "b"]},
                                      logged_in_customer_id=7, now=1_800_000_000)
    pairs = parse_qsl(query)
    assert pairs[:3] == [("lang", "en"), ("tags", "a"), ("tags", "b")]
    assert dict(pairs)["timestamp"] == "1800000000"
    assert _signature_is_valid(query)


def test_a_proxy_the_merchant_moved_is_forwarded_from_its_new_path_with_that_path_prefix(
        http, emulator, shop, receiver):
    emulator.app_url = receiver.url

    assert emulator.customize_app_proxy(shop, "a", "rewards") == "/a/rewards"
    response = http.get(f"{emulator.base_url}/{shop}/a/rewards/member?lang=en")

    assert (response.status_code, response.json()) == (200, {"ok": True})
    [request] = receiver.requests
    assert request.path == "/proxy/member"
    params = dict(parse_qsl(request.query, keep_blank_values=True))
    assert params["path_prefix"] == "/a/rewards"
    assert _signature_is_valid(request.query)


def test_the_old_path_is_no_longer_proxied_once_the_merchant_moved_it(http, emulator, shop,
                                                                     receiver):
    emulator.app_url = receiver.url
    emulator.customize_app_proxy(shop, "community", "club")

    assert http.get(f"{emulator.base_url}/{shop}/apps/loyalty/member").status_code == 404
    assert http.get(f"{emulator.base_url}/{shop}/a/club/member").status_code == 404
    assert receiver.requests == []
    # Another shop of the same app keeps the app's configured path.
    emulator.add_shop("other-shop.myshopify.com")
    assert http.get(f"{emulator.base_url}/other-shop.myshopify.com/apps/loyalty/member"
                    ).status_code == 200


def test_the_proxys_own_address_is_forwarded_to_the_proxy_url(http, emulator, shop, receiver):
    emulator.app_url = receiver.url
    emulator.customize_app_proxy(shop, "tools", "points")

    assert http.get(f"{emulator.base_url}/{shop}/tools/points").status_code == 200
    [request] = receiver.requests
    assert request.path == "/proxy"
    assert dict(parse_qsl(request.query, keep_blank_values=True))["path_prefix"] == "/tools/points"


@pytest.mark.parametrize(("prefix", "subpath"), [
    ("shop", "rewards"), ("apps", "admin"), ("a", "Login"), ("apps", "x" * 31), ("apps", ""),
    ("apps", "my/rewards"), ("apps", "réwards")])
def test_a_proxy_url_shopify_would_refuse_is_refused(emulator, shop, prefix, subpath):
    with pytest.raises(ValueError):
        emulator.customize_app_proxy(shop, prefix, subpath)
    assert emulator.proxy_path_for(shop) == "/apps/loyalty"
