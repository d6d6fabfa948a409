"""Shopify order and refund payloads become exact, plain facts (no database)."""

import copy
from datetime import datetime
from decimal import Decimal

import pytest

from app.loyalty.orders import address_digest, parse_order, parse_refund
from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings
from tests.support.order_payloads import SAMPLE_GOODS, line, money, paid_order, refund, sample


def settings_with(**earning: object) -> ProgramSettings:
    """Default settings with some earning options changed."""
    data = copy.deepcopy(DEFAULT_SETTINGS)
    data["earning"].update(earning)
    return ProgramSettings(1, data)


def mixed_order(**overrides: object) -> dict:
    """100 of goods less 10 discount (tax 9), a 50 gift card, 8 shipping (3 off), 4 tip."""
    return paid_order(
        lines=[line("50.00", 2, discount="10.00", tax="9.00", line_id=1),
               line("50.00", 1, gift_card=True, line_id=2, title="Gift card")],
        shipping_lines=[{"price": "8.00", "price_set": money("8.00"),
                         "discounted_price": "5.00", "discounted_price_set": money("5.00"),
                         "tax_lines": [{"price": "0.50", "price_set": money("0.50")}]}],
        total_tip_received="4.00", **overrides)


def test_shopifys_sample_order_becomes_exact_facts():
    facts = parse_order(sample("orders/paid"))
    assert facts.shopify_order_id == 820982911946154500
    assert facts.admin_graphql_id == "gid://shopify/Order/820982911946154508"
    assert facts.name == "#9999"
    assert (facts.email, facts.customer_email) == ("jon@example.com", "john@example.com")
    assert facts.customer_id == 115310627314723950
    assert (facts.customer_first_name, facts.customer_last_name) == ("John", "Smith")
    assert facts.currency == "USD"
    assert facts.test is True
    assert facts.browser_ip is None
    assert dict(facts.note_attributes) == {} and facts.discount_codes == ()
    assert facts.eligible_amount == SAMPLE_GOODS
    assert facts.total_price == Decimal("404.95")
    assert facts.cancelled_at == datetime(2022, 1, 1, 0, 0, 0)
    assert facts.updated_at == datetime(2022, 1, 1, 0, 0, 0)
    assert len(facts.address_digest) == 64


def test_ids_beyond_two_to_the_53_keep_every_digit():
    facts = parse_order(paid_order(9007199254740993, customer_id=9007199254740995))
    assert facts.shopify_order_id == 9007199254740993
    assert facts.customer_id == 9007199254740995


def test_referral_signals_are_read_from_the_order():
    facts = parse_order(paid_order(
        note_attributes=[{"name": "ref", "value": "ADA-7K3Q"}, {"name": "gift", "value": None}],
        discount_codes=[{"code": "ADA-7K3Q", "amount": "10.00", "type": "percentage"}],
        landing_site="/?ref=ADA-7K3Q", browser_ip="203.0.113.7"))
    assert dict(facts.note_attributes) == {"ref": "ADA-7K3Q", "gift": ""}
    assert facts.discount_codes == ("ADA-7K3Q",)
    assert facts.landing_site == "/?ref=ADA-7K3Q"
    assert facts.browser_ip == "203.0.113.7"


def test_a_guest_order_has_no_customer_and_earns_to_its_email():
    facts = parse_order(paid_order(customer_id=None, email="Guest@Example.com"))
    assert facts.customer_id is None
    assert facts.shopper_email == "Guest@Example.com"


def test_by_default_only_goods_after_discounts_earn():
    facts = parse_order(mixed_order())
    assert facts.eligible_amount == Decimal("90.00")
    assert facts.amounts.gift_cards == Decimal("50.00")
    assert facts.amounts.shipping == Decimal("5.00")
    assert facts.amounts.tips == Decimal("4.00")


@pytest.mark.parametrize(("option", "eligible"), [
    ("exclude_shipping", "95.00"),
    ("exclude_taxes", "99.00"),
    ("exclude_tips", "94.00"),
    ("exclude_gift_cards", "140.00"),
])
def test_each_exclusion_is_a_setting(option, eligible):
    facts = parse_order(mixed_order(), settings_with(**{option: False}))
    assert facts.eligible_amount == Decimal(eligible)


def test_shipping_tax_earns_only_when_both_shipping_and_taxes_do():
    facts = parse_order(mixed_order(), settings_with(exclude_shipping=False, exclude_taxes=False))
    assert facts.eligible_amount == Decimal("104.50")


def test_when_prices_include_tax_the_line_tax_is_taken_out():
    facts = parse_order(mixed_order(taxes_included=True))
    assert facts.eligible_amount == Decimal("81.00")


def test_a_tip_listed_as_a_line_item_does_not_earn():
    tip = {**line("6.00", line_id=3, title="Tip"), "product_id": None, "variant_id": None,
           "requires_shipping": False}
    facts = parse_order(paid_order(lines=[line("20.00"), tip], total_tip_received="6.00"))
    assert facts.eligible_amount == Decimal("20.00")


def test_the_legacy_total_discount_counts_when_there_are_no_allocations():
    legacy = {**line("30.00"), "total_discount": "7.50", "total_discount_set": money("7.50")}
    assert parse_order(paid_order(lines=[legacy])).eligible_amount == Decimal("22.50")


