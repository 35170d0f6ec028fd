"""Issuing documents: numbers, credit notes and write-offs.

The full issuing rules (payment terms, mandatory mentions, PDF, sending)
build on this; here a document gets its gapless number and is frozen.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.models import (
    ActivityKind,
    Client,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    VatCategory,
)
from relance.ledger.models.timeline import record
from relance.ledger.signals import invoices_issued
from relance.rules.money import ZERO

# A line: (description, quantity, unit price excl. VAT, VAT rate) and, optionally, its
# EN 16931 VAT category (standard when left out).
LineSpec = tuple[str, Decimal, Decimal, Decimal] | tuple[str, Decimal, Decimal, Decimal, str]


def _new_lines(invoice: Invoice, lines: list[LineSpec]) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            invoice=invoice,
            position=position,
            description=line[0],
            quantity=line[1],
            unit_price=line[2],
            vat_rate=line[3],
            vat_category=line[4] if len(line) > 4 else VatCategory.STANDARD,
        )
        for position, line in enumerate(lines)
    ]


class IssueError(ValueError):
    """A document that cannot be issued as it stands; the message says why."""


def next_number(organisation: Any, series: str) -> int:
    """Take the next number of a series. Call inside a transaction: the
    sequence row stays locked until commit, so concurrent issuers queue
    and no number is skipped or given twice."""
    NumberSequence.objects.get_or_create(organisation=organisation, series=series)
    sequence = NumberSequence.objects.select_for_update().get(
        organisation=organisation, series=series
    )
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def series_for(invoice: Invoice, issue_date: date) -> str:
    org = invoice.organisation
    prefix = org.credit_note_prefix if invoice.is_credit_note else org.invoice_prefix
    return f"{prefix}{issue_date.year}"


def issue(invoice: Invoice, *, as_of: date, author: Any = None) -> Invoice:
    """Freeze a draft and give it the next number of its series."""
    with transaction.atomic():
        # Lock the invoice row only: locking the organisation too would queue every
        # payment of the organisation behind this issue, and deadlock with credit notes.
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=invoice.pk)
        )
        if not invoice.is_draft:
            raise IssueError(_("%(doc)s is already issued.") % {"doc": invoice})
        lines = list(invoice.lines.all())
        if not lines:
            raise IssueError(_("A document needs at least one line to be issued."))
        issue_date = invoice.issue_date or as_of
        if invoice.due_date is None and not invoice.is_credit_note:
            raise IssueError(_("Give the due date before issuing."))
        if invoice.due_date and invoice.due_date < issue_date:
            raise IssueError(_("The due date cannot be before the issue date."))
        totals = invoice.compute_totals()
        if totals.gross <= 0:
            raise IssueError(_("The total must be greater than zero."))
        _check_installments(invoice, totals.gross)
        if invoice.is_credit_note:
            _check_credit_note(invoice, totals.gross)
        invoice.total_net, invoice.total_vat, invoice.total_gross = (
            totals.net,
            totals.vat,
            totals.gross,
        )
        series = series_for(invoice, issue_date)
        number = next_number(invoice.organisation, series)  # the series is locked from here
        _check_chronology(invoice, series, issue_date)
        taken = Invoice.objects.filter(organisation_id=invoice.organisation_id)
        while taken.filter(number=f"{series}-{number:05d}").exists():
            # Imported from the tool used before relance: continue after it.
            number = next_number(invoice.organisation, series)
        invoice.number = f"{series}-{number:05d}"
        invoice.issue_date = issue_date
        invoice.issued_at = timezone.now()
        invoice.status = InvoiceStatus.ISSUED
        invoice.balance = ZERO if invoice.is_credit_note else totals.gross
        invoice.save()
        record(
            client=invoice.client,
            invoice=invoice,
            kind=ActivityKind.ISSUED,
            author=author,
            text=_("%(doc)s issued") % {"doc": invoice.number},
        )
        if invoice.is_credit_note:
            _apply_credit_note(invoice, author)
        else:
            invoices_issued.send(
                Invoice, organisation_id=invoice.organisation_id, invoice_ids=[invoice.pk]
            )
    return invoice


def _check_chronology(invoice: Invoice, series: str, issue_date: date) -> None:
    """Numbers follow the dates (French law): no date before the series' last one."""
    last = (
        Invoice.objects.filter(
            organisation_id=invoice.organisation_id, number__startswith=f"{series}-"
        )
        .order_by("-issue_date")
        .values_list("number", "issue_date")
        .first()
    )
    if last and last[1] > issue_date:
        raise IssueError(
            _(
                "%(doc)s is dated %(date)s: a later number cannot have an earlier date. "
                "Date this document %(date)s or later."
            )
            % {"doc": last[0], "date": date_format(last[1])}
        )


def _check_installments(invoice: Invoice, total: Decimal) -> None:
    amounts = [row.amount for row in invoice.installments.all()]
    if amounts and sum(amounts, ZERO) != total:
        raise IssueError(
            _("The installments add up to %(sum)s, not the total %(total)s.")
            % {"sum": sum(amounts, ZERO), "total": total}
        )


