"""Referral links, share text, the friend's discount and email alias folding."""

import copy
from decimal import Decimal

from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings
from app.loyalty.referrals import (
    candidate_codes,
    fold_email,
    friend_discount_for,
    friend_offer_label,
    referral_contract,
)
from app.models import Member, Shop

SETTINGS = ProgramSettings(version=0, data=DEFAULT_SETTINGS)


def _amount_settings(value):
    data = copy.deepcopy(DEFAULT_SETTINGS)
    data["referrals"].update(friend_discount_kind="amount_off", friend_discount_value=value)
    return ProgramSettings(version=1, data=data)


def test_gmail_dots_and_plus_tags_fold_to_one_inbox():
    assert fold_email(" Ada.Lovelace+shop@GoogleMail.com ") == "adalovelace@gmail.com"
    assert fold_email("a.d.a+x+y@gmail.com") == "ada@gmail.com"


def test_other_providers_keep_their_dots_but_lose_plus_tags():
    assert fold_email("ada.l+promo@example.com") == "ada.l@example.com"
    assert fold_email("ada.l@example.com") != fold_email("adal@example.com")
    assert fold_email(None) is None and fold_email("  ") is None


def test_a_code_is_looked_for_in_discount_codes_then_cart_attributes_then_landing_page():
    codes = candidate_codes(
        ["summer10", "ada-7k3q"], {"Loyalty_Ref": "BOB-2X9Z", "gift": "yes"},
        "/products/tea?utm_source=x&ref=cat-4HJK")
    assert codes == ["SUMMER10", "ADA-7K3Q", "BOB-2X9Z", "CAT-4HJK"]


def test_the_same_code_seen_twice_is_one_candidate():
    assert candidate_codes(["ADA-7K3Q"], {"ref": "ada-7k3q"}, "/?ref=ADA-7K3Q") == ["ADA-7K3Q"]
    assert candidate_codes([], {}, None) == []


def test_the_share_link_uses_the_primary_domain_when_known():
    shop = Shop(domain="tea-house.myshopify.com", name="Tea House", currency="USD")
    ada = Member(referral_code="ADA-7K3Q")
    assert referral_contract(shop, ada, SETTINGS) == {
        "code": "ADA-7K3Q", "url": "https://tea-house.myshopify.com/?ref=ADA-7K3Q",
        "share_text": "Here's 10% off your first order at Tea House - use my link: "
                      "https://tea-house.myshopify.com/?ref=ADA-7K3Q",
    }
    shop.primary_domain = "teahouse.com"
    assert referral_contract(shop, ada, SETTINGS)["url"] == "https://teahouse.com/?ref=ADA-7K3Q"


def test_the_friend_gets_a_shared_code_usable_once_per_customer():
    offer = friend_discount_for("ADA-7K3Q", SETTINGS, "USD")
    assert (offer.code, offer.percentage, offer.amount) == ("ADA-7K3Q", Decimal("0.1"), None)
    assert (offer.applies_once_per_customer, offer.usage_limit, offer.customer_gid) == (
        True, None, None)
    assert offer.title == "Referral ADA-7K3Q: 10% off first order"


def test_a_fixed_amount_friend_discount_is_an_amount_in_the_shop_currency():
    settings = _amount_settings("7.50")
    offer = friend_discount_for("ADA-7K3Q", settings, "EUR")
    assert (offer.percentage, offer.amount) == (None, Decimal("7.50"))
    assert friend_offer_label(settings, "EUR") == "€7.50 off"