def test_the_same_door_written_differently_gives_the_same_digest():
    one = {"address1": "12 Main Street", "address2": "Apt. 4", "city": "Ottawa",
           "province_code": "ON", "zip": "K2H 7A8", "country_code": "CA"}
    two = {"address1": "12  MAIN ST.", "address2": "apt 4", "city": "ottawa",
           "province_code": "on", "zip": "k2h7a8", "country_code": "ca"}
    other = {**one, "address1": "14 Main Street"}
    assert address_digest(one, "a.myshopify.com") == address_digest(two, "a.myshopify.com")
    assert address_digest(one, "a.myshopify.com") != address_digest(other, "a.myshopify.com")
    assert address_digest(one, "a.myshopify.com") != address_digest(one, "b.myshopify.com")
    assert address_digest(None) is None


def test_shopifys_sample_refund_becomes_exact_facts():
    facts = parse_refund(sample("refunds/create"))
    assert facts.refund_id == 890088186047892400
    assert facts.shopify_order_id == 820982911946154500
    # Line subtotals arrive as JSON floats; they must keep their cents exactly.
    assert facts.eligible_amount == SAMPLE_GOODS
    assert facts.refunded_total == Decimal("85.00")
    assert facts.paid_as_store_credit is False
    assert facts.created_at == datetime(2022, 1, 1, 0, 0, 0)


def test_a_refund_typed_as_an_amount_counts_through_its_discrepancy_adjustment():
    facts = parse_refund(refund(5, subtotals=["40.00"], adjustments=["-12.50"]))
    assert facts.eligible_amount == Decimal("52.50")
    assert facts.adjustments == Decimal("12.50")


def test_a_shipping_refund_does_not_reverse_points_when_shipping_did_not_earn():
    payload = refund(6, subtotals=["10.00"])
    payload["order_adjustments"] = [{"amount": "-5.00", "tax_amount": "0.00",
                                     "kind": "shipping_refund", "reason": "Shipping refund"}]
    assert parse_refund(payload).eligible_amount == Decimal("10.00")
    assert parse_refund(payload, settings_with(exclude_shipping=False)).eligible_amount == (
        Decimal("15.00"))


def test_a_refund_to_store_credit_is_recognised():
    facts = parse_refund(refund(7, subtotals=["30.00"], store_credit=True))
    assert facts.paid_as_store_credit is True
    assert facts.store_credit_amount == Decimal("30.00")
    assert facts.eligible_amount == Decimal("30.00")


def test_a_refund_paid_back_in_the_shoppers_currency_is_counted_in_the_shops_currency():
    """A EUR shopper in a USD shop: the transaction says 100.00 EUR, the shop lost 108.70 USD."""
    payload = sample("refunds/create")
    payload["refund_line_items"] = payload["refund_line_items"][:1]
    payload["refund_line_items"][0].update(
        subtotal=108.7, total_tax=0,
        subtotal_set={"shop_money": {"amount": "108.70", "currency_code": "USD"},
                      "presentment_money": {"amount": "100.00", "currency_code": "EUR"}},
        total_tax_set={"shop_money": {"amount": "0.00", "currency_code": "USD"},
                       "presentment_money": {"amount": "0.00", "currency_code": "EUR"}})
    payload["transactions"] = payload["transactions"][:1]
    payload["transactions"][0].update(amount="100.00", currency="EUR",
                                      gateway="shopify_store_credit")
    facts = parse_refund(payload)
    assert facts.eligible_amount == Decimal("108.70")
    assert (facts.refunded_total, facts.store_credit_amount) == (Decimal("108.70"),
                                                                 Decimal("108.70"))
    # The same refund in a single-currency shop is left as it is.
    payload["transactions"][0]["currency"] = "USD"
    assert parse_refund(payload).refunded_total == Decimal("100.00")


def taxed_refund(refund_id: int, subtotal: str, tax: str) -> dict:
    """A refund of one line whose subtotal is `subtotal` with `tax` of tax on it."""
    payload = refund(refund_id, subtotals=[subtotal], adjustments=["-2.00"])
    payload["refund_line_items"][0].update({"total_tax": float(tax), "total_tax_set": money(tax)})
    return payload


@pytest.mark.parametrize(("exclude_taxes", "taxes_included", "eligible"), [
    (True, False, "57.00"), (True, True, "52.00"), (False, False, "62.00"), (False, True, "57.00"),
])
def test_a_refund_counts_tax_by_the_orders_flag_and_the_shops_exclusion(
        exclude_taxes, taxes_included, eligible):
    settings = settings_with(exclude_taxes=exclude_taxes)
    facts = parse_refund(taxed_refund(8, "55.00", "5.00"), settings,
                         taxes_included=taxes_included)
    assert (facts.eligible_amount, facts.line_tax) == (Decimal(eligible), Decimal("5.00"))


@pytest.mark.parametrize("exclude_taxes", [True, False])
@pytest.mark.parametrize("taxes_included", [True, False])
def test_refund_facts_switched_to_the_orders_tax_flag_equal_a_parse_with_it(
        exclude_taxes, taxes_included):
    # What reverse_refund relies on: the handler parses without the order's flag.
    settings = settings_with(exclude_taxes=exclude_taxes)
    payload = taxed_refund(9, "55.00", "5.00")
    for parsed_with in (True, False):
        facts = parse_refund(payload, settings, taxes_included=parsed_with)
        assert facts.with_taxes_included(taxes_included) == parse_refund(
            payload, settings, taxes_included=taxes_included)


def test_an_excluded_gift_card_refund_carries_no_tax_to_take_out():
    payload = taxed_refund(10, "25.00", "2.50")
    payload["refund_line_items"][0]["line_item"]["gift_card"] = True
    facts = parse_refund(payload, taxes_included=True)
    assert (facts.line_tax, facts.eligible_amount) == (Decimal(0), Decimal("2.00"))
    assert facts.with_taxes_included(False).eligible_amount == Decimal("2.00")
