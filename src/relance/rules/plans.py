"""Payment plans: splitting an overdue balance into dated installments.

Pure rules (no Django): exact minor units, the rounding remainder on the last
installment, dates on the client's usual payment day.

>>> from decimal import Decimal as D
>>> [(str(p.due_date), str(p.amount)) for p in propose(
...     D("1000.00"), "EUR", as_of=date(2026, 1, 20), count=3, frequency="monthly", day=31)]
[('2026-01-31', '333.33'), ('2026-02-28', '333.33'), ('2026-03-31', '333.34')]
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from relance.rules.money import ZERO, has_sub_minor_digits, quantum

FREQUENCIES = ("monthly", "bimonthly", "custom")
MAX_INSTALLMENTS = 36
STEP_MONTHS = {"monthly": 1, "bimonthly": 2}


# What a refusal says, by code (the web layer has the same codes in gettext).
MESSAGES = {
    "frequency": "Unknown frequency.",
    "count": "The number of installments must be between 1 and %(max)s.",
    "decimals": "An amount has more decimals than %(currency)s allows.",
    "balance": "There is no balance to spread.",
    "fee": "The fee cannot be negative.",
    "down_negative": "The down payment cannot be negative.",
    "down_too_big": "The down payment must be less than the balance.",
    "dates_count": "Give exactly %(count)s dates for the installments.",
    "dates_twice": "Two installments cannot fall on the same day.",
    "dates_past": "An installment cannot be due before today.",
    "day": "The payment day must be between 1 and 31.",
    "too_small": "The amount is too small for that many installments.",
    "down_same_day": "The first installment falls today: it cannot follow a down payment.",
}


class PlanError(ValueError):
    """A plan that cannot be made as asked: ``code`` says why (see MESSAGES)."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(MESSAGES[code] % params)


@dataclass(frozen=True)
class PlanLine:
    due_date: date
    amount: Decimal


def on_day(year: int, month: int, day: int) -> date:
    """The ``day`` of that month, or its last day when the month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def schedule_dates(as_of: date, count: int, step: int, day: int) -> list[date]:
    """``count`` dates ``step`` months apart on ``day``, the first on or after ``as_of``."""
    year, month = as_of.year, as_of.month
    first = on_day(year, month, day)
    if first < as_of:
        year, month = add_months(year, month, 1)
    dates = []
    for n in range(count):
        y, m = add_months(year, month, n * step)
        dates.append(on_day(y, m, day))
    return dates


def split(amount: Decimal, count: int, currency: str) -> list[Decimal]:
    """Equal parts rounded down to the minor unit; the remainder on the last part."""
    unit = quantum(currency)
    part = (amount / count).quantize(unit, rounding=ROUND_DOWN)
    return [part] * (count - 1) + [amount - part * (count - 1)]


def propose(
    balance: Decimal,
    currency: str,
    *,
    as_of: date,
    count: int,
    frequency: str = "monthly",
    day: int | None = None,
    dates: Sequence[date] = (),
    down_payment: Decimal = ZERO,
    fee: Decimal = ZERO,
) -> list[PlanLine]:
    """The schedule of a plan for ``balance`` (+ ``fee``): an optional down payment
    due on ``as_of``, then ``count`` installments.

    ``frequency`` "monthly" or "bimonthly" puts them on ``day`` of the month (the
    client's usual payment day; ``as_of``'s day when None), "custom" uses ``dates``.
    """
    if frequency not in FREQUENCIES:
        raise PlanError("frequency")
    if not 1 <= count <= MAX_INSTALLMENTS:
        raise PlanError("count", max=MAX_INSTALLMENTS)
    for value in (balance, down_payment, fee):
        if has_sub_minor_digits(value, currency):
            raise PlanError("decimals", currency=currency)
    if balance <= 0:
        raise PlanError("balance")
    if fee < 0:
        raise PlanError("fee")
    if down_payment < 0:
        raise PlanError("down_negative")
    if down_payment >= balance + fee:
        raise PlanError("down_too_big")
    if frequency == "custom":
        due = sorted(dates)
        if len(due) != count:
            raise PlanError("dates_count", count=count)
        if len(set(due)) != len(due):
            raise PlanError("dates_twice")
        if due and due[0] < as_of:
            raise PlanError("dates_past")
    else:
        if day is not None and not 1 <= day <= 31:
            raise PlanError("day")
        # A down payment is due today: the installments start after it.
        start = as_of + timedelta(days=1) if down_payment > 0 else as_of
        due = schedule_dates(start, count, STEP_MONTHS[frequency], day or as_of.day)
    rest = balance + fee - down_payment
    parts = split(rest, count, currency)
    if parts[0] <= 0:
        raise PlanError("too_small")
    lines = []
    if down_payment > 0:
        if due[0] == as_of:
            raise PlanError("down_same_day")
        lines.append(PlanLine(as_of, down_payment))
    lines += [PlanLine(d, a) for d, a in zip(due, parts, strict=True)]
    return lines
