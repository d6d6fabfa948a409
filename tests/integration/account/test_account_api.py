"""/api/account/*: the customer account page reads and redeems with the session token's `sub`.

Tokens are minted by the emulator as Shopify signs customer account extension tokens; the
discount codes are created in the emulator over HTTP, as for the widget.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.db import Database, utcnow
from app.models import Member, Redemption, Shop
from devstore import ShopifyEmulator
from tests.integration.proxy.test_proxy import proxy_query
from tests.support.installed import live_shop_with_member

SHOP = "account-page.myshopify.com"
CUSTOMER_ID = 7_310_627_314_723_955
CUSTOMER_GID = f"gid://shopify/Customer/{CUSTOMER_ID}"
DOMAIN = "teahouse.example"



@dataclass
class Account:
    """The app with one installed shop whose member has 1,000 points, and its Shopify."""

    app: Flask
    db: Database
    emulator: ShopifyEmulator
    rewards: dict[str, int]

    def token(self, customer_id: int | None = CUSTOMER_ID, shop: str = SHOP) -> str:
        """What `shopify.sessionToken.get()` gives on the shop's customer account pages."""
        return self.emulator.mint_extension_session_token(shop, customer_id=customer_id)

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             customer_id: int | None = CUSTOMER_ID) -> Any:
        """One request to /api/account/<path> with the Bearer token; the closed response."""
        bearer = token if token is not None else self.token(customer_id)
        with self.app.test_client() as client:
            response = client.open(f"/api/account/{path}", method=method, json=body,
                                   headers={"Authorization": f"Bearer {bearer}"})
            response.close()
            return response

    def points(self) -> int:
        with self.db.sessions() as s:
            return s.execute(select(Member.points_available).where(
                Member.customer_id == CUSTOMER_ID)).scalar_one()


@pytest.fixture
def account(db: Database, emulator: ShopifyEmulator) -> Iterator[Account]:
    """Installed in the emulator and in our database, live, default catalog, 1,000 points."""
    now = utcnow()
    app, rewards = live_shop_with_member(db, emulator, SHOP, CUSTOMER_ID, now,
                                         primary_domain=DOMAIN)
    yield Account(app, db, emulator, rewards)
    http = app.extensions.get("shopify_http")
    if http is not None:
        http.close()


