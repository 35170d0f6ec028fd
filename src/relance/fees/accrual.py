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

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from relance.ledger.models import Client, ClientStatus, Invoice, InvoiceKind, InvoiceStatus
from relance.rules import interest, law
from relance.rules.money import ZERO
from relance.rules.rates import MissingRate, RateTable, half_year_label, shipped

from .models import FeeKind, FeeSettings, ReferenceRate

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


def formal_notice_on(invoice: Invoice) -> date | None:
    """The day the first formal notice claiming the invoice was sent (escalation app)."""
    if not apps.is_installed("relance.escalation"):
        return None
    sent = getattr(invoice, "sent_notices", None)  # prefetched by ``prefetched``
    if sent is not None:
        return min((notice.sent_on for notice in sent), default=None)
    from relance.escalation.notices import notice_date

    return notice_date(invoice)


def debt(invoice: Invoice, as_of: date) -> interest.Debt:
    """The invoice as the rules see it: amount, due date, dated reductions."""
    reductions = [
        (allocation.payment.date, allocation.amount)
        for allocation in invoice.allocations.all()
        if allocation.payment.date <= as_of
    ]
    reductions += [
        (note.issue_date, note.total_gross)
        for note in invoice.credit_notes.all()
        if note.status != InvoiceStatus.DRAFT and note.issue_date and note.issue_date <= as_of
    ]
    return interest.Debt(
        currency=invoice.currency,
        principal=invoice.total_gross,
        due_date=invoice.due_date,
        reductions=tuple(sorted(reductions)),
        formal_notice_on=formal_notice_on(invoice),
    )


def parts(invoice: Invoice, as_of: date) -> list[interest.Debt]:
    """The invoice as the rules see it: one debt, or one per installment (each
    with its own due date, payments and a share of the credit notes)."""
    whole = debt(invoice, as_of)
    schedule = sorted(invoice.installments.all(), key=lambda part: (part.due_date, part.position))
    if not schedule:
        return [whole]
    paid: dict[int, list[tuple[date, Decimal]]] = {part.pk: [] for part in schedule}
    spread = []  # credit notes and payments not put on an installment
    for allocation in invoice.allocations.all():
        if allocation.payment.date > as_of:
            continue
        item = (allocation.payment.date, allocation.amount)
        paid.get(allocation.installment_id, spread).append(item)
    spread += [
        (note.issue_date, note.total_gross)
        for note in invoice.credit_notes.all()
        if note.status != InvoiceStatus.DRAFT and note.issue_date and note.issue_date <= as_of
    ]
    left = {part.pk: part.amount - sum((a for _d, a in paid[part.pk]), ZERO) for part in schedule}
    for day, amount in sorted(spread):
        # The earliest installment first: it is the latest paid, so the least is claimed.
        for part in schedule:
            share = min(amount, left[part.pk])
            if share > 0:
                paid[part.pk].append((day, share))
                left[part.pk] -= share
                amount -= share
    return [
        interest.Debt(
            currency=invoice.currency,
            principal=part.amount,
            due_date=part.due_date,
            reductions=tuple(sorted(paid[part.pk])),
            formal_notice_on=whole.formal_notice_on,
        )
        for part in schedule
    ]


def terms(invoice: Invoice, settings: FeeSettings | None = None) -> interest.FeeTerms:
    organisation = invoice.organisation
    settings = settings or FeeSettings.for_org(organisation)
    return settings.terms(country=organisation.country or "FR", b2b=invoice.client.is_company)


def blocked_text(exc: Exception, invoice: Invoice) -> str:
    """Why fees cannot be computed, in the reader's language."""
    if isinstance(exc, MissingRate):
        return _("no %(series)s rate for %(day)s (%(period)s)") % {
            "series": exc.series,
            "day": exc.on.isoformat(),
            "period": half_year_label(exc.on),
        }
    if isinstance(exc, interest.ContractRateTooLow):
        return _(
            "the contractual rate is under 3 times the legal interest rate, refused by "
            "article L441-10 of the French Commercial Code"
        )
    return _("no late-payment rule for a seller in %(country)s") % {
        "country": invoice.organisation.country
    }


