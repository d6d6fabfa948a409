"""One shopper's language: translated messages and CLDR numbers, money and dates (Babel)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, parse_pattern
from markupsafe import Markup, escape

from app.i18n.catalogs import available_locales, catalog, interpolate

DEFAULT_LOCALE = "en"
# BCP 47 as Shopify writes it (`request.locale.iso_code`, `customer_locale`): fr, fr-CA, pt-BR,
# zh-Hant-TW. Anything else is no locale at all and reads as English.
_LOCALE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")


def normalize_locale(raw: object) -> str | None:
    """`fr-ca` → `fr-CA`, `pt_BR` → `pt-BR`; None for what is not a locale code."""
    if not isinstance(raw, str) or not _LOCALE_CODE.fullmatch(raw):
        return None
    language, *rest = re.split(r"[-_]", raw)
    subtags = [s.upper() if len(s) == 2 else s.title() if len(s) == 4 else s for s in rest]
    return "-".join([language.lower(), *subtags])


@dataclass(frozen=True)
class Language:
    """Text from the first catalog of `chain` that has a key; formats of `locale`."""

    tag: str
    chain: tuple[str, ...]
    locale: Locale = field(compare=False)

    @property
    def code(self) -> str:
        """The catalog the text comes from first: `fr` for a shopper in fr-CA without fr-CA."""
        return self.chain[0]

    def t(self, key: str, **values: Any) -> str:
        """The message `key` with its placeholders filled; numbers formatted for the locale.

        A plural message picks its form by `count` with the locale's CLDR rules (French
        says "0 point", English "0 points").
        """
        for code in self.chain:
            message = catalog(code).get(key)
            if message is None:
                continue
            if isinstance(message, dict):
                form = self.locale.plural_form(values["count"])
                message = message.get(form, message["other"])
            shown = {k: self.number(v) if _is_number(v) else v for k, v in values.items()}
            return interpolate(message, shown)
        raise KeyError(f"no message {key!r} in {self.chain}")

    def html(self, key: str, **values: Any) -> Markup:
        """t() for an HTML template: the values are escaped, the catalog's own text is not
        (an apostrophe stays one), and the result is not escaped again."""
        return Markup(self.t(key, **{k: v if _is_number(v) else escape(v)
                                     for k, v in values.items()}))

    def number(self, value: int | Decimal | float) -> str:
        """12,345 / 12 345; 1.5 / 1,5; never an exponent (Decimal('1E+1') is 10)."""
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def money(self, value: Decimal | int, currency: str) -> str:
        """An amount with the currency as CLDR writes it here: $275.00, 275,00 €."""
        return _money(str(self.locale), Decimal(value), currency.upper())

    def price(self, value: Decimal | int, currency: str) -> str:
        """An amount for a title: whole amounts without decimals ($5, 5 €), else money()."""
        return _price(str(self.locale), Decimal(value), currency.upper())

    def percent(self, value: Decimal | int) -> str:
        """A percentage given in percent: 10 → 10%, 12.5 → 12.5% (10 % in French)."""
        return _percent(str(self.locale), Decimal(value))

    def date(self, day: date | datetime) -> str:
        """A date in words: December 22, 2026 / 22 décembre 2026."""
        return format_date(day, format="long", locale=self.locale)


# Babel takes about as long to format one amount as the rest of a widget read takes to build
# its answer; the same few amounts (a reward's 5 €, the earn rate's 1 $) recur on every read.
@lru_cache(maxsize=4096)
def _money(locale: str, value: Decimal, currency: str) -> str:
    return format_currency(value, currency, locale=locale)


@lru_cache(maxsize=4096)
def _price(locale: str, value: Decimal, currency: str) -> str:
    if value != value.to_integral_value():
        return _money(locale, value, currency)
    cldr = Locale.parse(locale)
    pattern = copy.copy(parse_pattern(cldr.currency_formats["standard"]))
    pattern.frac_prec = (0, 0)
    return pattern.apply(value, cldr, currency=currency, currency_digits=False)


@lru_cache(maxsize=1024)
def _percent(locale: str, value: Decimal) -> str:
    return format_percent(value / 100, locale=locale, decimal_quantization=False)


def _is_number(value: object) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


@lru_cache(maxsize=256)
def shopper_language(raw: str | None) -> Language:
    """The language for a locale code: its catalog, else its language's, else English.

    Formats follow the code itself when CLDR knows it and it is the text's language
    (fr-CA text from fr.json with Canadian French numbers); otherwise the text's locale, so
    a German shopper reads English text with English numbers, never a mix.
    """
    tag = normalize_locale(raw) or DEFAULT_LOCALE
    language = tag.split("-")[0]
    known = available_locales()
    chain = tuple(dict.fromkeys(c for c in (tag, language, DEFAULT_LOCALE) if c in known))
    try:
        locale = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse(chain[0], sep="-")
    if locale.language != chain[0].split("-")[0]:
        locale = Locale.parse(chain[0], sep="-")
    return Language(tag=tag, chain=chain, locale=locale)
