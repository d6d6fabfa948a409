"""Numbers and money as a person reads them in titles, emails and the widget. Plain Python."""

from __future__ import annotations

from decimal import Decimal

_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "SGD": "$", "HKD": "$",
            "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def number_label(value: Decimal) -> str:
    """A number as a person writes it: 10, 1.5, 0.25 (never 1E+1, nor trailing zeros)."""
    # Decimal("10").normalize() is Decimal("1E+1"), which str() writes in exponent form.
    return f"{value.normalize():f}"


def money_label(value: Decimal, currency: str) -> str:
    """A short price for titles: $5, €7.50, 12 CHF."""
    amount = f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"
    symbol = _SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"
