"""What every statement parser returns, and the one error it may raise.

Pure Python (no Django): parsers turn bytes into ``ParsedStatement`` values;
the import service (``banking.importing``) stores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from relance.rules.money import CURRENCIES, MAX_AMOUNT

CREDIT = "credit"
DEBIT = "debit"


class StatementError(Exception):
    """A statement that cannot be read; ``line`` is the file's line when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}: {self.message}"


@dataclass
class ParsedLine:
    booking_date: date
    amount: Decimal  # positive; the sign is ``direction``
    direction: str  # CREDIT or DEBIT
    currency: str
    value_date: date | None = None
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    payer_name: str = ""
    payer_iban: str = ""
    # An id the bank gives the booking (camt AcctSvcrRef, OFX FITID, MT940 //ref).
    bank_reference: str = ""
    transaction_code: str = ""
    reversal: bool = False
    # Where the line is in the file, for messages.
    source_line: int | None = None


@dataclass
class ParsedStatement:
    format: str  # camt052, camt053, camt054, mt940, ofx, csv
    currency: str = ""
    account_iban: str = ""
    statement_id: str = ""
    period_start: date | None = None
    period_end: date | None = None
    opening_balance: Decimal | None = None  # signed
    closing_balance: Decimal | None = None  # signed
    lines: list[ParsedLine] = field(default_factory=list)
    # Entries read but not imported (pending or information only), for the report.
    skipped: int = 0


def check_currency(code: str | None, line: int | None = None) -> str:
    code = (code or "").strip().upper()
    if code not in CURRENCIES:
        shown = code or "(none)"
        raise StatementError(f"currency {shown} is not supported", line)
    return code


def parse_amount(
    text: str | None, currency: str, line: int | None = None, *, decimal_comma: bool = False
) -> Decimal:
    """A non-negative amount in ``currency``'s minor unit.

    Extra decimals are accepted only when they are zeros ("8.850" EUR); an
    amount that a currency cannot hold ("8.855" EUR, "10.5" JPY) is an error,
    as rounding it would change what the bank booked.
    """
    raw = (text or "").strip().replace("\xa0", "").replace("\u202f", "").replace(" ", "")
    if decimal_comma:
        raw = raw.replace(".", "").replace(",", ".")
    elif "," in raw and "." not in raw:
        raw = raw.replace(",", ".")
    if not raw or not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
        raise StatementError(f"not an amount: {text!r}", line)
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the regex admits only numbers
        raise StatementError(f"not an amount: {text!r}", line) from None
    value = abs(value)
    exponent = CURRENCIES.get(currency, 2)
    quantum = Decimal(1).scaleb(-exponent)
    rounded = value.quantize(quantum)
    if rounded != value:
        raise StatementError(
            f"amount {raw} has more decimals than {currency} allows ({exponent})", line
        )
    if rounded > MAX_AMOUNT:
        raise StatementError(f"amount {raw} is too large", line)
    return rounded.quantize(Decimal("0.01"))


def parse_iso_date(text: str | None, line: int | None = None) -> date:
    """A date from "2024-03-01" or the date part of "2024-03-01T10:00:00+01:00"."""
    raw = (text or "").strip()[:10]
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise StatementError(f"not a date: {text!r}", line) from None


def clean(text: str | None, limit: int | None = None) -> str:
    """Whitespace collapsed; cut to ``limit`` characters (the column's size)."""
    value = " ".join((text or "").split())
    return value[:limit] if limit else value
