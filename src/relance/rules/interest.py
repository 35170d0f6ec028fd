"""Late-payment interest and indemnities: what a late invoice has earned.

Pure: the seller's terms, the debt and the day are passed in, rates come
from a ``rates.RateTable``; nothing here reads the clock or the database.

Conventions (explicit, and the defaults documented here):

- Interest is simple, per day, on the unpaid amount including VAT, for each
  day from the day after the due date up to ``as_of`` included, so an
  invoice paid 30 days late bears 30 days. An amount paid (or credited) on
  day P still bears interest on P and stops the day after: partial payments
  change the base from the day after their date.
- Periods are split at each half-year (statutory rates move on 1 January and
  1 July) and at each change of the base; each period is one ``Line``.
- Day count: ``actual/365`` by default; ``actual/360``; ``actual/actual``
  (366 in a leap year; lines never straddle a year).
- Rounding: half-up to the cent, once per line by default (``line``: the
  total is the sum of the lines a letter prints); ``total`` rounds only the
  sum.
- Grace days: the creditor waives fees on what is paid within them; past
  them, interest counts from the end of the grace period.
- Neither interest nor indemnity bears VAT (they are damages).

Regimes, by seller country and client kind (``policy="statutory"``):

- FR B2B: ECB rate in force on 1 January / 1 July of the half-year + 10
  points (C. com. L441-10 II); 40 EUR per late invoice (D441-5), still due
  after a partial payment. A contractual rate must be at least 3 x the legal
  interest rate, else it is refused (``ContractRateTooLow``).
- FR B2C: no 40 EUR; legal interest (creditor a professional: "all other
  cases" rate) from the day after the formal notice only (C. civ. 1344-1).
- DE: base rate of the half-year + 9 points B2B, + 5 points B2C (from the
  formal notice); 40 EUR B2B (BGB § 288).
- GB (B2B only): Bank of England rate on 31 December / 30 June before the
  half-year the debt became late + 8, fixed for the debt; £40/£70/£100 by
  debt size.
- Other euro-area members: ECB rate of the half-year + 8, 40 EUR (directive
  2011/7/EU). Others (outside the euro, outside the EU): no rule in the
  tables, so ``law.MissingLegalRule``.

>>> terms = FeeTerms(country="FR", b2b=True, policy="contractual", contract_rate=Decimal(15))
>>> debt = Debt("EUR", Decimal("15000.00"), date(2025, 1, 31))
>>> from relance.rules.rates import shipped
>>> fees = compute(terms, debt, date(2025, 3, 2), shipped())
>>> fees.interest, fees.indemnity
(Decimal('184.93'), Decimal('40'))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from relance.rules import law
from relance.rules.money import ZERO, round_money
from relance.rules.rates import MissingRate, RateTable, half_year_label, half_year_start

__all__ = [
    "CONTRACTUAL",
    "CUSTOM",
    "DAY_COUNTS",
    "ROUNDINGS",
    "STATUTORY",
    "ContractRateTooLow",
    "Debt",
    "FeeTerms",
    "Fees",
    "Line",
    "MissingRate",
    "check_contract_rate",
    "compute",
    "compute_parts",
]

STATUTORY, CONTRACTUAL, CUSTOM = "statutory", "contractual", "custom"
POLICIES = (STATUTORY, CONTRACTUAL, CUSTOM)
DAY_COUNTS = ("actual/365", "actual/360", "actual/actual")
ROUNDINGS = ("line", "total")
HUNDRED = Decimal(100)

EURO_AREA = frozenset(
    ["AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR",
     "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PT", "SI", "SK"]
)  # fmt: skip
L441_10 = "C. com. L441-10 II"


class ContractRateTooLow(ValueError):
    """A French B2B contractual rate under 3 x the legal rate (L441-10 II)."""


@dataclass(frozen=True)
class FeeTerms:
    """What the seller's contract says, and its conventions."""

    country: str  # the seller's (ISO 3166)
    b2b: bool
    policy: str = STATUTORY
    contract_rate: Decimal | None = None  # percent per year (contractual policy)
    monthly_rate: Decimal | None = None  # percent per month (custom policy)
    fixed_fee: Decimal | None = None  # per late invoice (custom policy)
    grace_days: int = 0
    day_count: str = "actual/365"
    rounding: str = "line"

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"unknown fee policy {self.policy!r}")
        if self.day_count not in DAY_COUNTS:
            raise ValueError(f"unknown day count {self.day_count!r}")
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"unknown rounding {self.rounding!r}")
        if self.grace_days < 0:
            raise ValueError("grace days cannot be negative")
        if self.policy == CONTRACTUAL and self.contract_rate is None:
            raise ValueError("a contractual policy needs its rate")


@dataclass(frozen=True)
class Debt:
    currency: str
    principal: Decimal  # the invoice's amount incl. VAT
    due_date: date
    # (day, amount) paid or credited: the base drops the day after.
    reductions: tuple[tuple[date, Decimal], ...] = ()
    formal_notice_on: date | None = None

    def base_on(self, day: date) -> Decimal:
        """The unpaid amount that bears interest on ``day``."""
        return self.principal - sum((amount for on, amount in self.reductions if on < day), ZERO)


