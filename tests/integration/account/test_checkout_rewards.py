"""/api/checkout/rewards/*: redeem during checkout, and the points back for a code checkout did
not apply. The shop, member and emulator are the account page's (test_account_api)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db import utcnow
from app.loyalty.redemption import mark_redemptions_used
from app.models import Redemption
from tests.integration.account.test_account_api import (  # noqa: F401 - fixture
    CUSTOMER_GID,
    CUSTOMER_ID,
    SHOP,
    Account,
    account,
    assert_refused,
)


def call(shop: Account, method: str, path: str, body: Any = None, *,
         customer_id: int | None = None, token: str | None = None) -> Any:
    """One request to /api/checkout/rewards<path> with the Bearer token; the closed response."""
    bearer = token or shop.token(customer_id if customer_id is not None else CUSTOMER_ID)
    with shop.app.test_client() as client:
        response = client.open(f"/api/checkout/rewards{path}", method=method, json=body,
                               headers={"Authorization": f"Bearer {bearer}"})
        response.close()
        return response


def test_the_block_reads_the_balance_and_the_rewards_it_can_afford(
        account: Account) -> None:  # noqa: F811
    answer = call(account, "GET", "")
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.get_json()
    assert set(body) == {"points", "rewards", "codes"}
    assert body["points"]["available"] == 1000
    assert [(r["title"], r["affordable"]) for r in body["rewards"]] == [
        ("Free shipping", True), ("$5 off", True), ("$10 off", True), ("$25 off", False)]


def test_a_code_checkout_refused_is_deleted_and_its_points_come_back_once(
        account: Account) -> None:  # noqa: F811
    redeemed = call(account, "POST", "/redeem", {"reward_id": account.rewards["$5 off"],
                                                 "request_key": "checkout-1"})
    code = redeemed.get_json()["redemption"]["code"]
    assert account.points() == 500

    returned = call(account, "POST", "/return", {"code": code.lower()})
    assert returned.status_code == 200, returned.get_data(as_text=True)
    assert returned.get_json()["points"]["available"] == 1000
    assert returned.get_json()["codes"] == []
    assert account.points() == 1000
    assert account.emulator.shop(SHOP).discount(code) is None
    with account.db.sessions() as s:
        assert s.execute(select(Redemption.status)).scalar_one() == "refunded"
    # Returning it again gives nothing more.
    again = call(account, "POST", "/return", {"code": code})
    assert again.status_code == 200 and account.points() == 1000


def test_only_the_members_own_unused_code_can_be_returned(account: Account) -> None:  # noqa: F811
    code = call(account, "POST", "/redeem", {"reward_id": account.rewards["$5 off"]}
                ).get_json()["redemption"]["code"]
    other = account.emulator.mint_extension_session_token(SHOP, customer_id=42)
    assert_refused(call(account, "POST", "/return", {"code": code}, token=other), 404,
                   "code_not_found")
    assert_refused(call(account, "POST", "/return", {"code": 5}), 400, "invalid_code")
    with account.db.transaction() as s:
        shop_id = s.execute(select(Redemption.shop_id)).scalar_one()
        mark_redemptions_used(s, shop_id, [code], 9001, utcnow())
    assert_refused(call(account, "POST", "/return", {"code": code}), 409, "code_not_returnable")
    assert account.points() == 500
    assert CUSTOMER_GID in account.emulator.shop(SHOP).discount(code).customer_ids


def test_a_guest_at_checkout_has_no_rewards(account: Account) -> None:  # noqa: F811
    guest = account.emulator.mint_extension_session_token(SHOP, customer_id=None)
    assert_refused(call(account, "GET", "", token=guest), 401, "not_logged_in")
