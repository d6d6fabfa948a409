"""POST /proxy/return: the cart block redeemed a code the cart then refused, so Shopify's discount
(the local emulator, over HTTP) is deleted and the points come back, once, for the shopper's
own code only, in their shop only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db import utcnow
from app.loyalty.redemption import mark_redemptions_used
from app.models import Member, Redemption, Shop
from tests.integration.proxy.test_proxy import proxy_query
from tests.integration.proxy.test_redeem import (  # noqa: F401 - fixture
    CUSTOMER_GID,
    CUSTOMER_ID,
    SHOP,
    Widget,
    widget,
)
from tests.support.installed import live_shop_with_member

OTHER_SHOP = "second-cart.myshopify.com"


def give_back(app: Any, body: Any, *, shop: str = SHOP,
              customer_id: int | None = CUSTOMER_ID, locale: str = "en") -> Any:
    """POST /proxy/return as Shopify forwards it from the cart block; the closed answer."""
    with app.test_client() as client:
        response = client.post(f"/proxy/return?{proxy_query(shop, customer_id, locale=locale)}",
                               json=body)
        response.close()
        return response


def redeemed_code(widget: Widget, title: str = "$5 off") -> str:  # noqa: F811
    """A code the shopper just spent points on."""
    answer = widget.redeem({"reward_id": widget.rewards[title]})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["redemption"]["code"]


def test_a_refused_code_is_deleted_in_shopify_and_its_points_come_back_once(
        widget: Widget) -> None:  # noqa: F811
    code = redeemed_code(widget)
    assert widget.points() == 500

    answer = give_back(widget.app, {"code": code.lower()}, locale="fr")

    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["returned"], body["points"]["available"], body["codes"]) == (
        code.lower(), 1000, [])
    # In the shopper's language, like every answer the cart block shows.
    assert [r["title"] for r in body["rewards"]][:2] == [
        "Livraison gratuite", "5\xa0$US de réduction"]
    assert widget.points() == 1000
    assert widget.shopify.discount(code) is None
    assert [r.status for r in widget.redemptions()] == ["refunded"]

    again = give_back(widget.app, {"code": code})
    assert again.status_code == 200
    assert again.get_json()["points"]["available"] == 1000
    assert widget.points() == 1000


def test_another_shoppers_code_is_not_theirs_to_return(widget: Widget) -> None:  # noqa: F811
    code = redeemed_code(widget)

    stranger = give_back(widget.app, {"code": code}, customer_id=42)
    guest = give_back(widget.app, {"code": code}, customer_id=None)

    assert (stranger.status_code, stranger.get_json()["error"]) == (404, "code_not_found")
    assert (guest.status_code, guest.get_json()["error"]) == (401, "not_logged_in")
    assert widget.points() == 500
    assert CUSTOMER_GID in widget.shopify.discount(code).customer_ids


def test_the_same_customer_in_another_shop_cannot_return_this_shops_code(
        widget: Widget) -> None:  # noqa: F811
    code = redeemed_code(widget)
    other_app, _ = live_shop_with_member(widget.db, widget.emulator, OTHER_SHOP, CUSTOMER_ID,
                                         utcnow())

    answer = give_back(other_app, {"code": code}, shop=OTHER_SHOP)

    assert (answer.status_code, answer.get_json()["error"]) == (404, "code_not_found")
    assert widget.shopify.discount(code) is not None
    with widget.db.sessions() as s:
        points = dict(s.execute(select(Shop.domain, Member.points_available).join(
            Shop, Shop.id == Member.shop_id)).all())
    assert points == {SHOP: 500, OTHER_SHOP: 1000}


def test_a_code_an_order_used_keeps_its_points(widget: Widget) -> None:  # noqa: F811
    code = redeemed_code(widget)
    with widget.db.transaction() as s:
        shop_id = s.execute(select(Redemption.shop_id)).scalar_one()
        mark_redemptions_used(s, shop_id, [code], 9001, utcnow())

    answer = give_back(widget.app, {"code": code})

    assert (answer.status_code, answer.get_json()["error"]) == (409, "code_not_returnable")
    assert widget.points() == 500


def test_bad_input_is_a_clear_400_and_changes_nothing(widget: Widget) -> None:  # noqa: F811
    code = redeemed_code(widget)
    for body in (None, [], {"code": 5}, {"code": ""}, {"code": "X" * 65}, {"nope": code}):
        answer = give_back(widget.app, body)
        assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_code"), body
    unsigned = widget.app.test_client().post("/proxy/return", json={"code": code})
    assert unsigned.status_code == 401
    assert widget.points() == 500
