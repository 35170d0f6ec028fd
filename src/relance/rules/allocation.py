"""Allocation rules that need no database: what settles an invoice early.

An early-payment discount is honoured when what is left to pay after a
payment is exactly the discount, and the payment arrived by the discount's
last day. The discount is then booked as a credit note, split over the
invoice's VAT rates in proportion to its gross amount at each rate.

>>> discount_left(D("24.00"), Early(date(2026, 1, 25), D("24.00")), date(2026, 1, 24))
Decimal('24.00')
>>> discount_left(D("24.00"), Early(date(2026, 1, 25), D("24.00")), date(2026, 1, 26)) is None
True
>>> split_pro_rata(D("24.00"), {D("20"): (D("600.00"), D("120.00")), \
D("5.5"): (D("400.00"), D("22.00"))}, "EUR")
{Decimal('20'): Decimal('15.13'), Decimal('5.5'): Decimal('8.87')}
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from relance.rules.money import ZERO, D, round_money

__all__ = ["D", "Early", "discount_left", "split_pro_rata"]


class Early(NamedTuple):
    """An invoice's early-payment discount: last day and amount taken off."""

    last_day: date
    amount: Decimal


def discount_left(balance_after: Decimal, early: Early | None, paid_on: date) -> Decimal | None:
    """The discount to credit when a payment leaves exactly it to pay, in time."""
    if early is None or early.amount <= 0 or paid_on > early.last_day:
        return None
    return early.amount if balance_after == early.amount else None


def split_pro_rata(
    amount: Decimal, by_rate: dict[Decimal, tuple[Decimal, Decimal]], currency: str
) -> dict[Decimal, Decimal]:
    """Gross ``amount`` split over VAT rates like the invoice's gross (base + VAT) is.

    The largest rate share takes the rounding remainder, so the parts add up
    exactly to ``amount``.
    """
    gross = {rate: base + vat for rate, (base, vat) in by_rate.items() if base + vat > 0}
    total = sum(gross.values(), ZERO)
    if not gross or total <= 0:
        raise ValueError("nothing to split the amount over")
    parts = {rate: round_money(amount * g / total, currency) for rate, g in gross.items()}
    largest = max(gross, key=lambda rate: gross[rate])
    parts[largest] += amount - sum(parts.values(), ZERO)
    return parts
