"""What a late invoice owes on a day: principal, interest and indemnity, live.

The one place the pages, the reminders, the formal notice and the booking
read late fees from. The figures come from ``rules.interest``; this module
only gathers the facts (the invoice's payments and credit notes with their
dates, the client's kind, the seller's country and fee settings, the formal
notice, the rate table with its imported rows).

A missing rate never stops a page: the accrual comes back with amounts at
zero and ``blocked`` saying which rate to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance import formats
from relance.ledger.models import (
    Allocation,
    Client,
    ClientKind,
    ClientStatus,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)
from relance.rules import interest, law
from relance.rules.money import ZERO
from relance.rules.rates import MissingRate, RateTable, half_year_label, shipped

from .models import FeeKind, FeeSettings, LateFee, ReferenceRate

__all__ = ["Accrual", "Line", "for_client", "for_invoice", "rate_table"]

OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


@dataclass(frozen=True)
class Line:
    """One itemised period of interest (``to`` included)."""

    from_: date
    to: date
    base: Decimal
    rate: Decimal
    days: int
    amount: Decimal
    source: str


@dataclass(frozen=True)
class Accrual:
    invoice_id: int
    currency: str
    principal: Decimal  # unpaid amount incl. VAT on the day
    interest: Decimal  # accrued to the day, less what was waived
    indemnity: Decimal  # fixed recovery indemnity (B2B), unless waived
    booked: Decimal  # fees already booked and not waived
    lines: tuple[Line, ...]
    blocked: str | None  # why nothing could be computed (a missing rate): amounts are 0
    fixed: Decimal = ZERO  # a custom policy's fee per late invoice
    waived: Decimal = ZERO
    indemnity_source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.indemnity + self.fixed

    @property
    def fees(self) -> Decimal:
        return self.interest + self.indemnity + self.fixed

    @property
    def is_late(self) -> bool:
        return self.fees > 0 or bool(self.blocked)


def rate_table() -> RateTable:
    """The shipped rates, overridden by the imported ones."""
    return shipped().with_overrides(row.as_rate() for row in ReferenceRate.objects.all())


@dataclass
class Facts:
    """What the rules need of one invoice: read from an invoice (``facts_of``)
    or for many at once with plain value queries (``bulk_facts``)."""

    pk: int
    currency: str
    total_gross: Decimal
    due_date: date | None
    chased: bool  # an issued invoice (not a draft, not a credit note)
    written_off: bool
    b2b: bool
    insolvent: bool
    country: str
    payments: list[tuple[int | None, date, Decimal]] = field(default_factory=list)
    credits: list[tuple[date, Decimal]] = field(default_factory=list)
    installments: list[tuple[int, int, date, Decimal]] = field(default_factory=list)
    # (kind, amount, booked on, waived)
    fees: list[tuple[str, Decimal, date, bool]] = field(default_factory=list)
    notice_on: date | None = None


def formal_notice_on(invoice: Invoice) -> date | None:
    """The day the first formal notice claiming the invoice was sent (escalation app)."""
    if not apps.is_installed("relance.escalation"):
        return None
    sent = getattr(invoice, "sent_notices", None)  # prefetched by ``prefetched``
    if sent is not None:
        return min((notice.sent_on for notice in sent), default=None)
    from relance.escalation.notices import notice_date

    return notice_date(invoice)


def _related(invoice: Invoice, name: str, fields: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Rows of a relation: from the prefetch cache when there is one, else one
    value query (never a query per row)."""
    cache = getattr(invoice, "_prefetched_objects_cache", {})
    if name in cache:
        return [tuple(_attr(obj, path) for path in fields) for obj in getattr(invoice, name).all()]
    return list(getattr(invoice, name).values_list(*fields))


