"""What each invoice of a claim amounts to: principal, interest, indemnity.

The figures come from the fees app (``relance.fees.accrual.for_invoice``): one
place computes late interest. While that app is not installed, the claim is the
principal alone and says so (``missing``), rather than guessing an interest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from relance.rules.money import ZERO


@dataclass(frozen=True)
class Line:
    invoice: Any
    principal: Decimal
    interest: Decimal
    indemnity: Decimal
    blocked: str | None = None  # a rate is missing: interest not claimed
    periods: tuple[Any, ...] = ()

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.indemnity


@dataclass(frozen=True)
class Claim:
    lines: tuple[Line, ...]
    currency: str
    fees_available: bool

    @property
    def principal(self) -> Decimal:
        return sum((line.principal for line in self.lines), ZERO)

    @property
    def interest(self) -> Decimal:
        return sum((line.interest for line in self.lines), ZERO)

    @property
    def indemnity(self) -> Decimal:
        return sum((line.indemnity for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.indemnity

    @property
    def blocked(self) -> list[str]:
        return list(dict.fromkeys(line.blocked for line in self.lines if line.blocked))


def _accrual() -> Any:
    try:
        from relance.fees import accrual
    except ImportError:
        return None
    return accrual


def fees_available() -> bool:
    return _accrual() is not None


def line(invoice: Any, as_of: date, *, insolvent: bool = False) -> Line:
    """One invoice's claim on ``as_of``. A client in insolvency proceedings owes no
    penalty or indemnity claimable at the due date (L441-10 II): principal only."""
    accrual = _accrual()
    if accrual is None or insolvent:
        return Line(invoice, invoice.balance, ZERO, ZERO)
    found = accrual.for_invoice(invoice, as_of)
    return Line(
        invoice,
        found.principal,
        found.interest,
        # A custom policy's fixed fee per late invoice sits with the indemnity.
        found.indemnity + getattr(found, "fixed", ZERO),
        blocked=found.blocked,
        periods=tuple(found.lines),
    )


def claim(invoices: Iterable[Any], as_of: date, *, insolvent: bool = False) -> Claim:
    invoices = sorted(invoices, key=lambda i: (i.due_date or date.min, i.number))
    currencies = {i.currency for i in invoices}
    currency = currencies.pop() if len(currencies) == 1 else ""
    return Claim(
        tuple(line(i, as_of, insolvent=insolvent) for i in invoices),
        currency,
        fees_available(),
    )