@dataclass(frozen=True)
class Line:
    """One period of interest: ``start`` to ``end`` included."""

    start: date
    end: date
    base: Decimal
    rate: Decimal  # percent per year
    days: int
    amount: Decimal  # rounded half-up to the cent
    source: str
    exact: Decimal = field(compare=False, default=ZERO)  # before rounding


@dataclass(frozen=True)
class Fees:
    lines: tuple[Line, ...] = ()
    interest: Decimal = ZERO
    indemnity: Decimal = ZERO
    indemnity_source: str = ""
    fixed: Decimal = ZERO  # a custom policy's fee per late invoice
    fixed_source: str = ""
    late_on: date | None = None  # the first day of delay counted (after grace)
    notes: tuple[str, ...] = ()


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _basis(day_count: str, day: date) -> int:
    if day_count == "actual/360":
        return 360
    if day_count == "actual/actual":
        leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
        return 366 if leap else 365
    return 365


def check_contract_rate(rate: Decimal, on: date, table: RateTable) -> None:
    """Refuse a French B2B contractual rate under 3 x the legal rate of ``on``."""
    legal = table.rate("FR_LEGAL_PRO", on)
    multiple = law.constant("late_penalty_min_legal_rate_multiple", "FR", on).value
    floor = legal.rate * multiple
    if rate < floor:
        raise ContractRateTooLow(
            f"the contractual rate of {rate} % is below the legal floor of {floor} % "
            f"in {half_year_label(on)} ({multiple} x the legal interest rate of "
            f"{legal.rate} %): refused under article L441-10 II of the French Commercial Code"
        )


def _statutory_rate(
    terms: FeeTerms, debt: Debt, day: date, table: RateTable
) -> tuple[Decimal, str]:
    country, start = terms.country, half_year_start(day)
    if country == "FR":
        if not terms.b2b:
            legal = table.rate("FR_LEGAL_PRO", day)
            return (
                legal.rate,
                f"FR legal interest rate {half_year_label(day)} (C. civ. 1231-6); {legal.source}",
            )
        ecb = table.rate("ECB_MRO", start)
        margin = law.constant("late_penalty_margin", "FR", day).value
        return ecb.rate + margin, (
            f"ECB rate {ecb.rate} % on {start.isoformat()} + {margin} points ({L441_10}); "
            f"{ecb.source}"
        )
    if country == "DE":
        base = table.rate("DE_BASISZINS", day)
        key = "late_penalty_margin" if terms.b2b else "late_penalty_margin_consumer"
        margin = law.constant(key, "DE", day)
        return base.rate + margin.value, (
            f"Basiszinssatz {base.rate} % {half_year_label(day)} + {margin.value} points "
            f"({margin.article}); {base.source}"
        )
    if country == "GB":
        late = debt.due_date + timedelta(days=1)
        fixed_on = half_year_start(late) - timedelta(days=1)  # 31 December or 30 June
        boe = table.rate("BOE_BANK_RATE", fixed_on)
        margin = law.constant("late_penalty_margin", "GB", late).value
        return boe.rate + margin, (
            f"Bank of England rate {boe.rate} % on {fixed_on.isoformat()} + {margin} points, "
            "fixed for the debt (Late Payment of Commercial Debts (Interest) Act 1998); "
            f"{boe.source}"
        )
    if country in EURO_AREA:
        ecb = table.rate("ECB_MRO", start)
        margin = law.constant("late_penalty_margin", country, day)
        return ecb.rate + margin.value, (
            f"ECB rate {ecb.rate} % on {start.isoformat()} + {margin.value} points "
            f"({margin.article}); {ecb.source}"
        )
    law.constant("late_penalty_margin", country, day)  # no rule at all: MissingLegalRule
    # An EU member outside the euro: its central bank's rate is not in the table.
    raise law.MissingLegalRule(f"no reference rate for a seller in {country}")


def _rate(terms: FeeTerms, debt: Debt, day: date, table: RateTable) -> tuple[Decimal, str]:
    if terms.policy == STATUTORY:
        return _statutory_rate(terms, debt, day, table)
    if terms.policy == CONTRACTUAL:
        assert terms.contract_rate is not None
        rate, source = terms.contract_rate, "contractual rate"
    else:
        assert terms.monthly_rate is not None
        rate, source = terms.monthly_rate * 12, f"{terms.monthly_rate} % per month (custom policy)"
    if terms.country == "FR" and terms.b2b:
        check_contract_rate(rate, day, table)
    return rate, source


def _interest_start(terms: FeeTerms, debt: Debt, late_on: date) -> tuple[date | None, str]:
    """The first day that bears interest, or None and why."""
    if terms.policy == CUSTOM and terms.monthly_rate is None:
        return None, ""
    if terms.policy != STATUTORY or terms.b2b:
        return late_on, ""
    if terms.country in ("FR", "DE"):
        if debt.formal_notice_on is None:
            return None, "consumer: interest runs only from the formal notice"
        return max(late_on, debt.formal_notice_on + timedelta(days=1)), ""
    return None, f"consumer: no statutory late-payment interest for a seller in {terms.country}"