def _attr(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def facts_of(invoice: Invoice) -> Facts:
    """An invoice's facts through its relations (prefetched or not)."""
    organisation, client = invoice.organisation, invoice.client
    credits = _related(invoice, "credit_notes", ("status", "issue_date", "total_gross"))
    fees = _related(invoice, "late_fees", ("kind", "amount", "booked_on", "waived_on"))
    return Facts(
        pk=invoice.pk,
        currency=invoice.currency,
        total_gross=invoice.total_gross,
        due_date=invoice.due_date,
        chased=invoice.kind == InvoiceKind.INVOICE and not invoice.is_draft,
        written_off=invoice.status == InvoiceStatus.WRITTEN_OFF,
        b2b=client.is_company,
        insolvent=client.status == ClientStatus.INSOLVENT,
        country=organisation.country or "FR",
        payments=[
            (part, day, amount)
            for part, day, amount in _related(
                invoice, "allocations", ("installment_id", "payment__date", "amount")
            )
        ],
        credits=[
            (day, amount)
            for status, day, amount in credits
            if status != InvoiceStatus.DRAFT and day is not None
        ],
        installments=[
            (pk, position, due, amount)
            for pk, position, due, amount in _related(
                invoice, "installments", ("pk", "position", "due_date", "amount")
            )
        ],
        fees=[(kind, amount, day, waived is not None) for kind, amount, day, waived in fees],
        notice_on=formal_notice_on(invoice),
    )


def bulk_facts(invoices: Any, country: str) -> list[Facts]:
    """The facts of many invoices in six value queries (no model instances)."""
    rows = list(
        invoices.values_list(
            "pk", "currency", "total_gross", "due_date", "status", "client__kind", "client__status"
        )
    )
    found = {
        pk: Facts(
            pk=pk,
            currency=currency,
            total_gross=gross,
            due_date=due,
            chased=status != InvoiceStatus.DRAFT,
            written_off=status == InvoiceStatus.WRITTEN_OFF,
            b2b=kind == ClientKind.COMPANY,
            insolvent=client_status == ClientStatus.INSOLVENT,
            country=country,
        )
        for pk, currency, gross, due, status, kind, client_status in rows
    }
    ids = list(found)
    for start in range(0, len(ids), BULK):
        _bulk_related(found, ids[start : start + BULK])
    return list(found.values())


BULK = 500  # invoice ids per IN (...) list


def _bulk_related(found: dict[int, Facts], ids: list[int]) -> None:
    for invoice_id, part, day, amount in Allocation.objects.filter(invoice_id__in=ids).values_list(
        "invoice_id", "installment_id", "payment__date", "amount"
    ):
        found[invoice_id].payments.append((part, day, amount))
    for invoice_id, day, amount in (
        Invoice.objects.filter(corrects_id__in=ids, kind=InvoiceKind.CREDIT_NOTE)
        .exclude(status=InvoiceStatus.DRAFT)
        .values_list("corrects_id", "issue_date", "total_gross")
    ):
        if day is not None:
            found[invoice_id].credits.append((day, amount))
    for invoice_id, pk, position, due, amount in Installment.objects.filter(
        invoice_id__in=ids
    ).values_list("invoice_id", "pk", "position", "due_date", "amount"):
        found[invoice_id].installments.append((pk, position, due, amount))
    for invoice_id, kind, amount, booked_on, waived_on in LateFee.objects.filter(
        invoice_id__in=ids
    ).values_list("invoice_id", "kind", "amount", "booked_on", "waived_on"):
        found[invoice_id].fees.append((kind, amount, booked_on, waived_on is not None))
    if apps.is_installed("relance.escalation"):
        from relance.escalation.models import FormalNotice, NoticeStatus

        through = FormalNotice.invoices.through
        for invoice_id, sent_on in through.objects.filter(
            invoice_id__in=ids,
            formalnotice__status=NoticeStatus.SENT,
            formalnotice__sent_on__isnull=False,
        ).values_list("invoice_id", "formalnotice__sent_on"):
            facts = found[invoice_id]
            facts.notice_on = min(sent_on, facts.notice_on or sent_on)


def _debt(facts: Facts, as_of: date) -> interest.Debt:
    reductions = [(day, amount) for _part, day, amount in facts.payments if day <= as_of]
    reductions += [(day, amount) for day, amount in facts.credits if day <= as_of]
    assert facts.due_date is not None
    return interest.Debt(
        currency=facts.currency,
        principal=facts.total_gross,
        due_date=facts.due_date,
        reductions=tuple(sorted(reductions)),
        formal_notice_on=facts.notice_on,
    )


def _parts(facts: Facts, as_of: date) -> list[interest.Debt]:
    whole = _debt(facts, as_of)
    schedule = sorted(facts.installments, key=lambda part: (part[2], part[1]))
    if not schedule:
        return [whole]
    paid: dict[int, list[tuple[date, Decimal]]] = {pk: [] for pk, *_rest in schedule}
    spread = []  # credit notes and payments not put on an installment
    for part, day, amount in facts.payments:
        if day <= as_of:
            paid.get(part, spread).append((day, amount))  # type: ignore[arg-type]
    spread += [(day, amount) for day, amount in facts.credits if day <= as_of]
    left = {pk: amount - sum((a for _d, a in paid[pk]), ZERO) for pk, _p, _d, amount in schedule}
    for day, amount in sorted(spread):
        # The earliest installment first: it is the latest paid, so the least is claimed.
        for pk, *_rest in schedule:
            share = min(amount, left[pk])
            if share > 0:
                paid[pk].append((day, share))
                left[pk] -= share
                amount -= share
    return [
        interest.Debt(
            currency=facts.currency,
            principal=amount,
            due_date=due,
            reductions=tuple(sorted(paid[pk])),
            formal_notice_on=facts.notice_on,
        )
        for pk, _position, due, amount in schedule
    ]


def debt(invoice: Invoice, as_of: date) -> interest.Debt:
    """The invoice as the rules see it: amount, due date, dated reductions."""
    return _debt(facts_of(invoice), as_of)


def parts(invoice: Invoice, as_of: date) -> list[interest.Debt]:
    """The invoice as the rules see it: one debt, or one per installment (each
    with its own due date, payments and a share of the credit notes)."""
    return _parts(facts_of(invoice), as_of)


def terms(invoice: Invoice, settings: FeeSettings | None = None) -> interest.FeeTerms:
    organisation = invoice.organisation
    settings = settings or FeeSettings.for_org(organisation)
    return settings.terms(country=organisation.country or "FR", b2b=invoice.client.is_company)


# What each rate series is, for the reader (the code is what a rate file names).
SERIES_NAMES = {
    "ECB_MRO": gettext_lazy("the ECB main refinancing rate"),
    "FR_LEGAL_PRO": gettext_lazy("the French legal interest rate (professional creditor)"),
    "FR_LEGAL_PERSON": gettext_lazy("the French legal interest rate (creditor a private person)"),
    "BOE_BANK_RATE": gettext_lazy("the Bank of England Bank Rate"),
    "DE_BASISZINS": gettext_lazy("the German base rate (Basiszinssatz)"),
}


def blocked_text(exc: Exception, country: str) -> str:
    """Why fees cannot be computed, in the reader's language."""
    if isinstance(exc, MissingRate):
        return _("%(series)s (%(code)s) is missing for %(period)s, from %(day)s") % {
            "series": SERIES_NAMES.get(exc.series, exc.series),
            "code": exc.series,
            "day": formats.day(exc.on),
            "period": half_year_label(exc.on),
        }
    if isinstance(exc, interest.ContractRateTooLow):
        return _(
            "the contractual rate is under 3 times the legal interest rate, refused by "
            "article L441-10 of the French Commercial Code"
        )
    return _("no late-payment rule for a seller in %(country)s") % {"country": country}


def for_invoice(
    invoice: Invoice,
    as_of: date,
    *,
    table: RateTable | None = None,
    settings: FeeSettings | None = None,
) -> Accrual:
    """Interest and indemnity the invoice has earned by ``as_of``."""
    settings = settings or FeeSettings.for_org(invoice.organisation)
    return accrue(facts_of(invoice), as_of, table or rate_table(), settings)


def accrue(facts: Facts, as_of: date, table: RateTable, settings: FeeSettings) -> Accrual:
    fees = [fee for fee in facts.fees if fee[2] <= as_of]
    booked = sum((amount for _k, amount, _d, waived in fees if not waived), ZERO)

    def empty(principal: Decimal, **extra: Any) -> Accrual:
        return Accrual(facts.pk, facts.currency, principal, ZERO, ZERO, booked, (), **extra)

    if not facts.chased or facts.due_date is None:
        return empty(ZERO, blocked=None)
    whole = _debt(facts, as_of)
    # Reductions are those dated up to the day: what is left unpaid that evening.
    principal = max(ZERO, whole.principal - sum((a for _on, a in whole.reductions), ZERO))
    if facts.written_off:
        return empty(principal, blocked=None, notes=("written off",))
    if facts.insolvent:
        # L441-10 II: no indemnity nor penalties once insolvency forbids payment.
        return empty(principal, blocked=None, notes=("client insolvent",))
    try:
        result = interest.compute_parts(
            settings.terms(country=facts.country, b2b=facts.b2b),
            _parts(facts, as_of),
            as_of,
            table,
        )
    except (MissingRate, law.MissingLegalRule, interest.ContractRateTooLow) as exc:
        return empty(principal, blocked=blocked_text(exc, facts.country))
    waived = [(kind, amount) for kind, amount, _d, was in fees if was]
    waived_interest = sum((a for kind, a in waived if kind == FeeKind.INTEREST), ZERO)
    waived_kinds = {kind for kind, _a in waived}
    indemnity = ZERO if FeeKind.INDEMNITY in waived_kinds else result.indemnity
    fixed = ZERO if FeeKind.FIXED in waived_kinds else result.fixed
    lines = tuple(
        Line(ln.start, ln.end, ln.base, ln.rate, ln.days, ln.amount, ln.source)
        for ln in result.lines
    )
    return Accrual(
        invoice_id=facts.pk,
        currency=facts.currency,
        principal=principal,
        interest=max(ZERO, result.interest - waived_interest),
        indemnity=indemnity,
        booked=booked,
        lines=lines,
        blocked=None,
        fixed=fixed,
        waived=sum((a for _k, a in waived), ZERO),
        indemnity_source=result.indemnity_source,
        notes=result.notes,
    )


def prefetched(queryset: Any) -> Any:
    """Invoices with what ``for_invoice`` reads, in a few queries."""
    lookups: list[Any] = [
        "allocations__payment",
        Prefetch("credit_notes", queryset=Invoice.objects.exclude(status=InvoiceStatus.DRAFT)),
        "late_fees",
        "installments",
    ]
    if apps.is_installed("relance.escalation"):
        from relance.escalation.models import FormalNotice, NoticeStatus

        sent = FormalNotice.objects.filter(status=NoticeStatus.SENT, sent_on__isnull=False)
        lookups.append(Prefetch("formal_notices", queryset=sent, to_attr="sent_notices"))
    return queryset.select_related("client", "organisation").prefetch_related(*lookups)


def for_client(client: Client, as_of: date) -> list[Accrual]:
    """The accruals of the client's open invoices past due on ``as_of``."""
    invoices = Invoice.objects.filter(
        client=client, kind=InvoiceKind.INVOICE, status__in=OPEN, due_date__lt=as_of
    ).order_by("due_date", "pk")
    organisation = client.organisation
    table = rate_table()
    settings = FeeSettings.for_org(organisation)
    facts = bulk_facts(invoices, organisation.country or "FR")
    return [accrue(f, as_of, table, settings) for f in facts]


@dataclass
class Summary:
    """Accrued fees over many invoices, per currency, and what blocks them."""

    interest: dict[str, Decimal]
    indemnity: dict[str, Decimal]
    booked: dict[str, Decimal]
    blocked: dict[str, int]  # message -> number of invoices
    invoices: int
    truncated: bool = False

    @property
    def currencies(self) -> list[str]:
        return sorted(set(self.interest) | set(self.indemnity) | set(self.booked))

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "currency": code,
                "interest": self.interest.get(code, ZERO),
                "indemnity": self.indemnity.get(code, ZERO),
                "booked": self.booked.get(code, ZERO),
                "total": self.interest.get(code, ZERO) + self.indemnity.get(code, ZERO),
            }
            for code in self.currencies
        ]