def assert_refused(response: Any, status: int, code: str) -> None:
    """An error in the one envelope, readable from the extension's worker."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.get_json()) == {"error", "message"}
    assert response.get_json()["error"] == code
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["member", "redeem", "birthday"])
def test_a_cors_preflight_is_answered_204_without_a_token(account: Account, path: str) -> None:
    with account.app.test_client() as client:
        response = client.options(f"/api/account/{path}", headers={
            "Origin": "https://extensions.shopifycdn.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"


def test_the_member_answer_is_the_widgets_with_code_links_on_the_stores_domain(
        account: Account) -> None:
    redeemed = account.call("POST", "redeem", {"reward_id": account.rewards["$5 off"]})
    assert redeemed.status_code == 200, redeemed.get_data(as_text=True)

    answer = account.call("GET", "member")

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.get_json()
    with account.app.test_client() as client:
        widget = client.get(f"/proxy/member?{proxy_query(SHOP, CUSTOMER_ID)}").get_json()
    [code] = widget["codes"]
    assert body["codes"] == [{**code, "apply_url": f"https://{DOMAIN}/discount/{code['code']}"}]
    # The widget reads the currency from the program; the account page has only this answer.
    assert body["currency"] == "USD"
    assert {k: v for k, v in body.items() if k not in ("codes", "currency")} == {
        k: v for k, v in widget.items() if k != "codes"}
    assert body["points"]["available"] == 500
    assert body["referral"]["url"].startswith(f"https://{DOMAIN}/?ref=")


@pytest.mark.parametrize("path", ["member", "redeem"])
def test_the_apps_own_words_come_in_the_language_the_page_sends(account: Account,
                                                                  path: str) -> None:
    # The page sends shopify.localization.language as ?locale=; the proxy gets it from Liquid.
    body = {"reward_id": account.rewards["$5 off"]} if path == "redeem" else None
    answer = account.call("POST" if body else "GET", f"{path}?locale=fr-CA", body)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    labels = [entry["label"] for entry in answer.get_json()["activity"]]
    assert "Ajustement" in labels and "Adjustment" not in labels
    with account.app.test_client() as client:
        widget = client.get("/proxy/member?"
                            + proxy_query(SHOP, CUSTOMER_ID, locale="fr-CA")).get_json()
    assert labels == [entry["label"] for entry in widget["activity"]]


def test_one_tap_redeem_spends_points_for_a_code_only_this_customer_can_use(
        account: Account) -> None:
    answer = account.call("POST", "redeem", {"reward_id": account.rewards["$5 off"],
                                             "request_key": "tap-1"})

    assert answer.status_code == 200
    body = answer.get_json()
    code = body["redemption"]["code"]
    assert body["redemption"] == {"code": code, "title": "$5 off",
                                  "apply_url": f"https://{DOMAIN}/discount/{code}"}
    assert (body["points"]["available"], account.points()) == (500, 500)
    assert body["codes"] == [body["redemption"]]
    discount = account.emulator.shop(SHOP).discount(code)
    assert (discount.customer_ids, discount.usage_limit) == ([CUSTOMER_GID], 1)
    # The same tap sent again (a retry) spends nothing more.
    again = account.call("POST", "redeem", {"reward_id": account.rewards["$5 off"],
                                            "request_key": "tap-1"})
    assert (again.get_json()["redemption"]["code"], account.points()) == (code, 500)


def test_a_refused_or_failed_redeem_keeps_the_points(account: Account) -> None:
    assert_refused(account.call("POST", "redeem", {"reward_id": account.rewards["$25 off"]}),
                   409, "insufficient_points")
    assert_refused(account.call("POST", "redeem", {"reward_id": "five"}), 400,
                   "invalid_reward")
    account.emulator.fail_next("discountCodeBasicCreate", "user_error")
    failed = account.call("POST", "redeem", {"reward_id": account.rewards["$5 off"]})
    assert failed.status_code == 502
    assert failed.get_json()["error"] == "reward_not_issued"
    assert account.points() == 1000
    with account.db.sessions() as s:
        assert [r.status for r in s.execute(select(Redemption)).scalars()] == ["failed"]


def test_the_birthday_is_saved_once_a_year(account: Account) -> None:
    saved = account.call("POST", "birthday", {"birthday": "03-14"})
    assert saved.status_code == 200
    assert saved.get_json()["member"]["birthday"] == "03-14"
    assert_refused(account.call("POST", "birthday", {"birthday": "03-15"}), 409,
                   "birthday_locked")
    assert_refused(account.call("POST", "birthday", {"birthday": "14/03"}), 400,
                   "invalid_birthday")


def test_only_a_signed_in_customers_valid_token_for_an_installed_live_shop_is_answered(
        account: Account) -> None:
    with account.app.test_client() as client:
        assert_refused(client.get("/api/account/member"), 401, "missing_authorization_header")
    forged = account.emulator.mint_extension_session_token(SHOP, customer_id=CUSTOMER_ID,
                                                           secret="someone-elses-secret-of-32-bytes-or-more")
    expired = account.emulator.mint_extension_session_token(SHOP, customer_id=CUSTOMER_ID,
                                                            now=1_700_000_000)
    for bad, code in (("not-a-token", "invalid_id_token"), (forged, "invalid_id_token"),
                      (expired, "expired_id_token")):
        assert_refused(account.call("GET", "member", token=bad), 401, code)
    # A guest has no account page: the token names no customer.
    assert_refused(account.call("GET", "member", customer_id=None), 401, "not_logged_in")
    other = account.token(shop="elsewhere.myshopify.com")
    assert_refused(account.call("GET", "member", token=other), 404, "shop_not_installed")
    with account.db.transaction() as s:
        s.execute(update(Shop).where(Shop.domain == SHOP).values(launched_at=None))
    assert_refused(account.call("GET", "member"), 404, "program_not_live")
    assert_refused(account.call("POST", "redeem", {"reward_id": account.rewards["$5 off"]}),
                   404, "program_not_live")
    assert account.points() == 1000


def test_a_customer_is_limited_to_ten_writes_a_minute(account: Account) -> None:
    answers = [account.call("POST", "birthday", {"birthday": "99-99"}) for _ in range(11)]
    assert [a.status_code for a in answers] == [400] * 10 + [429]
    assert_refused(answers[-1], 429, "rate_limited")
    # Reads have their own, larger budget.
    assert account.call("GET", "member").status_code == 200
