"""/api/pos/*: staff at Shopify POS read a member's balance, tier, rewards and what the cart
will earn, and redeem for them, with the POS session token (the staff user's ID token, minted
by the emulator as Shopify signs it). Discount codes are created in the emulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.db import Database, utcnow
from app.loyalty.program import save_settings
from app.models import Member, Redemption, Shop
from devstore import ShopifyEmulator
from tests.support.installed import live_shop_with_member

SHOP = "pos-counter.myshopify.com"
OTHER_SHOP = "other-counter.myshopify.com"
CUSTOMER_ID = 7_310_627_314_723_977
OTHER_CUSTOMER_ID = 7_310_627_314_723_978


@dataclass
class Counter:
    """The app with one installed shop whose member has 1,000 points, and its Shopify."""

    app: Flask
    db: Database
    emulator: ShopifyEmulator
    rewards: dict[str, int]

    def token(self, shop: str = SHOP, **claims: Any) -> str:
        """What `shopify.session.getSessionToken()` gives at the shop's POS."""
        return self.emulator.mint_pos_session_token(shop, **claims)

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             raw: bytes | None = None) -> Any:
        """One request to /api/pos/<path> with the Bearer token; the closed response."""
        bearer = token if token is not None else self.token()
        with self.app.test_client() as client:
            extra: dict[str, Any] = ({"data": raw, "content_type": "application/json"}
                                     if raw is not None else {"json": body})
            response = client.open(f"/api/pos/{path}", method=method,
                                   headers={"Authorization": f"Bearer {bearer}"}, **extra)
            response.close()
            return response

    def points(self, customer_id: int = CUSTOMER_ID) -> int:
        with self.db.sessions() as s:
            return s.execute(select(Member.points_available).where(
                Member.customer_id == customer_id)).scalar_one()

    def set_pos_earning(self, on: bool) -> None:
        with self.db.transaction() as s:
            shop_id = s.execute(select(Shop.id).where(Shop.domain == SHOP)).scalar_one()
            save_settings(s, shop_id, {"earning": {"pos_orders_earn": on}}, changed_by="test",
                          now=utcnow())


@pytest.fixture
def counter(db: Database, emulator: ShopifyEmulator) -> Iterator[Counter]:
    """Installed in the emulator and in our database, live, default catalog, 1,000 points;
    another installed shop with its own member next to it."""
    now = utcnow()
    app, rewards = live_shop_with_member(db, emulator, SHOP, CUSTOMER_ID, now, tier="Gold")
    live_shop_with_member(db, emulator, OTHER_SHOP, OTHER_CUSTOMER_ID, now, points=5000)
    yield Counter(app, db, emulator, rewards)
    http = app.extensions.get("shopify_http")
    if http is not None:
        http.close()