def summarise(accruals: list[Accrual], *, truncated: bool = False) -> Summary:
    summary = Summary({}, {}, {}, {}, len(accruals), truncated)
    for item in accruals:
        code = item.currency
        summary.interest[code] = summary.interest.get(code, ZERO) + item.interest
        summary.indemnity[code] = summary.indemnity.get(code, ZERO) + item.indemnity + item.fixed
        summary.booked[code] = summary.booked.get(code, ZERO) + item.booked
        if item.blocked:
            summary.blocked[item.blocked] = summary.blocked.get(item.blocked, 0) + 1
    return summary


# The dashboard computes live fees of at most this many overdue invoices (oldest first).
SUMMARY_LIMIT = 2000


def for_organisation(organisation: Any, as_of: date, limit: int = SUMMARY_LIMIT) -> Summary:
    """Accrued fees of the organisation's overdue open invoices (value queries:
    the dashboard reads thousands of them)."""
    ids = list(
        Invoice.objects.filter(
            organisation=organisation,
            kind=InvoiceKind.INVOICE,
            status__in=OPEN,
            due_date__lt=as_of,
        )
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)[: limit + 1]
    )
    facts = bulk_facts(
        Invoice.objects.filter(pk__in=ids[:limit]).order_by("due_date", "pk"),
        organisation.country or "FR",
    )
    table = rate_table()
    settings = FeeSettings.for_org(organisation)
    accruals = [accrue(f, as_of, table, settings) for f in facts]
    return summarise(accruals, truncated=len(ids) > limit)
