"""Payment terms: when an invoice is due, in how many rows, and whether it is lawful.

A ``PaymentTerms`` is a template ("30 days", "45 days end of month", "half
up front, the balance on 1 March", "3 monthly installments"); applied to an
invoice date and a total it gives the due date and the payment schedule.
Nothing here reads the clock or Django: dates and amounts are passed in, so
the same terms always give the same answer.

>>> from datetime import date
>>> due_date(PaymentTerms("net", days=30), date(2026, 1, 15))
datetime.date(2026, 2, 14)
>>> due_date(PaymentTerms("eom_then_days", days=45), date(2026, 1, 15))
datetime.date(2026, 3, 17)
>>> due_date(PaymentTerms("days_then_eom", days=45), date(2026, 1, 15))
datetime.date(2026, 3, 31)
>>> schedule(PaymentTerms("installments", count=3), date(2026, 1, 15), D("100.00"), "EUR")
[(datetime.date(2026, 1, 15), Decimal('33.33')), \
(datetime.date(2026, 2, 15), Decimal('33.33')), \
(datetime.date(2026, 3, 15), Decimal('33.34'))]
>>> discount(PaymentTerms("net", days=30, discount_percent=D("5"), discount_days=10),
...          date(2026, 1, 15), D("1000.00"), "EUR")
(datetime.date(2026, 1, 25), Decimal('950.00'))
>>> check_fr_b2b_cap(date(2026, 1, 15), date(2026, 3, 17)).reason
'exceeds_60_days'
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Literal

import holidays

from relance.rules import law
from relance.rules.money import ZERO, D, has_sub_minor_digits, round_money

__all__ = [
    "ARTICLE_L441_10_I",
    "KINDS",
    "CapCheck",
    "PaymentTerms",
    "add_months",
    "check_fr_b2b_cap",
    "discount",
    "due_date",
    "end_of_month",
    "schedule",
    "suggest_mid_month_issue_date",
]

Kind = Literal["immediate", "net", "eom_then_days", "days_then_eom", "deposit", "installments"]
KINDS: tuple[str, ...] = (
    "immediate",
    "net",
    "eom_then_days",
    "days_then_eom",
    "deposit",
    "installments",
)
HUNDRED = Decimal(100)
ARTICLE_L441_10_I = "L441-10 I du Code de commerce"

Row = tuple[date, Decimal]


def _percent(value: Decimal | int | None, name: str) -> Decimal | None:
    """A percentage as a Decimal; floats are refused like amounts are."""
    if value is None:
        return None
    if isinstance(value, float | bool):
        raise ValueError(f"{name} must be a Decimal or an int, not {type(value).__name__}")
    return D(value)


def _check_days(value: int | None, name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number of days")
    if value < 0:
        raise ValueError(f"{name} cannot be negative (got {value})")


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """A payment-term template, independent of any invoice.

    - ``immediate``: due on the invoice date.
    - ``net``: ``days`` after the invoice date.
    - ``eom_then_days``: end of the invoice month, then ``days`` more
      ("45 jours fin de mois", method (a)).
    - ``days_then_eom``: invoice date + ``days``, then to the end of that
      month (method (b)).
    - ``deposit``: ``deposit_percent`` due on the invoice date, the balance
      on ``balance_date`` or ``days`` after the invoice date.
    - ``installments``: ``count`` equal rows, the first ``days`` after the
      invoice date (0: on issue) then every ``every_months`` months (1 or 2);
      or ``custom`` rows of (date, percentage) summing to 100.

    ``business_days`` counts ``days`` (and ``discount_days``) on Mon-Fri
    only, skipping the public holidays of ``holiday_country`` (ISO code).
    ``discount_percent`` off the total if paid within ``discount_days``.
    """

    kind: Kind
    days: int = 0
    deposit_percent: Decimal | None = None
    balance_date: date | None = None
    count: int = 0
    every_months: int = 1
    custom: tuple[tuple[date, Decimal], ...] = ()
    business_days: bool = False
    holiday_country: str = "FR"
    discount_percent: Decimal | None = None
    discount_days: int | None = None

    def __post_init__(self) -> None:
        # Invalid terms are refused here, once, so that every function below
        # can trust them: a template is saved long before it is applied.
        if self.kind not in KINDS:
            raise ValueError(f"unknown payment-term kind {self.kind!r}; expected one of {KINDS}")
        _check_days(self.days, "days")
        _check_days(self.discount_days, "discount_days")
        object.__setattr__(
            self, "deposit_percent", _percent(self.deposit_percent, "deposit_percent")
        )
        object.__setattr__(
            self, "discount_percent", _percent(self.discount_percent, "discount_percent")
        )
        object.__setattr__(
            self,
            "custom",
            tuple((d, _percent(p, "installment percentage")) for d, p in self.custom),
        )
        self._check_kind()
        self._check_discount()
        if self.business_days and self.holiday_country not in _supported_countries():
            raise ValueError(f"unknown holiday country {self.holiday_country!r}")

    def _check_kind(self) -> None:
        if self.kind == "immediate" and self.days:
            raise ValueError("immediate terms have no days; use kind 'net'")
        if self.kind != "deposit" and (
            self.deposit_percent is not None or self.balance_date is not None
        ):
            raise ValueError("deposit_percent and balance_date only apply to kind 'deposit'")
        if self.kind != "installments" and (self.count or self.custom):
            raise ValueError("count and custom only apply to kind 'installments'")
        if self.kind == "deposit":
            pct = self.deposit_percent
            if pct is None or not ZERO < pct < HUNDRED:
                raise ValueError(
                    f"a deposit must be strictly between 0 and 100 percent (got {pct})"
                )
            if (self.balance_date is None) == (self.days == 0):
                raise ValueError("a deposit needs either a balance_date or days, not both")
        if self.kind == "installments":
            self._check_installments()

    def _check_installments(self) -> None:
        if self.every_months not in (1, 2):
            raise ValueError("installments are monthly (1) or every two months (2)")
        if self.custom:
            if self.count not in (0, len(self.custom)):
                raise ValueError("count disagrees with the number of custom installments")
            dates = [d for d, _ in self.custom]
            if dates != sorted(dates):
                raise ValueError("custom installments must be in date order")
            for _, pct in self.custom:
                assert pct is not None
                if not ZERO < pct <= HUNDRED:
                    raise ValueError(f"an installment percentage must be in (0, 100] (got {pct})")
            total = sum((p for _, p in self.custom if p is not None), ZERO)
            if total != HUNDRED:
                raise ValueError(f"installment percentages must sum to 100 (got {total})")
        elif not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1:
            raise ValueError(f"installments need at least one installment (got {self.count})")

    def _check_discount(self) -> None:
        has_pct = self.discount_percent is not None
        if has_pct != (self.discount_days is not None):
            raise ValueError(
                "an early-payment discount needs both discount_percent and discount_days"
            )
        pct = self.discount_percent
        if pct is not None and not ZERO < pct < HUNDRED:
            raise ValueError(f"a discount must be strictly between 0 and 100 percent (got {pct})")


@dataclass(frozen=True, slots=True)
class CapCheck:
    """Result of a legal payment-term check, for the UI to word.

    ``reason`` is ``"ok"``, ``"exceeds_60_days"``,
    ``"exceeds_45_days_end_of_month"`` or ``"exceeds_45_days_periodic"``;
    ``limit`` is the latest lawful due date for this invoice date.
    """

    ok: bool
    reason: str
    article: str
    limit: date


# -- calendar helpers -------------------------------------------------------


def end_of_month(d: date) -> date:
    """Last day of ``d``'s month (28, 29, 30 or 31)."""
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (Jan 31 + 1 -> Feb 28/29)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=32)
def _holidays(country: str) -> holidays.HolidayBase:
    # expand=True (the default) adds the years asked for as dates are checked.
    return holidays.country_holidays(country, years=range(2000, 2041))


