"""relance's own invoices are Factur-X in one WeasyPrint pass: XML attached,
XMP declared, no second parse of the PDF."""

import io

import pytest
from pypdf import PdfReader

from relance.einvoice import cii
from relance.einvoice.facturx import FacturXError, extract_xml
from relance.einvoice.samples import varied_documents
from relance.invoicing.pdf import render_pdf


@pytest.fixture(scope="module")
def document():
    return varied_documents(1)[0]


@pytest.mark.parametrize(("profile", "level"), [("en16931", "EN 16931"), ("basic", "BASIC")])
def test_the_pdf_carries_its_xml_and_declares_it(document, profile, level):
    xml = cii.to_cii(document, profile=profile)
    pdf = render_pdf(document, facturx_xml=xml, profile=profile)
    assert extract_xml(pdf) == xml
    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert f"<fx:ConformanceLevel>{level}</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert "<pdfaSchema:prefix>fx</pdfaSchema:prefix>" in xmp  # the extension schema
    [spec] = [ref.get_object() for ref in catalog["/AF"]]  # listed once
    assert spec["/F"] == "factur-x.xml" and spec["/AFRelationship"] == "/Data"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"


def test_xml_that_breaks_the_xsd_is_refused(document):
    xml = cii.to_cii(document).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    with pytest.raises(FacturXError, match="XSD"):
        render_pdf(document, facturx_xml=xml)