def assert_refused(response: Any, status: int, code: str) -> None:
    """An error in the one envelope, readable from the extension's worker."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.get_json()) == {"error", "message"}
    assert response.get_json()["error"] == code
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", [f"customers/{CUSTOMER_ID}", "redeem", "return"])
def test_a_cors_preflight_is_answered_204_without_a_token(counter: Counter, path: str) -> None:
    with counter.app.test_client() as client:
        response = client.options(f"/api/pos/{path}", headers={
            "Origin": "https://cdn.shopify.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"


def test_staff_see_the_balance_tier_rewards_and_what_the_cart_earns_at_the_tier_rate(
        counter: Counter) -> None:
    answer = counter.call("GET", f"customers/{CUSTOMER_ID}?subtotal=24.50")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.get_json()
    assert set(body) == {"points", "tier", "rewards", "codes", "currency", "cart"}
    assert (body["points"]["available"], body["tier"]["name"], body["currency"]) == (
        1000, "Gold", "USD")
    assert [(r["title"], r["affordable"]) for r in body["rewards"]] == [
        ("Free shipping", True), ("$5 off", True), ("$10 off", True), ("$25 off", False)]
    # 24.50 × 5 points × Gold's 1.5, rounded down once, as orders/paid will credit it.
    assert body["cart"] == {"points": 183, "multiplier": "1.5", "tier": "Gold",
                            "pos_earning_on": True}
    assert "cart" not in counter.call("GET", f"customers/{CUSTOMER_ID}").get_json()


def test_with_pos_earning_off_the_cart_earns_nothing(counter: Counter) -> None:
    counter.set_pos_earning(False)
    body = counter.call("GET", f"customers/{CUSTOMER_ID}?subtotal=24.50").get_json()
    assert body["cart"]["points"] == 0
    assert body["cart"]["pos_earning_on"] is False


def test_redeem_gives_a_code_for_the_cart_and_a_return_gives_the_points_back(
        counter: Counter) -> None:
    redeemed = counter.call("POST", "redeem", {"customer_id": CUSTOMER_ID,
                                               "reward_id": counter.rewards["$5 off"],
                                               "request_key": "pos-1"})
    assert redeemed.status_code == 200, redeemed.get_data(as_text=True)
    code = redeemed.get_json()["redemption"]["code"]
    assert redeemed.get_json()["points"]["available"] == 500
    assert counter.points() == 500
    assert counter.emulator.shop(SHOP).discount(code) is not None

    returned = counter.call("POST", "return", {"customer_id": CUSTOMER_ID, "code": code})
    assert returned.status_code == 200, returned.get_data(as_text=True)
    assert returned.get_json()["points"]["available"] == 1000
    assert counter.points() == 1000
    assert counter.emulator.shop(SHOP).discount(code) is None
    with counter.db.sessions() as s:
        assert s.execute(select(Redemption.status)).scalar_one() == "refunded"


def test_a_reward_the_member_cannot_afford_spends_nothing(counter: Counter) -> None:
    assert_refused(counter.call("POST", "redeem", {"customer_id": CUSTOMER_ID,
                                                   "reward_id": counter.rewards["$25 off"]}),
                   409, "insufficient_points")
    assert counter.points() == 1000


@pytest.mark.parametrize("token_of", [
    lambda c: "",
    lambda c: "not-a-jwt",
    # A checkout extension's token (bare dest, no iss, no sub) is not a POS token.
    lambda c: c.emulator.mint_extension_session_token(SHOP, customer_id=CUSTOMER_ID),
    lambda c: c.token(ttl=-120),
    lambda c: c.token(secret="someone-elses-secret-0123456789abcdef"),
    lambda c: c.emulator.mint_pos_session_token("not a shop"),
])
def test_a_missing_expired_forged_or_foreign_kind_of_token_is_refused(
        counter: Counter, token_of: Any) -> None:
    answer = counter.call("GET", f"customers/{CUSTOMER_ID}", token=token_of(counter))
    assert answer.status_code == 401, answer.get_data(as_text=True)
    assert set(answer.get_json()) == {"error", "message"}
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_staff_of_one_shop_never_reach_another_shops_members(counter: Counter) -> None:
    # Shop A's staff ask for shop B's member: not a member here, whoever they are elsewhere.
    assert_refused(counter.call("GET", f"customers/{OTHER_CUSTOMER_ID}"), 404, "not_a_member")
    assert_refused(counter.call("POST", "redeem", {"customer_id": OTHER_CUSTOMER_ID,
                                                   "reward_id": counter.rewards["$5 off"]}),
                   404, "not_a_member")
    # Shop B's staff redeem shop A's reward for their own member: not offered in shop B.
    other = counter.token(OTHER_SHOP)
    assert_refused(counter.call("POST", "redeem", {"customer_id": OTHER_CUSTOMER_ID,
                                                   "reward_id": counter.rewards["$5 off"]},
                                token=other), 409, "reward_unavailable")
    # Shop A's code cannot be returned by shop B's staff.
    code = counter.call("POST", "redeem", {"customer_id": CUSTOMER_ID,
                                           "reward_id": counter.rewards["$5 off"]}
                        ).get_json()["redemption"]["code"]
    assert_refused(counter.call("POST", "return", {"customer_id": CUSTOMER_ID, "code": code},
                                token=other), 404, "code_not_found")
    assert (counter.points(), counter.points(OTHER_CUSTOMER_ID)) == (500, 5000)
    with counter.db.sessions() as s:
        assert s.execute(select(Member.id).where(Member.customer_id == OTHER_CUSTOMER_ID)
                         .join(Shop).where(Shop.domain == SHOP)).first() is None


@pytest.mark.parametrize(("method", "path", "body", "code"), [
    ("GET", "customers/abc", None, "invalid_customer"),
    ("GET", "customers/0", None, "invalid_customer"),
    ("GET", "customers/99999999999999999999", None, "invalid_customer"),
    ("GET", f"customers/{CUSTOMER_ID}?subtotal=abc", None, "invalid_subtotal"),
    ("GET", f"customers/{CUSTOMER_ID}?subtotal=-1", None, "invalid_subtotal"),
    ("GET", f"customers/{CUSTOMER_ID}?subtotal=1e9999", None, "invalid_subtotal"),
    ("GET", f"customers/{CUSTOMER_ID}?subtotal=NaN", None, "invalid_subtotal"),
    ("GET", f"customers/{CUSTOMER_ID}?subtotal=1.234", None, "invalid_subtotal"),
    ("GET", f"customers/{CUSTOMER_ID}?gift_cards=5.00", None, "invalid_subtotal"),
    ("GET", f"customers/{CUSTOMER_ID}?subtotal=20.00&gift_cards=abc", None,
     "invalid_gift_cards"),
    ("GET", f"customers/{CUSTOMER_ID}?subtotal=20.00&gift_cards=-5", None,
     "invalid_gift_cards"),
    ("GET", f"customers/{CUSTOMER_ID}?subtotal=20.00&gift_cards=20.01", None,
     "invalid_gift_cards"),
    ("POST", "redeem", None, "invalid_customer"),
    ("POST", "redeem", [], "invalid_customer"),
    ("POST", "redeem", {"customer_id": "x", "reward_id": 1}, "invalid_customer"),
    ("POST", "redeem", {"customer_id": CUSTOMER_ID}, "invalid_reward"),
    ("POST", "redeem", {"customer_id": CUSTOMER_ID, "reward_id": "1"}, "invalid_reward"),
    ("POST", "redeem", {"customer_id": CUSTOMER_ID, "reward_id": 1, "request_key": 5},
     "invalid_request_key"),
    ("POST", "return", {"customer_id": CUSTOMER_ID}, "invalid_code"),
    ("POST", "return", {"customer_id": CUSTOMER_ID, "code": "x" * 65}, "invalid_code"),
    ("POST", "return", {"code": "ABC"}, "invalid_customer"),
])
def test_bad_input_gets_a_clear_400_and_changes_nothing(
        counter: Counter, method: str, path: str, body: Any, code: str) -> None:
    assert_refused(counter.call(method, path, body), 400, code)
    assert counter.points() == 1000


def test_a_body_that_is_not_json_is_a_400(counter: Counter) -> None:
    assert_refused(counter.call("POST", "redeem", raw=b'{"customer_id": '), 400,
                   "invalid_customer")


def test_a_customer_who_is_no_member_is_not_found_and_not_enrolled(counter: Counter) -> None:
    assert_refused(counter.call("GET", "customers/42"), 404, "not_a_member")
    with counter.db.sessions() as s:
        assert s.execute(select(Member.id).where(Member.customer_id == 42)).first() is None


def test_a_held_out_customer_is_not_in_the_program_at_the_counter_either(
        counter: Counter) -> None:
    with counter.db.transaction() as s:
        s.execute(update(Member).where(Member.customer_id == CUSTOMER_ID).values(
            holdout_group="control", holdout_assigned_at=utcnow()))
    assert_refused(counter.call("GET", "customers/" + str(CUSTOMER_ID)), 404, "not_in_program")
    assert_refused(counter.call("POST", "redeem", {"customer_id": CUSTOMER_ID,
                                                   "reward_id": counter.rewards["$5 off"]}),
                   404, "not_in_program")
    assert counter.points() == 1000


def test_reads_are_limited_to_60_a_minute_per_staff_user_as_at_checkout(
        counter: Counter) -> None:
    token = counter.token()
    for _ in range(60):
        assert counter.call("GET", "customers/42", token=token).status_code == 404
    assert_refused(counter.call("GET", "customers/42", token=token), 429, "rate_limited")
    # Another staff user at the same counter has their own minute.
    other_staff = counter.token(user_id=2)
    assert counter.call("GET", "customers/42", token=other_staff).status_code == 404


def test_writes_are_limited_to_10_a_minute_per_customer_as_in_the_widget(
        counter: Counter) -> None:
    for _ in range(10):
        assert_refused(counter.call("POST", "redeem", {"customer_id": CUSTOMER_ID}), 400,
                       "invalid_reward")
    assert_refused(counter.call("POST", "redeem", {"customer_id": CUSTOMER_ID,
                                                   "reward_id": counter.rewards["$5 off"]}),
                   429, "rate_limited")
    assert counter.points() == 1000


def test_the_apps_own_words_come_in_the_pos_language(counter: Counter) -> None:
    english = counter.call("GET", f"customers/{CUSTOMER_ID}").get_json()
    french = counter.call("GET", f"customers/{CUSTOMER_ID}?locale=fr-CA").get_json()
    assert ([r["title"] for r in english["rewards"]], english["tier"]["name"]) == (
        ["Free shipping", "$5 off", "$10 off", "$25 off"], "Gold")
    assert ([r["title"] for r in french["rewards"]], french["tier"]["name"]) == (
        ["Livraison gratuite", "5\xa0$\xa0US de réduction", "10\xa0$\xa0US de réduction",
         "25\xa0$\xa0US de réduction"], "Or")
    # A redeem answers in that language too.
    redeemed = counter.call("POST", "redeem?locale=fr", {"customer_id": CUSTOMER_ID,
                                                         "reward_id": counter.rewards["$5 off"]})
    assert redeemed.get_json()["redemption"]["title"].endswith(" de réduction")
