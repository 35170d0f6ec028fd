"""Issuing an invoice the lawful way: terms applied, legal caps checked,
mandatory mentions checked, a gapless number given, the Factur-X PDF made
and archived — all in one transaction, so a refused or failed issue leaves
the draft exactly as it was.

``relance.ledger.issuing.issue`` is the numbering step inside; the web and
the worker call ``issue_invoice`` here.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from relance import formats
from relance.einvoice.document import Document
from relance.ledger import issuing as ledger
from relance.ledger.issuing import IssueError
from relance.ledger.models import Invoice
from relance.rules import law, mentions
from relance.rules import terms as rules
from relance.rules.payment_reference import creditor_reference

from . import render, wording
from .snapshot import build_document, pure_terms, terms_source

__all__ = ["IssueError", "MissingMentions", "apply_terms", "issue_credit_note", "issue_invoice"]


class MissingMentions(IssueError):
    """The invoice lacks mandatory mentions; ``codes`` lists them."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = codes
        labels = [str(wording.MENTION_LABELS[code]) for code in codes]
        super().__init__(
            _("This invoice cannot be issued: a mandatory mention is missing: %(list)s.")
            % {"list": "; ".join(labels)}
        )


def apply_terms(invoice: Invoice, issue_date: date) -> None:
    """Fix the draft's due date, schedule and terms from its payment terms.

    An explicit template on the invoice wins; a due date typed by hand is
    kept; otherwise the client's, then the organisation's default terms.
    """
    if invoice.is_credit_note:
        return
    template, _whose = terms_source(invoice)
    if template is not None:
        invoice.terms = template.as_dict()
        try:
            terms = pure_terms(invoice.terms, issue_date, invoice.organisation.country)
            total = invoice.compute_totals().gross
            rows = rules.schedule(terms, issue_date, total, invoice.currency)
        except ValueError as exc:
            raise IssueError(
                _("The payment terms %(name)s cannot be applied: %(reason)s")
                % {"name": template.name, "reason": exc}
            ) from None
        invoice.due_date = rows[-1][0]
        # One row is a plain due date, not a schedule; tiny totals leave 0 rows out.
        ledger.set_installments(
            invoice, [(due, amount) for due, amount in rows if amount > 0] if len(rows) > 1 else []
        )
    elif invoice.due_date is not None and not invoice.terms:
        invoice.terms = {"kind": "fixed_date"}
    invoice.save()


def check_cap(invoice: Invoice, issue_date: date) -> None:
    """French B2B payment-term cap (L441-10 I): refuse an unlawful due date."""
    org = invoice.organisation
    if invoice.is_credit_note or org.country != "FR" or not invoice.client.is_company:
        return
    if invoice.due_date is None:
        return
    try:
        check = rules.check_fr_b2b_cap(
            issue_date, invoice.due_date, agreed_45_eom=bool(invoice.terms.get("agreed_45_eom"))
        )
    except law.MissingLegalRule as exc:
        raise IssueError(_("No legal rule to check the payment term: %(e)s") % {"e": exc}) from None
    if not check.ok:
        raise IssueError(
            _(
                "The due date %(due)s is later than the law allows for a business client: "
                "at most %(limit)s for an invoice dated %(date)s (%(article)s)."
            )
            % {
                "due": formats.day(invoice.due_date),
                "limit": formats.day(check.limit),
                "date": formats.day(issue_date),
                "article": check.article,
            }
        )


def _freeze_defaults(invoice: Invoice) -> None:
    """Copy the organisation's VAT options onto the draft: the issued document keeps them."""
    org = invoice.organisation
    invoice.vat_on_debits = invoice.vat_on_debits or org.vat_on_debits
    zero_rated = any(line.vat_rate == 0 for line in invoice.lines.all())
    if not invoice.vat_exemption_reason and org.vat_exemption_reason and zero_rated:
        invoice.vat_exemption_reason = org.vat_exemption_reason


def check_mentions(invoice: Invoice, issue_date: date) -> Document:
    """The draft's document, once every mandatory mention is there."""
    try:  # the penalty text and the indemnity come from the law table
        document = build_document(invoice, issue_date=issue_date)
        missing = mentions.missing(
            document, seller_country=invoice.organisation.country, numbered=False
        )
    except law.MissingLegalRule as exc:
        raise IssueError(str(exc)) from None
    if missing:
        raise MissingMentions(missing)
    return document


def issue_invoice(invoice: Invoice, *, as_of: date, author: Any = None) -> Invoice:
    """Apply terms, check caps and mentions, number, and archive the Factur-X PDF."""
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organisation", "client")
            .get(pk=invoice.pk)
        )
        if not invoice.is_draft:
            raise IssueError(_("%(doc)s is already issued.") % {"doc": invoice})
        issue_date = invoice.issue_date or as_of
        _freeze_defaults(invoice)
        apply_terms(invoice, issue_date)
        check_cap(invoice, issue_date)
        document = check_mentions(invoice, issue_date)
        invoice = ledger.issue(invoice, as_of=as_of, author=author)
        # The checked document, now with its number: built once, not twice.
        document = dataclasses.replace(
            document,
            number=invoice.number,
            creditor_reference=creditor_reference(invoice.number),
        )
        archive(invoice, document)
    return invoice


def issue_credit_note(
    invoice: Invoice,
    *,
    lines: list[tuple[str, Decimal, Decimal, Decimal]] | None = None,
    as_of: date,
    author: Any = None,
) -> Invoice:
    """Credit ``lines`` of an invoice (all of what is left when None), with its PDF."""
    with transaction.atomic():
        if lines is None:
            note = ledger.credit_in_full(invoice, as_of=as_of, author=author)
        else:
            note = ledger.credit_partially(invoice, lines=lines, as_of=as_of, author=author)
        document = build_document(note)
        missing = mentions.missing(document, seller_country=note.organisation.country)
        if missing:
            raise MissingMentions(missing)
        archive(note, document)
    return note


def archive(invoice: Invoice, document: Document | None = None) -> None:
    """Render the issued document once and keep it: what was sent is what stays."""
    if document is None:
        pdf = render.facturx_pdf(invoice)
    else:
        pdf = render.document_pdf(document, logo=render.logo_bytes(invoice))
    name = f"{invoice.number}.pdf"
    invoice.pdf.save(name, ContentFile(pdf), save=False)
    Invoice.objects.filter(pk=invoice.pk).update(pdf=invoice.pdf.name)