def _boundaries(debt: Debt, start: date, end: date) -> list[date]:
    """The first day of each period from ``start`` to ``end``."""
    points = {start}
    month = half_year_start(start)
    while (month := _add_months(month, 6)) <= end:
        points.add(month)
    for on, _amount in debt.reductions:
        if start < on + timedelta(days=1) <= end:
            points.add(on + timedelta(days=1))
    return sorted(points)


def _lines(terms: FeeTerms, debt: Debt, start: date, as_of: date, table: RateTable) -> list[Line]:
    lines = []
    points = _boundaries(debt, start, as_of)
    for first, nxt in zip(points, [*points[1:], as_of + timedelta(days=1)], strict=True):
        base = debt.base_on(first)
        if base <= 0:
            continue
        last = nxt - timedelta(days=1)
        rate, source = _rate(terms, debt, first, table)
        days = (last - first).days + 1
        exact = base * rate * days / (HUNDRED * _basis(terms.day_count, first))
        amount = round_money(exact, debt.currency)
        lines.append(Line(first, last, base, rate, days, amount, source, exact))
    return lines


def _indemnity(terms: FeeTerms, debt: Debt, late_on: date) -> tuple[Decimal, str, str]:
    """(amount, source, note) of the fixed recovery indemnity."""
    if not terms.b2b:
        return ZERO, "", "consumer: no fixed recovery indemnity"
    if terms.country == "GB":
        rule = law.uk_indemnity(debt.base_on(late_on), late_on)
    else:
        rule = law.constant("recovery_indemnity", terms.country, late_on)
    if rule.unit != debt.currency:
        note = f"the fixed indemnity is in {rule.unit}, the invoice in {debt.currency}: not added"
        return ZERO, "", note
    return rule.value, f"{rule.article}; {rule.source}", ""


def _fixed(terms: FeeTerms, debt: Debt) -> tuple[Decimal, str, str]:
    if terms.policy != CUSTOM or not terms.fixed_fee:
        return ZERO, "", ""
    if terms.country == "FR" and not terms.b2b:
        # CPCE L111-8: collection costs stay with the creditor against a consumer.
        return ZERO, "", "consumer: no collection fee may be charged (CPCE L111-8)"
    return terms.fixed_fee, "fixed fee per late invoice (custom policy)", ""


def compute(
    terms: FeeTerms, debt: Debt, as_of: date, table: RateTable, *, since: date | None = None
) -> Fees:
    """Interest and indemnities earned by ``as_of`` (interest from ``since``
    only, when given: the days an earlier fee document did not cover).

    Raises ``MissingRate`` (a period without its rate), ``law.MissingLegalRule``
    (no rule for the country) or ``ContractRateTooLow``: never a guess.
    """
    late_on = debt.due_date + timedelta(days=1 + terms.grace_days)
    if as_of < late_on or debt.base_on(late_on) <= 0:
        return Fees()
    notes = []
    lines: list[Line] = []
    start, why = _interest_start(terms, debt, late_on)
    if why:
        notes.append(why)
    if start is not None and since is not None:
        start = max(start, since)
    if start is not None and start <= as_of:
        lines = _lines(terms, debt, start, as_of, table)
    if terms.rounding == "line":
        interest = sum((line.amount for line in lines), ZERO)
    else:
        interest = round_money(sum((line.exact for line in lines), ZERO), debt.currency)
    indemnity, indemnity_source, note = _indemnity(terms, debt, late_on)
    fixed, fixed_source, fixed_note = _fixed(terms, debt)
    notes += [n for n in (note, fixed_note) if n]
    return Fees(
        lines=tuple(lines),
        interest=interest,
        indemnity=indemnity,
        indemnity_source=indemnity_source,
        fixed=fixed,
        fixed_source=fixed_source,
        late_on=late_on,
        notes=tuple(notes),
    )


def compute_parts(
    terms: FeeTerms,
    parts: list[Debt],
    as_of: date,
    table: RateTable,
    *,
    since: date | None = None,
) -> Fees:
    """An invoice paid in installments: each installment bears interest from
    its own due date; the fixed indemnity and fee are due once per invoice
    (claimed with the earliest late installment: never more than the law)."""
    if len(parts) == 1:
        return compute(terms, parts[0], as_of, table, since=since)
    results = [
        compute(terms, part, as_of, table, since=since)
        for part in sorted(parts, key=lambda part: part.due_date)
    ]
    lines = tuple(
        sorted((ln for r in results for ln in r.lines), key=lambda ln: (ln.start, ln.end))
    )
    if terms.rounding == "line":
        total = sum((line.amount for line in lines), ZERO)
    else:
        total = round_money(sum((line.exact for line in lines), ZERO), parts[0].currency)
    first = next((r for r in results if r.late_on is not None), Fees())
    notes = tuple(dict.fromkeys(note for r in results for note in r.notes))
    return Fees(
        lines=lines,
        interest=total,
        indemnity=first.indemnity,
        indemnity_source=first.indemnity_source,
        fixed=first.fixed,
        fixed_source=first.fixed_source,
        late_on=first.late_on,
        notes=notes,
    )
