"""Stripe counts money in the currency's minor unit (cents); relance in Decimal.
Pure: no Django."""

from __future__ import annotations

from decimal import Decimal

from relance.rules.money import MoneyError, exponent, has_sub_minor_digits


def to_minor(amount: Decimal, currency: str) -> int:
    """1234.50 EUR -> 123450; refuses an amount finer than the minor unit."""
    code = currency.upper()
    if has_sub_minor_digits(amount, code):
        raise MoneyError(f"{amount} has more decimals than {code} allows")
    return int(amount.scaleb(exponent(code)))


def from_minor(value: int, currency: str) -> Decimal:
    """123450 EUR -> Decimal("1234.50")."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(f"not an amount in minor units: {value!r}")
    code = currency.upper()
    places = exponent(code)
    return Decimal(value).scaleb(-places).quantize(Decimal(1).scaleb(-places))
