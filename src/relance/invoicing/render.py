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
