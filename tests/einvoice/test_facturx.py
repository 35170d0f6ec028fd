"""Factur-X PDF: the XML goes in as factur-x.xml and comes out the same, declared in the XMP."""

from __future__ import annotations

import io
import re

import pytest
import weasyprint
from lxml import etree
from pypdf import PdfReader

from relance.einvoice.cii import to_cii
from relance.einvoice.facturx import FacturXError, embed, extract_xml
from relance.einvoice.samples import varied_documents

XMP_NS = {
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}


@pytest.fixture(scope="module")
def pdf_a3() -> bytes:
    """A small PDF/A-3b as WeasyPrint makes the invoice PDF."""
    html = "<h1>Facture F2026-00001</h1><p>Conception graphique : 1 200,00 €</p>"
    return weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/a-3b")


@pytest.fixture(scope="module")
def documents():
    return varied_documents(12)


def xmp_of(pdf: bytes) -> etree._Element:
    reader = PdfReader(io.BytesIO(pdf))
    return etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())


def xmp_text(xmp: etree._Element, path: str) -> str:
    found = xmp.xpath(f"//{path}/text()", namespaces=XMP_NS)
    assert len(found) == 1, path
    return str(found[0])


def test_the_embedded_xml_comes_back_unchanged(pdf_a3, documents):
    for document in documents:
        xml = to_cii(document)
        assert extract_xml(embed(pdf_a3, xml)) == xml


def test_the_xmp_declares_pdf_a_3_and_the_factur_x_profile(pdf_a3, documents):
    made = embed(pdf_a3, to_cii(documents[0]))
    xmp = xmp_of(made)
    assert xmp_text(xmp, "pdfaid:part") == "3"
    assert xmp_text(xmp, "pdfaid:conformance") == "B"
    assert xmp_text(xmp, "fx:ConformanceLevel") == "EN 16931"
    assert xmp_text(xmp, "fx:DocumentFileName") == "factur-x.xml"
    assert xmp_text(xmp, "fx:DocumentType") == "INVOICE"
    basic = embed(pdf_a3, to_cii(documents[0], profile="basic"), profile="basic")
    assert xmp_text(xmp_of(basic), "fx:ConformanceLevel") == "BASIC"


def test_the_attachment_is_factur_x_xml_with_relationship_data(pdf_a3, documents):
    reader = PdfReader(io.BytesIO(embed(pdf_a3, to_cii(documents[0]), lang="en")))
    root = reader.trailer["/Root"]
    [filespec] = [ref.get_object() for ref in root["/AF"]]
    assert filespec["/F"] == "factur-x.xml"
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    assert [attachment.name for attachment in reader.attachment_list] == ["factur-x.xml"]
    assert root["/Lang"] == "en"
    # WeasyPrint's PDF/A output intent (sRGB) is kept.
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert reader.pdf_header == "%PDF-1.7"


def test_the_document_information_says_what_the_xmp_says(pdf_a3, documents):
    made = embed(pdf_a3, to_cii(documents[0]))
    info = PdfReader(io.BytesIO(made)).metadata
    xmp = xmp_of(made)
    assert info["/Producer"] == xmp_text(xmp, "pdf:Producer")
    created = re.sub(r"\D", "", xmp_text(xmp, "xmp:CreateDate"))[:14]
    assert re.sub(r"\D", "", info["/CreationDate"])[:14] == created
    assert "/Keywords" not in info  # the XMP has no pdf:Keywords
    assert info["/Title"] == xmp_text(xmp, "dc:title//rdf:li")
    assert info["/Author"] == xmp_text(xmp, "dc:creator//rdf:li")


def test_an_xml_that_fails_the_xsd_is_not_embedded(pdf_a3, documents):
    xml = to_cii(documents[0]).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"", 1)
    with pytest.raises(FacturXError, match="XML Schema"):
        embed(pdf_a3, xml)


def test_an_unknown_profile_is_refused(pdf_a3, documents):
    with pytest.raises(FacturXError, match="unknown Factur-X profile"):
        embed(pdf_a3, to_cii(documents[0]), profile="minimum")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a PDF"),
        (b"<?xml version='1.0'?><a/>", "not a PDF"),
        (b"%PDF-1.7\n%garbage, no objects, no trailer", "corrupted PDF"),
    ],
)
def test_what_is_not_a_pdf_gets_a_clear_error(data, message, documents):
    with pytest.raises(FacturXError, match=message):
        extract_xml(data)
    with pytest.raises(FacturXError, match=message):
        embed(data, to_cii(documents[0]))


def test_a_pdf_without_factur_x_has_nothing_to_extract(pdf_a3):
    with pytest.raises(FacturXError, match="holds no Factur-X XML"):
        extract_xml(pdf_a3)
