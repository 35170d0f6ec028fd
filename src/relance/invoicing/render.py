"""An invoice of the register as a Factur-X PDF: the printed page with its
EN 16931 XML inside, made in one place for issuing, previews and sending."""

from __future__ import annotations

from relance.einvoice.document import Document
from relance.ledger.models import Invoice

from .snapshot import build_document


def logo_bytes(invoice: Invoice) -> bytes | None:
    logo = invoice.organisation.logo
    if not logo:
        return None
    try:
        with logo.open("rb") as handle:
            return handle.read()
    except OSError:  # a logo file lost on disk must not block invoicing
        return None


def document_pdf(document: Document, *, logo: bytes | None = None) -> bytes:
    from relance.einvoice import cii
    from relance.invoicing.pdf import render_pdf

    return render_pdf(document, logo=logo, facturx_xml=cii.to_cii(document))


def facturx_pdf(invoice: Invoice) -> bytes:
    return document_pdf(build_document(invoice), logo=logo_bytes(invoice))


def stored_pdf(invoice: Invoice) -> bytes | None:
    """The issued document's archived PDF; made and archived now for a document
    issued before relance archived PDFs (the demo's history). None for imports:
    relance did not make them and cannot print them as they were."""
    if invoice.is_draft or invoice.source != "relance":
        return None if not invoice.pdf else _read(invoice)
    if not invoice.pdf:
        from .issuing import archive

        archive(invoice)
    return _read(invoice)


def _read(invoice: Invoice) -> bytes:
    with invoice.pdf.open("rb") as handle:
        return handle.read()
