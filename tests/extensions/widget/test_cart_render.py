"""The cart block as Shopify renders it, before any script: the member's balance and a reserved
place for their rewards; a sign-in link for a guest; nothing for a held-out customer or while
the program is a draft."""

from __future__ import annotations

import json

import pytest

from devstore.storefront import render_block
from tests.extensions.widget.dom import Element, parse
from tests.extensions.widget.test_render import MEMBER

CART_MESSAGES = {"loading", "cost", "use_label", "applying", "applied", "not_applied", "clash",
                 "generic", "insufficient_points", "reward_unavailable", "rate_limited"}


def cart_block(**kwargs: object) -> Element:
    """The rendered cart block as a tree."""
    return parse(render_block("cart", **kwargs)).find("section", **{"class": "ll--cart"})


def test_a_member_sees_their_balance_and_a_place_kept_for_their_rewards():
    root = cart_block(customer=MEMBER)

    assert root.text() == "Use your points 1250 points available"
    assert root.has("data-ll-cart", True) and root.attrs["aria-busy"] == "true"
    # Three rows by default, kept while the rewards load and after, so the cart never moves.
    assert "height: 9.3em" in root.find("div", **{"class": "ll-live"}).attrs["style"]
    assert (root.attrs["data-ll-cart-url"], root.attrs["data-ll-update-url"]) == (
        "/cart", "/cart/update")
    assert root.attrs["data-ll-proxy"] == "/apps/loyalty"


def test_the_merchant_chooses_how_many_reward_rows_stay_reserved():
    root = cart_block(customer=MEMBER, settings={"reward_rows": 5})

    assert "height: 15.5em" in root.find("div", **{"class": "ll-live"}).attrs["style"]


def test_only_the_cart_block_loads_the_cart_script_and_only_for_a_member():
    member = parse(render_block("cart", customer=MEMBER))

    assert [s.attrs for s in member.find_all("script") if "src" in s.attrs] == [
        {"src": "/assets/loyalty-cart.js", "defer": None}]
    for block in ("launcher", "loyalty-page"):
        assert "loyalty-cart.js" not in render_block(block, customer=MEMBER)
    assert "<script" not in render_block("cart")


def test_a_guest_is_asked_to_sign_in_and_gets_no_script():
    root = cart_block()

    assert root.text() == "Use your points Sign in to use your points on this order. Sign in"
    assert root.find("a").attrs["href"] == "/account/login"
    assert not root.has("data-ll-cart", True)


@pytest.mark.parametrize("locale, title, applied", [
    ("en", "Use your points", "Code {code} is applied to your cart."),
    ("fr", "Utilisez vos points", "Le code {code} est appliqué à votre panier."),
])
def test_every_message_the_script_announces_is_in_the_shoppers_language(locale, title, applied):
    root = cart_block(customer=MEMBER, locale=locale)
    messages = json.loads(root.find("script", data_ll_msgs=True).children[0])

    assert set(messages) == CART_MESSAGES
    assert messages["applied"] == applied
    assert root.find("h2").text() == title
    assert root.attrs["data-ll-locale"] == locale


def _app(state: str) -> dict:
    return {"metafields": {"$app": {"program_state": {"value": state}}}}


def test_a_draft_program_shows_no_cart_block_outside_the_theme_editor():
    assert "ll--cart" not in render_block("cart", customer=MEMBER, app=_app("draft"))
    assert "ll--cart" in render_block("cart", customer=MEMBER, app=_app("draft"),
                                      design_mode=True)
    assert "ll--cart" in render_block("cart", customer=MEMBER, app=_app("live"))


def test_a_customer_the_holdout_keeps_out_sees_nothing():
    held_out = {**MEMBER, "metafields": {"$app": {**MEMBER["metafields"]["$app"],
                                                  "held_out": {"value": True}}}}

    assert render_block("cart", customer=held_out).strip() == ""
