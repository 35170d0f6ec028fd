"""Amounts and dates as a person reads them, in the active language.

Display only: amounts stay Decimals everywhere else (rules.money).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from django.utils.translation import get_language, to_locale


def current_locale() -> str:
    """The active language as a babel locale name ("fr", "en")."""
    return to_locale(get_language() or "fr")


def money(amount: Decimal, currency: str) -> str:
    """Decimal("1234.5"), "EUR" -> "1 234,50 €" in French, "€1,234.50" in English."""
    return _money(amount, currency, current_locale())


def number(value: Decimal) -> str:
    """Decimal("1234.5") -> "1 234,5" in French, "1,234.5" in English."""
    return format_decimal(value, locale=current_locale())


def day(value: date) -> str:
    """date(2026, 11, 19) -> "19 nov. 2026" in French, "Nov 19, 2026" in English."""
    return _day(value, current_locale())


# Babel formats an amount or a date in ~50-80 µs; a reminder, a page or a PDF repeats
# the same few amounts and days. Equal Decimals (1.5 and 1.50) print alike: babel
# rounds to the currency's digits.
@lru_cache(maxsize=8192)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)


@lru_cache(maxsize=4096)
def _day(value: date, locale: str) -> str:
    return format_date(value, format="medium", locale=locale)
