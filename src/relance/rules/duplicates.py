"""Duplicate payments: the same money recorded twice (seed 003).

Two payments are taken for one when they come from the same payer (the same
client, or the same payer name once normalised), for the same amount in the
same currency, with the same reference once normalised, received within
``WINDOW_DAYS`` of each other. A month is the default window: a transfer
typed by hand and then imported from the bank statement, or a statement
imported twice, falls well within it, while a monthly subscription's
payments carry different references (the invoice number changes).

Without any reference, the amount and payer alone say little (a client may
pay two invoices of the same amount): only payments received within
``NO_REFERENCE_DAYS`` of each other are then flagged.

>>> normalise_reference(" inv-2026/001 ")
'INV2026001'
>>> normalise_name("Société  ACME, S.A.")
'SOCIETE ACME SA'
>>> a = Candidate("ACME", D("120.00"), "EUR", "RF18 5390 0754 7034", date(2026, 1, 5))
>>> b = Candidate("acme", D("120.00"), "EUR", "rf1853900754-7034", date(2026, 1, 20))
>>> is_duplicate(a, b)
True
>>> is_duplicate(a, b._replace(day=date(2026, 3, 1)))
False
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from relance.rules.money import D

__all__ = [
    "NO_REFERENCE_DAYS",
    "WINDOW_DAYS",
    "Candidate",
    "D",
    "is_duplicate",
    "normalise_name",
    "normalise_reference",
]

WINDOW_DAYS = 30
NO_REFERENCE_DAYS = 3


class Candidate(NamedTuple):
    """What identifies a payment for duplicate detection."""

    payer: str
    amount: Decimal
    currency: str
    reference: str
    day: date


def _ascii_upper(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def normalise_reference(reference: str) -> str:
    """Letters and digits only, upper case: banks add spaces, dashes and slashes."""
    return re.sub(r"[^0-9A-Z]", "", _ascii_upper(reference))


def normalise_name(name: str) -> str:
    """Upper case without accents or punctuation, single spaces."""
    letters = re.sub(r"[^0-9A-Z ]", "", _ascii_upper(name).replace("-", " "))
    return " ".join(letters.split())


def is_duplicate(
    a: Candidate, b: Candidate, *, window_days: int = WINDOW_DAYS, same_payer: bool = False
) -> bool:
    """True when ``b`` looks like ``a`` recorded again.

    ``same_payer`` says the caller already knows both come from one client;
    otherwise the payer names must agree (and not be empty).
    """
    if a.amount != b.amount or a.currency != b.currency:
        return False
    if not same_payer:
        name = normalise_name(a.payer)
        if not name or name != normalise_name(b.payer):
            return False
    ref_a, ref_b = normalise_reference(a.reference), normalise_reference(b.reference)
    if ref_a != ref_b:
        return False
    days = abs((a.day - b.day).days)
    return days <= (window_days if ref_a else min(window_days, NO_REFERENCE_DAYS))