def is_business_day(d: date, country: str) -> bool:
    """Mon-Fri and not a public holiday of ``country``."""
    return d.weekday() < 5 and d not in _holidays(country)


def _add_days(terms: PaymentTerms, start: date, days: int) -> date:
    """``start`` + ``days``, counting only business days when the terms say so.

    With business days, the result is the ``days``-th business day after
    ``start`` (start itself is not counted), so it is always a business day.
    """
    if not terms.business_days:
        return start + timedelta(days=days)
    d = start
    left = days
    while left > 0:
        d += timedelta(days=1)
        if is_business_day(d, terms.holiday_country):
            left -= 1
    return d


# -- due dates and schedules ------------------------------------------------


def _rows(terms: PaymentTerms, invoice_date: date) -> list[tuple[date, Decimal | Fraction]]:
    """(due date, percentage) rows; the percentages sum to 100."""
    match terms.kind:
        case "immediate":
            return [(invoice_date, HUNDRED)]
        case "net":
            return [(_add_days(terms, invoice_date, terms.days), HUNDRED)]
        case "eom_then_days":
            return [(_add_days(terms, end_of_month(invoice_date), terms.days), HUNDRED)]
        case "days_then_eom":
            return [(end_of_month(_add_days(terms, invoice_date, terms.days)), HUNDRED)]
        case "deposit":
            assert terms.deposit_percent is not None
            balance = terms.balance_date or _add_days(terms, invoice_date, terms.days)
            return [
                (invoice_date, terms.deposit_percent),
                (balance, HUNDRED - terms.deposit_percent),
            ]
        case "installments":
            if terms.custom:
                return [(d, p) for d, p in terms.custom if p is not None]
            first = _add_days(terms, invoice_date, terms.days)
            # Exact: 100/22 as a Decimal would round 172.15/22 = 7.825 down.
            share = Fraction(100, terms.count)
            return [(add_months(first, i * terms.every_months), share) for i in range(terms.count)]
    raise AssertionError(terms.kind)  # pragma: no cover


