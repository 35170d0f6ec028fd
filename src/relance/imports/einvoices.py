"""Invoices from e-invoice files: Factur-X / ZUGFeRD PDFs, CII and UBL XML.

``relance.einvoice.reading.read`` turns a file into a ``Document`` (or
raises its ``ReadError`` with the reason and where); here each document
becomes an ``InvoiceRow``. Only the invoices the organisation issued belong
in its register: a document whose seller carries another SIREN or VAT
number is refused (it is an invoice received, not one to collect).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from relance.einvoice.document import Document
from relance.imports.rows import (
    InvoiceRow,
    LineRow,
    Parsed,
    Problem,
    Settlement,
    check,
    compact_siren,
    compact_vat,
    gettext_noop,
)

MAX_LINE_DECIMALS = 4  # InvoiceLine keeps quantities and unit prices to 4 decimals


def read_document(data: bytes, filename: str) -> Document:
    """The reader of the einvoice package, imported when first needed."""
    from relance.einvoice import reading

    return reading.read(data, filename)


def read_errors() -> tuple[type[Exception], ...]:
    from relance.einvoice import reading

    return (reading.ReadError,)


def _identifiers(siren: str, vat: str) -> set[str]:
    found = set()
    for value, compact in ((siren, compact_siren), (vat, compact_vat)):
        if value:
            try:
                found.add(compact(value))
            except ValueError:
                found.add(value.replace(" ", "").upper())
    return found


def _fits(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and -exponent <= MAX_LINE_DECIMALS


def _lines(document: Document) -> tuple[LineRow, ...]:
    """The document's lines, when relance can store them exactly."""
    lines = tuple(
        LineRow(line.description[:500] or document.number, line.quantity, line.unit_price,
                line.vat_rate, line.vat_category)
        for line in document.lines
    )  # fmt: skip
    if all(
        _fits(x.quantity.normalize()) and _fits(x.unit_price.normalize()) and 0 <= x.vat_rate <= 100
        for x in lines
    ):
        return lines
    return ()


def row_from_document(
    document: Document, filename: str, *, own_ids: set[str], terms_days: int = 30
) -> tuple[InvoiceRow | None, list[Problem]]:
    if document.is_credit_note:
        return None, [
            Problem(
                gettext_noop(
                    "%(number)s is a credit note: only invoices are imported. Record the "
                    "credit note on the invoice it corrects."
                ),
                {"number": document.number},
                file=filename,
            )
        ]
    seller_ids = _identifiers(document.seller.siren, document.seller.vat_number)
    if own_ids and seller_ids and not own_ids & seller_ids:
        return None, [
            Problem(
                gettext_noop(
                    "%(number)s was issued by %(seller)s, not by this organisation: an "
                    "invoice received is not imported among the invoices to collect."
                ),
                {"number": document.number, "seller": document.seller.name},
                file=filename,
            )
        ]
    prepaid = document.amount_prepaid
    if prepaid < 0 or document.amount_due != document.total_gross - prepaid:
        return None, [
            Problem(
                gettext_noop(
                    "%(number)s asks for %(due)s while its total is %(total)s and "
                    "%(prepaid)s was paid in advance: relance cannot keep such an amount due."
                ),
                {
                    "number": document.number,
                    "due": document.amount_due,
                    "total": document.total_gross,
                    "prepaid": prepaid,
                },
                file=filename,
            )
        ]
    buyer = document.buyer
    siren = buyer.siren or (buyer.siret[:9] if buyer.siret else "")
    row = InvoiceRow(
        line=0,
        number=document.number,
        client_name=buyer.name,
        client_siren=siren,
        client_vat=buyer.vat_number,
        client_email=buyer.email,
        issue_date=document.issue_date,
        due_date=document.due_date
        or max((i.due_date for i in document.installments), default=None)
        or document.issue_date + timedelta(days=terms_days),
        currency=document.currency,
        total_gross=document.total_gross,
        total_net=document.total_net,
        total_vat=document.total_vat,
        payments=(Settlement(document.issue_date, prepaid),) if prepaid > 0 else (),
        purchase_order=document.purchase_order,
        lines=_lines(document),
        file=filename,
    )
    return row, check(row)


def parse(
    files: Iterable[tuple[str, bytes]],
    *,
    own_siren: str = "",
    own_vat: str = "",
    terms_days: int = 30,
) -> Parsed:
    """Every file read as one invoice; a file that cannot be read is an error
    naming it and the reader's reason."""
    parsed = Parsed()
    own_ids = _identifiers(own_siren, own_vat)
    errors = read_errors()
    for filename, data in files:
        try:
            document = read_document(data, filename)
        except errors as exc:
            parsed.errors.append(
                Problem(gettext_noop("Cannot read it: %(reason)s"), {"reason": exc}, file=filename)
            )
            continue
        row, problems = row_from_document(
            document, filename, own_ids=own_ids, terms_days=terms_days
        )
        parsed.errors.extend(problems)
        if row is not None and not problems:
            parsed.rows.append(row)
    return parsed
