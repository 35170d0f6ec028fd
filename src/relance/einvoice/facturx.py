"""Factur-X PDF: the invoice PDF/A-3 with its CII XML inside.

``embed`` attaches the XML as ``factur-x.xml`` (AFRelationship /Data) to a
PDF/A-3 made by WeasyPrint (``pdf_variant="pdf/a-3b"``) and writes the XMP
that declares both PDF/A-3 (pdfaid:part 3) and the Factur-X profile
(fx:ConformanceLevel), using the factur-x library, which checks the XML
against the profile's XSD first. ``extract_xml`` reads it back.

PDF/A wants the document information dictionary to say what the XMP says.
The library writes its own XMP (producer "pypdf", its own dates) but leaves
WeasyPrint's /Producer and adds /Keywords, which XMP lacks: ``embed`` makes
the dictionary agree with the XMP afterwards. The XMP is left uncompressed,
as PDF/A validators and signing tools expect.
"""

from __future__ import annotations

import io
import re

import facturx as _lib
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from relance.einvoice.cii import PROFILES

__all__ = ["FacturXError", "embed", "extract_xml"]


class FacturXError(ValueError):
    """A PDF or XML that cannot make, or does not hold, a Factur-X invoice."""


def embed(pdf: bytes, xml: bytes, *, profile: str = "en16931", lang: str = "fr") -> bytes:
    """The Factur-X PDF: ``pdf`` with ``xml`` embedded and declared."""
    if profile not in PROFILES:
        raise FacturXError(f"unknown Factur-X profile {profile!r}; expected one of {PROFILES}")
    _check_pdf(pdf)
    try:
        made = _lib.generate_from_binary(
            pdf,
            xml,
            flavor="factur-x",
            level=profile,
            check_xsd=True,
            lang=lang,
            afrelationship="data",
            xmp_compression=False,
        )
    except Exception as error:  # the library raises bare Exception for XSD failures
        raise FacturXError(f"cannot make a Factur-X PDF: {error}") from error
    return _info_as_xmp(made)


def _xmp_value(xmp: str, tag: str) -> str:
    found = re.search(rf"<{tag}>([^<]*)</{tag}>", xmp)
    return found.group(1) if found else ""


def _pdf_date(xmp_date: str) -> str:
    """2026-01-15T10:20:30+00:00 -> D:20260115102030+00'00'"""
    digits = re.sub(r"\D", "", xmp_date[:19])
    offset = xmp_date[19:] or "+00:00"
    if offset == "Z":
        offset = "+00:00"
    return f"D:{digits}{offset[0]}{offset[1:3]}'{offset[4:6]}'"


def _info_as_xmp(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.pdf_header = pdf.split(b"\n", 1)[0].strip()  # pypdf would write %PDF-1.3
    xmp = writer.root_object["/Metadata"].get_object().get_data().decode("utf-8")
    info = {key: str(value) for key, value in (writer.metadata or {}).items()}
    info.pop("/Keywords", None)  # no pdf:Keywords in the XMP
    info["/Producer"] = _xmp_value(xmp, "pdf:Producer")
    info["/CreationDate"] = _pdf_date(_xmp_value(xmp, "xmp:CreateDate"))
    info["/ModDate"] = _pdf_date(_xmp_value(xmp, "xmp:ModifyDate"))
    writer.metadata = info
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def extract_xml(pdf: bytes) -> bytes:
    """The embedded ``factur-x.xml`` (or ZUGFeRD 2 ``zugferd-invoice.xml``)."""
    _check_pdf(pdf)
    try:
        _name, xml = _lib.get_facturx_xml_from_pdf(pdf, check_xsd=False)
    except Exception as error:
        raise FacturXError(f"cannot read the PDF's attachments: {error}") from error
    if not xml:
        raise FacturXError("the PDF holds no Factur-X XML")
    return xml


def _check_pdf(pdf: bytes) -> None:
    if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF-"):
        raise FacturXError("not a PDF")
    try:
        PdfReader(io.BytesIO(pdf))
    except (PdfReadError, ValueError, OSError) as error:
        raise FacturXError(f"corrupted PDF: {error}") from error