def _check_credit_note(credit_note: Invoice, total: Decimal) -> None:
    target = Invoice.objects.select_for_update().get(pk=credit_note.corrects_id)
    if target.kind != InvoiceKind.INVOICE or target.client_id != credit_note.client_id:
        raise IssueError(_("A credit note corrects an invoice of the same client."))
    if target.currency != credit_note.currency:
        raise IssueError(_("A credit note must be in the currency of the invoice it corrects."))
    if target.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
        raise IssueError(
            _("%(doc)s has nothing left to pay: it cannot be credited.") % {"doc": target}
        )
    if total > target.balance:
        raise IssueError(
            _("This credit note (%(total)s) is more than the %(balance)s left to pay on %(doc)s.")
            % {"total": total, "balance": target.balance, "doc": target}
        )


def _apply_credit_note(credit_note: Invoice, author: Any) -> None:
    target = Invoice.objects.select_for_update().get(pk=credit_note.corrects_id)
    target.refresh_settlement()
    record(
        client=target.client,
        invoice=target,
        kind=ActivityKind.CREDIT_NOTE,
        author=author,
        text=_("Credit note %(number)s: %(amount)s")
        % {
            "number": credit_note.number,
            "amount": formats.money(credit_note.total_gross, credit_note.currency),
        },
    )


def create_draft(
    *,
    client: Client,
    lines: list[LineSpec],
    kind: str = InvoiceKind.INVOICE,
    corrects: Invoice | None = None,
    author: Any = None,
    **fields: Any,
) -> Invoice:
    """Create a draft with its lines (see ``LineSpec``)."""
    with transaction.atomic():
        invoice = Invoice.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            kind=kind,
            corrects=corrects,
            **fields,
        )
        InvoiceLine.objects.bulk_create(_new_lines(invoice, lines))
        invoice.recompute_totals()
        record(
            client=client,
            invoice=invoice,
            kind=ActivityKind.CREATED,
            author=author,
            text=_("Credit note drafted") if corrects else _("Invoice drafted"),
        )
    return invoice


def credit_in_full(invoice: Invoice, *, as_of: date, author: Any = None) -> Invoice:
    """Cancel what is left of an invoice by one credit note."""
    if not invoice.is_open:
        raise IssueError(
            _("%(doc)s has nothing left to pay: it cannot be credited.") % {"doc": invoice}
        )
    rate_lines = [
        (_("Cancellation of %(doc)s") % {"doc": invoice.number}, Decimal(1), base, rate)
        for rate, (base, _vat) in invoice.compute_totals().by_rate.items()
    ]
    if invoice.balance != invoice.total_gross:
        raise IssueError(
            _("%(doc)s is partly settled: write a credit note for the amount to cancel instead.")
            % {"doc": invoice}
        )
    return credit_partially(invoice, lines=rate_lines, as_of=as_of, author=author)


def write_off(invoice: Invoice, *, reason: str, author: Any = None) -> Invoice:
    if not reason.strip():
        raise IssueError(_("Give the reason for writing this invoice off."))
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if not invoice.is_open:
            raise IssueError(_("Only an open invoice can be written off."))
        invoice.status = InvoiceStatus.WRITTEN_OFF
        invoice.written_off_reason = reason
        invoice.save(update_fields=["status", "written_off_reason", "updated_at"])
        record(
            client=invoice.client,
            invoice=invoice,
            kind=ActivityKind.WRITTEN_OFF,
            author=author,
            text=reason,
        )
    return invoice


def set_installments(invoice: Invoice, rows: list[tuple[date, Decimal]]) -> None:
    """Replace a draft's schedule by (due date, amount) rows; [] removes it."""
    if not invoice.is_draft:
        raise IssueError(_("%(doc)s is issued: its content is frozen.") % {"doc": invoice})
    with transaction.atomic():
        invoice.installments.all().delete()
        Installment.objects.bulk_create(
            Installment(invoice=invoice, position=i, due_date=due, amount=amount)
            for i, (due, amount) in enumerate(rows, start=1)
        )


def update_draft(
    invoice: Invoice,
    *,
    lines: list[LineSpec],
    installments: list[tuple[date, Decimal]] | None = None,
    **fields: Any,
) -> Invoice:
    """Replace the fields, lines (and schedule) of a draft, all or nothing."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if not invoice.is_draft:
            raise IssueError(
                _("%(doc)s is issued: its content is frozen; correct it with a credit note.")
                % {"doc": invoice}
            )
        for name, value in fields.items():
            setattr(invoice, name, value)
        invoice.save()
        invoice.lines.all().delete()
        InvoiceLine.objects.bulk_create(_new_lines(invoice, lines))
        if installments is not None:
            set_installments(invoice, installments)
        invoice.recompute_totals()
    return invoice


def credit_partially(
    invoice: Invoice,
    *,
    lines: list[tuple[str, Decimal, Decimal, Decimal]],
    as_of: date,
    author: Any = None,
) -> Invoice:
    """Draft and issue a credit note of some lines at once; nothing stays
    behind (not even a draft) when it cannot be issued."""
    with transaction.atomic():
        note = create_draft(
            client=invoice.client,
            lines=lines,
            kind=InvoiceKind.CREDIT_NOTE,
            corrects=invoice,
            currency=invoice.currency,
            issue_date=as_of,
            author=author,
        )
        return issue(note, as_of=as_of, author=author)
