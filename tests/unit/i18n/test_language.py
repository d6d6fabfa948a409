"""Locale fallback and CLDR formatting of numbers, money, percentages and dates (Babel)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.i18n import shopper_language
from app.i18n.language import normalize_locale
from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings
from app.loyalty.wording import earn_label, reward_title_in, shown_reward_title, tier_name

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(("raw", "tag", "text_from"), [
    ("fr", "fr", "fr"), ("fr-CA", "fr-CA", "fr"), ("fr_ca", "fr-CA", "fr"), ("FR", "fr", "fr"),
    ("de", "de", "en"), ("pt-BR", "pt-BR", "en"), ("en", "en", "en"), (None, "en", "en"),
    ("", "en", "en"), ("fr;x", "en", "en"), ("../fr", "en", "en"), ("x" * 40, "en", "en"),
])
def test_an_unknown_locale_falls_back_to_its_language_then_english(raw, tag, text_from):
    lang = shopper_language(raw)
    assert (lang.tag, lang.code) == (tag, text_from)
    assert lang.chain[-1] == "en"


def test_normalize_locale_writes_bcp47_as_shopify_does():
    assert normalize_locale("zh-hant-tw") == "zh-Hant-TW"
    assert normalize_locale(42) is None


def test_money_has_the_currency_symbol_where_cldr_puts_it():
    en, fr = shopper_language("en"), shopper_language("fr")
    assert en.money(Decimal("275"), "USD") == "$275.00"
    assert fr.money(Decimal("275"), "EUR") == f"275,00{NBSP}€"
    assert en.money(Decimal("275"), "eur") == "€275.00"
    assert en.price(Decimal(5), "USD") == "$5"
    assert en.price(Decimal("7.5"), "EUR") == "€7.50"
    assert fr.price(Decimal(5), "EUR") == f"5{NBSP}€"


def test_numbers_are_grouped_for_the_locale_and_never_written_as_an_exponent():
    en, fr = shopper_language("en"), shopper_language("fr")
    ten = Decimal("10").normalize()
    assert str(ten) == "1E+1"
    assert (en.number(ten), fr.number(ten)) == ("10", "10")
    assert (en.number(12345), fr.number(12345)) == ("12,345", f"12{NNBSP}345")
    assert (en.number(Decimal("2.50")), fr.number(Decimal("2.50"))) == ("2.5", "2,5")
    assert en.t("email.points", count=ten) == "10 points"


def test_plural_forms_follow_the_language():
    en, fr = shopper_language("en"), shopper_language("fr")
    assert (en.t("email.points", count=0), fr.t("email.points", count=0)) == (
        "0 points", "0 point")
    assert (en.t("email.points", count=1), fr.t("email.points", count=1)) == (
        "1 point", "1 point")
    assert fr.t("email.points", count=1250) == f"1{NNBSP}250 points"


def test_dates_are_written_in_words():
    day = date(2026, 12, 22)
    assert shopper_language("en").date(day) == "December 22, 2026"
    assert shopper_language("fr").date(day) == "22 décembre 2026"


def test_a_missing_placeholder_value_is_an_error_not_a_blank():
    with pytest.raises(KeyError):
        shopper_language("fr").t("activity.earn_order")


def test_the_earn_label_and_reward_titles_translate_and_merchant_titles_stay():
    settings = ProgramSettings(0, {**DEFAULT_SETTINGS,
                                   "earning": {**DEFAULT_SETTINGS["earning"],
                                               "points_per_unit": "10"}})
    en, fr = shopper_language("en"), shopper_language("fr")
    assert earn_label(en, settings, "USD") == "10 points per $1"
    assert earn_label(fr, settings, "EUR") == f"10 points par tranche de 1{NBSP}€"
    assert reward_title_in(fr, "percent_off", Decimal(15), "EUR") == f"15{NBSP}% de réduction"
    assert reward_title_in(fr, "free_shipping", Decimal(0), "EUR") == "Livraison gratuite"
    assert shown_reward_title(fr, "$5 off", "amount_off", Decimal(5), "USD") == (
        f"5{NBSP}$US de réduction")
    assert shown_reward_title(fr, "Thé offert", "amount_off", Decimal(5), "USD") == "Thé offert"
    assert (tier_name(fr, "Gold"), tier_name(fr, "VIP"), tier_name(fr, None)) == (
        "Or", "VIP", None)


def test_html_escapes_the_values_but_not_the_catalogs_own_apostrophes():
    en = shopper_language("en")
    shown = en.html("email.footer", shop='<b>Tea & "Co"</b>')
    assert shown == ("You get this email because you're a member of "
                     "&lt;b&gt;Tea &amp; &#34;Co&#34;&lt;/b&gt; rewards.")
    assert shown.__html__() == shown
