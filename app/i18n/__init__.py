"""What a shopper reads, in their language: message catalogs and CLDR formatting (Babel).

`shopper_language(code)` answers a `Language` for any locale code a request or payload carries
(`fr`, `fr-CA`, `pt-BR`, nonsense): its text comes from `app/locales/<code>.json`, then the
language's own file, then English; numbers, money and dates follow CLDR for that locale.
Adding a language is adding `app/locales/<language>.json` with every key of `en.json`
(`tests/unit/i18n/test_catalogs.py` fails otherwise).
"""

from app.i18n.language import DEFAULT_LOCALE, Language, shopper_language

__all__ = ["DEFAULT_LOCALE", "Language", "shopper_language"]
