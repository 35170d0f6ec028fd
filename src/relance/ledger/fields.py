"""Money columns and exact sums of them.

Amounts are stored as DECIMAL(15, 2). PostgreSQL sums NUMERIC exactly;
SQLite keeps decimals as binary floats internally and would add them in
floating point, so every money sum goes through ``MoneySum``: it adds
whole cents as integers on both databases, and ``cents`` turns the result
back into a Decimal. Only currencies with at most two decimals are accepted
(see rules.money.CURRENCIES), so cents are exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.functions import Cast, Round

from relance.rules.money import MAX_AMOUNT, ZERO

__all__ = ["MAX_AMOUNT", "MoneyField", "MoneySum", "cents"]


def MoneyField(verbose_name: Any = None, **kwargs: Any) -> models.DecimalField:
    kwargs.setdefault("max_digits", 15)
    kwargs.setdefault("decimal_places", 2)
    return models.DecimalField(verbose_name, **kwargs)


def MoneySum(expression: Any, **kwargs: Any) -> models.Sum:
    """SUM of an amount expression, in integer cents (exact on every database)."""
    if isinstance(expression, str):
        expression = models.F(expression)
    as_cents = Cast(Round(expression * 100), models.BigIntegerField())
    return models.Sum(as_cents, output_field=models.BigIntegerField(), **kwargs)


def cents(value: int | None) -> Decimal:
    """Turn a ``MoneySum`` result (cents, or None for no rows) into a Decimal amount."""
    if value is None:
        return ZERO.quantize(Decimal("0.01"))
    return Decimal(int(value)).scaleb(-2)
