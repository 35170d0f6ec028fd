"""What to do when the ladder has run out: pure rules, dates and amounts passed in.

- ``limitation``: the last day a debt can be claimed (prescription), and the day
  to start worrying about it (90 days before).
- ``claim_deadline``: the last day to declare a claim once the debtor's insolvency
  proceedings are published.
- ``decide``: by amount and age, which ends of the ladder to propose: write-off,
  collection agency, small-claims procedure or order for payment.
- ``agency_estimate``: what an agency's commission would leave of the debt.
- ``check_write_off`` / ``check_due``: the refusals, with the reason.

The legal figures come from ``rules.law`` (one table, with sources); what is a
product choice (the 90-day alert, the agency's fee range) is named here.

>>> limitation("FR", "company", date(2026, 2, 4)).ends_on
datetime.date(2031, 2, 4)
>>> claim_deadline("FR", date(2026, 3, 10))
datetime.date(2026, 5, 10)
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from relance.rules import law
from relance.rules.money import ZERO, round_money

# Product policy, not law: how long before the limitation date the alert shows.
ALERT_DAYS = 90
# Collection agencies usually take 10 % to 25 % of what they recover (seed 002).
AGENCY_FEE_MIN = Decimal(10)
AGENCY_FEE_MAX = Decimal(25)


class EscalationRefused(ValueError):
    """An escalation step the rules do not allow: ``code`` says why, ``params`` the
    figures (the Django shell words it in the user's language)."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(f"{code}: {params}")


# -- dates ---------------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    """Same day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Limitation:
    """The last day a debt can still be claimed in court, and when to warn."""

    ends_on: date
    alert_on: date
    article: str
    source: str

    def state(self, as_of: date) -> str:
        """ "ok", "soon" (within the alert period) or "expired"."""
        if as_of > self.ends_on:
            return "expired"
        if as_of >= self.alert_on:
            return "soon"
        return "ok"

    def days_left(self, as_of: date) -> int:
        return (self.ends_on - as_of).days


def limitation(
    country: str, client_kind: str, due_date: date, *, interrupted_on: date | None = None
) -> Limitation:
    """The limitation date of a debt due on ``due_date`` for a seller in ``country``.

    The period runs from the day the debt became due (C. civ. 2224: when the
    creditor could act); an interruption (acknowledgement by the debtor, a claim
    filed in court: C. civ. 2240, 2241) starts a new period from its date. A formal
    notice does not interrupt it (Cass. com. 18 May 2022, n° 20-23.204).

    Raises ``law.MissingLegalRule`` for a country the law table does not cover.
    """
    start = max(due_date, interrupted_on) if interrupted_on else due_date
    key = "limitation_years_b2c" if client_kind == "individual" else "limitation_years_b2b"
    rule = law.constant(key, country, start)
    years = int(rule.value)
    if rule.unit == "years_from_year_end":
        ends_on = date(start.year + years, 12, 31)
    else:
        ends_on = add_years(start, years)
    return Limitation(
        ends_on=ends_on,
        alert_on=ends_on - timedelta(days=ALERT_DAYS),
        article=rule.article,
        source=rule.source,
    )


def claim_deadline(country: str, published_on: date, *, creditor_abroad: bool = False) -> date:
    """The last day to declare a claim to the insolvency's representative: in France
    two months from the judgment's publication in the BODACC, four for a creditor
    outside metropolitan France (C. com. R622-24)."""
    key = "claim_declaration_months_abroad" if creditor_abroad else "claim_declaration_months"
    rule = law.constant(key, country, published_on)
    return add_months(published_on, int(rule.value))


# -- the decision at the end of the ladder -----------------------------------------


class Option(StrEnum):
    WAIT = "wait"  # too early: reminders and a formal notice first
    WRITE_OFF = "write_off"
    AGENCY = "agency"
    SMALL_CLAIMS = "small_claims"
    ORDER_FOR_PAYMENT = "order_for_payment"  # injonction de payer
    DECLARE_CLAIM = "declare_claim"  # insolvency: the only lawful way left


@dataclass(frozen=True)
class Debt:
    """What a client owes that is overdue, in one currency."""

    amount: Decimal
    currency: str
    oldest_due: date
    client_kind: str = "company"
    debtor_country: str = "FR"
    insolvent: bool = False


@dataclass(frozen=True)
class Thresholds:
    """The organisation's own figures (amounts in the debt's currency)."""

    write_off_below: Decimal = Decimal(150)
    agency_from: Decimal = Decimal(1000)
    agency_after_days: int = 90


@dataclass(frozen=True)
class Proposal:
    """The options in the order relance recommends them (the first is the advice)."""

    options: tuple[Option, ...]
    days_late: int
    small_claims_max: Decimal | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def advice(self) -> Option | None:
        return self.options[0] if self.options else None


def small_claims_max(country: str, currency: str, on: date) -> Decimal | None:
    """The small-claims ceiling where the procedure exists (France, in euros)."""
    try:
        rule = law.constant("small_claims_max", country, on)
    except law.MissingLegalRule:
        return None
    return rule.value if rule.unit == currency else None


def decide(debt: Debt, thresholds: Thresholds, as_of: date, seller_country: str = "FR") -> Proposal:
    """Which ends of the ladder fit this debt today.

    Seeds 001/002: small debts are written off; significant ones go to an agency
    after 90-120 days; small claims or an order for payment otherwise. French court
    routes need a debtor domiciled in France (CPC 1406)."""
    days = max(0, (as_of - debt.oldest_due).days)
    if debt.insolvent:
        return Proposal((Option.DECLARE_CLAIM,), days)
    if debt.amount <= ZERO:
        return Proposal((), days)
    ceiling = small_claims_max(seller_country, debt.currency, as_of)
    courts: list[Option] = []
    if seller_country == "FR" and debt.debtor_country == "FR":
        if ceiling is not None and debt.amount <= ceiling:
            courts.append(Option.SMALL_CLAIMS)
        courts.append(Option.ORDER_FOR_PAYMENT)
    if debt.amount <= thresholds.write_off_below:
        return Proposal((Option.WRITE_OFF, *courts), days, ceiling)
    if days < thresholds.agency_after_days:
        return Proposal((Option.WAIT, *courts), days, ceiling)
    if debt.amount >= thresholds.agency_from:
        return Proposal((Option.AGENCY, *courts, Option.WRITE_OFF), days, ceiling)
    return Proposal((*courts, Option.AGENCY, Option.WRITE_OFF), days, ceiling)


# -- amounts -----------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyEstimate:
    claim: Decimal
    fee_min: Decimal
    fee_max: Decimal
    fee: Decimal  # at the organisation's expected rate
    recovered: Decimal  # what the organisation keeps at that rate
    rate: Decimal


def agency_estimate(amount: Decimal, currency: str, rate: Decimal) -> AgencyEstimate:
    """The agency's commission on ``amount`` at 10 %, at 25 % and at ``rate`` %
    (refused outside 10-25: an estimate, not a quote)."""
    if not AGENCY_FEE_MIN <= rate <= AGENCY_FEE_MAX:
        raise EscalationRefused("agency_rate", rate=rate, low=AGENCY_FEE_MIN, high=AGENCY_FEE_MAX)

    def fee(percent: Decimal) -> Decimal:
        return round_money(amount * percent / 100, currency)

    return AgencyEstimate(
        claim=amount,
        fee_min=fee(AGENCY_FEE_MIN),
        fee_max=fee(AGENCY_FEE_MAX),
        fee=fee(rate),
        recovered=amount - fee(rate),
        rate=rate,
    )


def check_write_off(amount: Decimal, limit: Decimal) -> None:
    """A write-off above the owner's limit is refused."""
    if amount <= ZERO:
        raise EscalationRefused("nothing_to_write_off")
    if amount > limit:
        raise EscalationRefused("above_write_off_limit", amount=amount, limit=limit)


def check_due(due_dates: list[date], as_of: date) -> None:
    """A formal notice demands a debt that is due: refused for one that is not yet
    (due on ``as_of`` itself is not late either)."""
    if not due_dates:
        raise EscalationRefused("nothing_due")
    early = [d for d in due_dates if d >= as_of]
    if early:
        raise EscalationRefused("not_due", due_date=min(early))
