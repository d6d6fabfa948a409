"""The widget's backend through the app proxy: signed, scoped to the signed shopper, exact."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from app.db import utcnow
from app.loyalty.ledger import post
from app.loyalty.members import enrol
from app.loyalty.rewards import seed_default_rewards
from app.ratelimit import RateLimiter
from tests.conftest import TEST_API_SECRET
from tests.support.factories import make_shop

SHOP = "widget-shop.myshopify.com"
OTHER = "other-shop.myshopify.com"


def proxy_query(shop: str, customer_id: int | None, *, secret: str = TEST_API_SECRET,
                timestamp: int | None = None, **extra: str) -> str:
    """The query Shopify appends, signed as shopify-notes §3 says (written independently)."""
    customer = "" if customer_id is None else str(customer_id)
    params = {"shop": shop, "logged_in_customer_id": customer,
              "path_prefix": "/apps/loyalty", "timestamp": str(timestamp or int(time.time())),
              **extra}
    message = "".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode(params)


@pytest.fixture
def shop_with_member(db):
    now = utcnow()
    with db.transaction() as s:
        shop = make_shop(s, domain=SHOP, name="Widget Shop")
        seed_default_rewards(s, shop, now)
        ada = enrol(s, shop, now=now, customer_id=11, email="ada@example.com", first_name="Ada")
        post(s, ada, points=1200, kind="bonus_signup", source_key="seed", now=now,
             note="Welcome bonus")
        post(s, ada, points=300, kind="earn_order", source_key="order:1:earn", now=now,
             available_at=now + timedelta(days=30), order_id=1, note="Order #1001")
        other = make_shop(s, domain=OTHER)
        enrol(s, other, now=now, customer_id=11, email="ada@example.com", first_name="Eve")
    return now


def test_a_member_sees_balances_tier_rewards_referral_and_activity(client, shop_with_member):
    response = client.get(f"/proxy/member?{proxy_query(SHOP, 11)}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["member"] == {"first_name": "Ada", "birthday": None}
    assert body["points"] == {
        "available": 1200, "pending": 300, "lifetime": 1500,
        "pending_until": (shop_with_member + timedelta(days=30)).date().isoformat()}
    assert body["tier"] == {"name": "Bronze", "next": "Silver", "progress": 0.0,
                            "spend_to_next": "300.00"}
    assert [(r["cost"], r["affordable"]) for r in body["rewards"]] == [
        (400, True), (500, True), (1000, True), (2500, False)]
    assert body["referral"]["code"].startswith("ADA-")
    assert body["referral"]["url"] == f"https://{SHOP}/?ref={body['referral']['code']}"
    assert body["referral"]["url"] in body["referral"]["share_text"]
    assert [(a["label"], a["points"], a["status"]) for a in body["activity"]] == [
        ("Order #1001", 300, "pending"), ("Welcome bonus", 1200, "available")]


def test_the_same_customer_id_in_another_shop_is_another_member(client, shop_with_member):
    body = client.get(f"/proxy/member?{proxy_query(OTHER, 11)}").get_json()
    assert body["member"]["first_name"] == "Eve"
    assert body["points"]["available"] == 0


def test_a_logged_out_visitor_gets_not_logged_in_but_can_read_the_program(client,
                                                                        shop_with_member):
    response = client.get(f"/proxy/member?{proxy_query(SHOP, None)}")
    assert response.status_code == 401
    assert response.get_json()["error"] == "not_logged_in"
    program = client.get(f"/proxy/program?{proxy_query(SHOP, None)}").get_json()["program"]
    assert program["name"] == "Widget Shop"
    assert program["earn"] == {"points_per_unit": 5, "label": "5 points per $1"}
    assert program["ways_to_earn"][0] == {"title": "Every $1 you spend", "points": 5}
    assert [t["name"] for t in program["tiers"]] == ["Bronze", "Silver", "Gold"]
    assert program["referral"] == {"friend_gets": "10% off", "you_get": 500}


@pytest.mark.parametrize("tamper", ["customer", "secret", "stale", "unsigned"])
def test_an_unsigned_or_tampered_request_is_401(client, shop_with_member, tamper):
    if tamper == "customer":
        query = proxy_query(SHOP, 11).replace("logged_in_customer_id=11",
                                              "logged_in_customer_id=12")
    elif tamper == "secret":
        query = proxy_query(SHOP, 11, secret="not-our-secret-0123456789abcdefghijklmnop")
    elif tamper == "stale":
        query = proxy_query(SHOP, 11, timestamp=int(time.time()) - 600)
    else:
        query = f"shop={SHOP}&logged_in_customer_id=11"
    response = client.get(f"/proxy/member?{query}")
    assert response.status_code == 401
    assert response.get_json()["error"] in {"invalid_signature", "stale_timestamp"}


def test_a_repeated_customer_parameter_is_refused(client, shop_with_member):
    query = proxy_query(SHOP, 11) + "&logged_in_customer_id=99"
    assert client.get(f"/proxy/member?{query}").status_code == 401


def test_a_birthday_is_saved_once_and_a_bad_date_is_400(client, shop_with_member):
    saved = client.post(f"/proxy/birthday?{proxy_query(SHOP, 11)}", json={"birthday": "07-14"})
    assert saved.status_code == 200
    assert saved.get_json()["member"]["birthday"] == "07-14"
    changed = client.post(f"/proxy/birthday?{proxy_query(SHOP, 11)}", json={"birthday": "08-01"})
    assert (changed.status_code, changed.get_json()["error"]) == (409, "birthday_locked")
    bad = client.post(f"/proxy/birthday?{proxy_query(SHOP, 11)}", json={"birthday": "13-45"})
    assert (bad.status_code, bad.get_json()["error"]) == (400, "invalid_birthday")


def test_a_shopper_over_the_rate_limit_gets_429(client, shop_with_member):
    # One fixed minute: on a loaded machine 61 requests can straddle a window boundary.
    client.application.extensions["rate_limiter"] = RateLimiter(clock=lambda: 1_800_000_030.0)
    statuses = [client.get(f"/proxy/member?{proxy_query(SHOP, 11)}").status_code
                for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_a_shop_that_is_not_installed_answers_404(client, db):
    response = client.get(f"/proxy/program?{proxy_query('nobody.myshopify.com', None)}")
    assert (response.status_code, response.get_json()["error"]) == (404, "shop_not_installed")


def test_copying_or_sharing_the_link_is_counted_once_a_minute_for_the_referral_funnel(
        client, db, shop_with_member):
    from sqlalchemy import select

    from app.models import Message

    for via in ("copy", "copy", "share"):
        response = client.post(f"/proxy/share?{proxy_query(SHOP, 11)}", json={"via": via})
        assert (response.status_code, response.get_json()) == (200, {"ok": True})
    bad = client.post(f"/proxy/share?{proxy_query(SHOP, 11)}", json={"via": "fax"})
    assert (bad.status_code, bad.get_json()["error"]) == (400, "invalid_share")
    with db.sessions() as s:
        shares = s.execute(select(Message.kind, Message.channel)).all()
    assert sorted(shares) == [("referral_share", "copy"), ("referral_share", "share")]


# --- a signed query re-split into other pairs ---------------------------------------------------
# Shopify signs the sorted `key=value` pairs with no separator, so one signed string can be read
# as other pairs. Each attack below starts from the attacker's own request (customer 12 of SHOP),
# signed as Shopify would sign it, and sends other pairs under the same signature.

def _resplit(signed_by_shopify: str, sent: list[tuple[str, str]]) -> str:
    """`sent` with the signature Shopify gave the query `signed_by_shopify`."""
    signature = dict(pair.split("=", 1) for pair in signed_by_shopify.split("&"))["signature"]
    return urlencode([*sent, ("signature", signature)])


def _member_name(client, query: str) -> tuple[int, str | None]:
    response = client.get(f"/proxy/member?{query}")
    body = response.get_json()
    return response.status_code, (body.get("member") or {}).get("first_name") or body.get("error")


def test_a_parameter_name_holding_an_equals_sign_cannot_turn_a_query_into_another_shoppers(
        client, shop_with_member):
    now = str(int(time.time()))
    own = proxy_query(SHOP, 12, timestamp=int(now), a="1logged_in_customer_id=11")
    forged = _resplit(own, [
        ("a", "1"), ("logged_in_customer_id", "11"),
        ("logged_in_customer_id=12path_prefix", "/apps/loyalty"),
        ("shop", SHOP), ("timestamp", now)])
    assert _member_name(client, forged) == (401, "invalid_parameter")


@pytest.mark.parametrize("name", ["ids[]", "utm.source", "x-y", "A_9"])
def test_parameter_names_of_letters_digits_and_underscore_dot_brackets_dash_are_accepted(
        client, shop_with_member, name):
    assert _member_name(client, proxy_query(SHOP, 11, **{name: "1"})) == (200, "Ada")


@pytest.mark.parametrize("name", ["a b", "a%00", "caf%C3%A9", "a%26b", "%3Dx", "a+b"])
def test_a_parameter_name_outside_the_strict_character_set_is_refused(client, shop_with_member,
                                                                      name):
    query = proxy_query(SHOP, 11) + f"&{name}=1"
    assert _member_name(client, query) == (401, "invalid_parameter")


def test_a_query_whose_signed_string_names_the_shopper_twice_cannot_become_another_shopper(
        client, shop_with_member):
    # Real pairs: a=1, logged_in_customer_id=12, m_xlogged_in_customer_id=11, … Read again as
    # a=1logged_in_customer_, id=12m_x, logged_in_customer_id=11, …: the same signed string,
    # and every name is made of ordinary characters.
    now = str(int(time.time()))
    own = proxy_query(SHOP, 12, timestamp=int(now), a="1", m_xlogged_in_customer_id="11")
    forged = _resplit(own, [
        ("a", "1logged_in_customer_"), ("id", "12m_x"), ("logged_in_customer_id", "11"),
        ("path_prefix", "/apps/loyalty"), ("shop", SHOP), ("timestamp", now)])
    assert _member_name(client, forged) == (401, "ambiguous_query")


def test_a_query_whose_signed_string_names_a_shop_twice_cannot_become_another_shops(
        client, shop_with_member):
    # Ada (11) of SHOP signs …shop=SHOP, sz=Qshop=OTHER…; read again as
    # path_prefix=/apps/loyaltyshop=widget-shop.myshop, pify.comsz=Q, shop=OTHER.
    now = str(int(time.time()))
    own = proxy_query(SHOP, 11, timestamp=int(now), sz=f"Qshop={OTHER}")
    forged = _resplit(own, [
        ("logged_in_customer_id", "11"), ("path_prefix", "/apps/loyaltyshop=widget-shop.mysho"),
        ("pify.comsz", "Q"), ("shop", OTHER), ("timestamp", now)])
    assert _member_name(client, forged) == (401, "ambiguous_query")


def test_a_widget_parameter_named_hmac_is_signed_like_any_other(client, shop_with_member):
    query = proxy_query(SHOP, 11, hmac="anything")
    assert _member_name(client, query) == (200, "Ada")