def _empty(invoice: Invoice, principal: Decimal, booked: Decimal, **extra: Any) -> Accrual:
    return Accrual(invoice.pk, invoice.currency, principal, ZERO, ZERO, booked, (), **extra)


def for_invoice(
    invoice: Invoice,
    as_of: date,
    *,
    table: RateTable | None = None,
    settings: FeeSettings | None = None,
) -> Accrual:
    """Interest and indemnity the invoice has earned by ``as_of``."""
    fees = [fee for fee in invoice.late_fees.all() if fee.booked_on <= as_of]
    booked = sum((f.amount for f in fees if not f.is_waived), ZERO)
    if invoice.kind != InvoiceKind.INVOICE or invoice.due_date is None or invoice.is_draft:
        return _empty(invoice, ZERO, booked, blocked=None)
    facts = debt(invoice, as_of)
    # Reductions are those dated up to the day: what is left unpaid that evening.
    principal = max(ZERO, facts.principal - sum((a for _on, a in facts.reductions), ZERO))
    if invoice.status == InvoiceStatus.WRITTEN_OFF:
        return _empty(invoice, principal, booked, blocked=None, notes=("written off",))
    if invoice.client.status == ClientStatus.INSOLVENT:
        # L441-10 II: no indemnity nor penalties once insolvency forbids payment.
        return _empty(invoice, principal, booked, blocked=None, notes=("client insolvent",))
    try:
        result = interest.compute_parts(
            terms(invoice, settings),
            parts(invoice, as_of),
            as_of,
            table if table is not None else rate_table(),
        )
    except (MissingRate, law.MissingLegalRule, interest.ContractRateTooLow) as exc:
        return _empty(invoice, principal, booked, blocked=blocked_text(exc, invoice))
    waived = [f for f in fees if f.is_waived]
    waived_interest = sum((f.amount for f in waived if f.kind == FeeKind.INTEREST), ZERO)
    waived_kinds = {f.kind for f in waived}
    indemnity = ZERO if FeeKind.INDEMNITY in waived_kinds else result.indemnity
    fixed = ZERO if FeeKind.FIXED in waived_kinds else result.fixed
    lines = tuple(
        Line(ln.start, ln.end, ln.base, ln.rate, ln.days, ln.amount, ln.source)
        for ln in result.lines
    )
    return Accrual(
        invoice_id=invoice.pk,
        currency=invoice.currency,
        principal=principal,
        interest=max(ZERO, result.interest - waived_interest),
        indemnity=indemnity,
        booked=booked,
        lines=lines,
        blocked=None,
        fixed=fixed,
        waived=sum((f.amount for f in waived), ZERO),
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
    invoices = prefetched(
        Invoice.objects.filter(
            client=client, kind=InvoiceKind.INVOICE, status__in=OPEN, due_date__lt=as_of
        ).order_by("due_date", "pk")
    )
    table = rate_table()
    settings = FeeSettings.for_org(client.organisation)
    return [for_invoice(inv, as_of, table=table, settings=settings) for inv in invoices]


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
    """Accrued fees of the organisation's overdue open invoices."""
    invoices = prefetched(
        Invoice.objects.filter(
            organisation=organisation,
            kind=InvoiceKind.INVOICE,
            status__in=OPEN,
            due_date__lt=as_of,
        ).order_by("due_date", "pk")[: limit + 1]
    )
    rows = list(invoices)
    table = rate_table()
    settings = FeeSettings.for_org(organisation)
    accruals = [for_invoice(inv, as_of, table=table, settings=settings) for inv in rows[:limit]]
    return summarise(accruals, truncated=len(rows) > limit)
