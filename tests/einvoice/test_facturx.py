"""Factur-X PDF: the invoice PDF/A-3 is written with its XML inside, as
factur-x.xml, declared in the XMP, and the XML comes out the same."""

from __future__ import annotations

import dataclasses
import io

import pytest
from lxml import etree
from pypdf import PdfReader

from relance.einvoice.cii import to_cii
from relance.einvoice.facturx import FacturXError, extract_xml
from relance.einvoice.samples import varied_documents
from relance.invoicing.pdf import render_pdf

XMP_NS = {
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
}


@pytest.fixture(scope="module")
def documents():
    return varied_documents(12)


def facturx(document, profile: str = "en16931") -> bytes:
    return render_pdf(document, facturx_xml=to_cii(document, profile=profile), profile=profile)


def xmp_of(pdf: bytes) -> etree._Element:
    reader = PdfReader(io.BytesIO(pdf))
    return etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())


def xmp_text(xmp: etree._Element, path: str) -> str:
    found = xmp.xpath(f"//{path}/text()", namespaces=XMP_NS)
    assert len(found) == 1, path
    return str(found[0])


def xmp_attribute(xmp: etree._Element, name: str) -> str:
    found = xmp.xpath(f"//rdf:Description/@{name}", namespaces=XMP_NS)
    assert len(found) == 1, name
    return str(found[0])


def test_the_embedded_xml_comes_back_unchanged(documents):
    for document in documents:
        xml = to_cii(document)
        assert extract_xml(render_pdf(document, facturx_xml=xml)) == xml


def test_the_xmp_declares_pdf_a_3_and_the_factur_x_profile(documents):
    xmp = xmp_of(facturx(documents[0]))
    assert xmp_attribute(xmp, "pdfaid:part") == "3"
    assert xmp_attribute(xmp, "pdfaid:conformance") == "B"
    assert xmp_text(xmp, "fx:ConformanceLevel") == "EN 16931"
    assert xmp_text(xmp, "fx:DocumentFileName") == "factur-x.xml"
    assert xmp_text(xmp, "fx:DocumentType") == "INVOICE"
    assert xmp_text(xmp, "pdfaSchema:prefix") == "fx"  # the extension schema is declared
    basic = facturx(documents[0], profile="basic")
    assert xmp_text(xmp_of(basic), "fx:ConformanceLevel") == "BASIC"


def test_the_attachment_is_factur_x_xml_with_relationship_data(documents):
    english = dataclasses.replace(documents[0], language="en")
    reader = PdfReader(io.BytesIO(facturx(english)))
    root = reader.trailer["/Root"]
    [filespec] = [ref.get_object() for ref in root["/AF"]]  # listed once
    assert filespec["/F"] == "factur-x.xml"
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    assert [attachment.name for attachment in reader.attachment_list] == ["factur-x.xml"]
    assert root["/Lang"] == "en"
    # WeasyPrint's PDF/A output intent (sRGB).
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert reader.pdf_header == "%PDF-1.7"


def test_the_document_information_says_what_the_xmp_says(documents):
    made = facturx(documents[0])
    info = PdfReader(io.BytesIO(made)).metadata
    xmp = xmp_of(made)
    assert info["/Producer"] == xmp_attribute(xmp, "pdf:Producer")
    assert info["/Title"] == xmp_text(xmp, "dc:title//rdf:li")
    assert info["/Author"] == xmp_text(xmp, "dc:creator//rdf:li")
    assert "/Keywords" not in info  # the XMP has no pdf:Keywords
    dated = bool(xmp.xpath("//xmp:CreateDate", namespaces=XMP_NS))
    assert ("/CreationDate" in info) == dated


def test_an_xml_that_fails_the_xsd_is_not_embedded(documents):
    xml = to_cii(documents[0]).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"", 1)
    with pytest.raises(FacturXError, match="XSD"):
        render_pdf(documents[0], facturx_xml=xml)


def test_an_unknown_profile_is_refused(documents):
    with pytest.raises(FacturXError, match="unknown Factur-X profile"):
        render_pdf(documents[0], facturx_xml=to_cii(documents[0]), profile="minimum")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a PDF"),
        (b"<?xml version='1.0'?><a/>", "not a PDF"),
        (b"%PDF-1.7\n%garbage, no objects, no trailer", "corrupted PDF"),
    ],
)
def test_what_is_not_a_pdf_gets_a_clear_error(data, message):
    with pytest.raises(FacturXError, match=message):
        extract_xml(data)


def test_a_pdf_without_factur_x_has_nothing_to_extract(documents):
    with pytest.raises(FacturXError, match="holds no Factur-X XML"):
        extract_xml(render_pdf(documents[0]))