def _dated_rows(terms: PaymentTerms, invoice_date: date) -> list[tuple[date, Decimal | Fraction]]:
    rows = _rows(terms, invoice_date)
    if rows[0][0] < invoice_date:
        # Only fixed dates (balance_date, custom rows) can fall before issue.
        raise ValueError(f"a payment date ({rows[0][0]}) is before the invoice date")
    if terms.kind == "deposit" and rows[1][0] < invoice_date:
        raise ValueError(f"the balance date ({rows[1][0]}) is before the invoice date")
    return rows


def due_date(terms: PaymentTerms, invoice_date: date) -> date:
    """The date the whole invoice must be paid by (the last installment's date)."""
    return _dated_rows(terms, invoice_date)[-1][0]


def _check_total(total: Decimal, currency: str) -> None:
    if total < ZERO:
        raise ValueError("payment terms apply to amounts due, not to credits")
    if has_sub_minor_digits(total, currency):
        raise ValueError(f"{total} has more decimals than {currency} allows")


def schedule(terms: PaymentTerms, invoice_date: date, total: Decimal, currency: str) -> list[Row]:
    """(due date, amount) rows, in date order, summing exactly to ``total``.

    Each row is its share rounded half-up to the currency's minor unit; the
    last row takes what is left, so rounding never loses or invents a cent.
    A row is capped at what is left, so on tiny totals (0.03 in 5 rows) no
    row goes negative: later rows are then 0.
    """
    _check_total(total, currency)
    rows = _dated_rows(terms, invoice_date)
    out: list[Row] = []
    left = total
    for d, pct in rows[:-1]:
        share = Fraction(total) * Fraction(pct) / 100
        exact = Decimal(share.numerator) / Decimal(share.denominator)
        amount = min(round_money(exact, currency), left)
        out.append((d, amount))
        left -= amount
    out.append((rows[-1][0], left))
    return out


def discount(
    terms: PaymentTerms, invoice_date: date, total: Decimal, currency: str
) -> tuple[date, Decimal] | None:
    """(last day to pay with the discount, amount to pay then), or None.

    The discount is rounded to the minor unit and taken off the total, so
    the amount to pay is itself a whole number of cents.
    """
    if terms.discount_percent is None or terms.discount_days is None:
        return None
    _check_total(total, currency)
    last_day = _add_days(terms, invoice_date, terms.discount_days)
    off = round_money(total * terms.discount_percent / HUNDRED, currency)
    return last_day, total - off


def suggest_mid_month_issue_date(d: date) -> date:
    """The 15th on or after ``d``: issue mid-month, so terms end mid-month.

    Clients pay their month-end bills (rent, salaries, VAT) first; an
    invoice due mid-month does not compete with them.
    """
    if d.day <= 15:
        return d.replace(day=15)
    return add_months(d.replace(day=15), 1)


# -- French legal caps ------------------------------------------------------


def check_fr_b2b_cap(
    invoice_date: date, due: date, *, agreed_45_eom: bool = False, periodic: bool = False
) -> CapCheck:
    """Check a B2B due date against C. com. L441-10 I.

    - Default agreed term: at most 60 days after the invoice date.
    - ``agreed_45_eom`` (expressly stipulated in the contract): 45 days end
      of month is also allowed, computed either way, (a) end of the invoice
      month + 45 days or (b) invoice date + 45 days then end of month, so the
      limit is the latest of the three dates.
    - ``periodic`` invoices (CGI art. 289 I 3): at most 45 days after the
      invoice date; this stricter rule wins over ``agreed_45_eom``.

    Only the upper bound is checked; sector caps (L441-11) are not. The
    day counts come from ``relance.rules.law`` (``MissingLegalRule`` before
    the rule existed).
    """

    def days(key: str) -> timedelta:
        return timedelta(days=int(law.constant(key, "FR", invoice_date).value))

    if periodic:
        limit = invoice_date + days("payment_term_max_days_periodic")
        reason = "exceeds_45_days_periodic"
    elif agreed_45_eom:
        eom = days("payment_term_max_days_eom")
        limit = max(
            invoice_date + days("payment_term_max_days"),
            end_of_month(invoice_date) + eom,
            end_of_month(invoice_date + eom),
        )
        reason = "exceeds_45_days_end_of_month"
    else:
        limit = invoice_date + days("payment_term_max_days")
        reason = "exceeds_60_days"
    ok = due <= limit
    return CapCheck(ok=ok, reason="ok" if ok else reason, article=ARTICLE_L441_10_I, limit=limit)
