"""The invoice PDF as the client reads it: every mention, in their language,
the EPC QR code decoded from the printed page, pagination, PDF/A-3."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from pypdf.generic import BooleanObject
from stdnum import iso11649

from relance.einvoice.document import (
    VAT_REVERSE_CHARGE,
    Document,
    EarlyPaymentDiscount,
    Installment,
    Line,
    Party,
    PostalAddress,
    VatBreakdown,
)
from relance.invoicing.pdf import render_html, render_pdf
from relance.rules.payment_reference import creditor_reference, epc_payload
from relance.rules.totals import compute_totals, line_net

IBAN = "FR7630006000011234567890189"
BIC = "AGRIFRPP"

SELLER = Party(
    name="Atelier Durand",
    trade_name="Durand Design",
    address=PostalAddress(
        lines=("12 rue de la République",), postcode="69002", city="Lyon", country="FR"
    ),
    legal_form="SAS",
    share_capital=Decimal("10000"),
    siren="732829320",
    siret="73282932000017",
    vat_number="FR44732829320",
    rcs_city="Lyon",
    email="compta@atelier-durand.fr",
    phone="+33 4 78 00 00 00",
)
BUYER = Party(
    name="Boulangerie Martin SARL",
    address=PostalAddress(
        lines=("3 place Bellecour",), postcode="69002", city="Lyon", country="FR"
    ),
    siren="552100554",
    vat_number="FR96552100554",
    email="martin@example.fr",
)


def make_document(
    lines: list[tuple[str, str, str, str]] | None = None, **changes: object
) -> Document:
    """A French B2B invoice whose totals add up; ``changes`` replace fields."""
    rows = lines or [
        ("Logo design", "1", "1200.00", "20"),
        ("Business cards, 500 copies", "2", "45.50", "20"),
        ("Printed menus", "3", "12.00", "5.5"),
    ]
    currency = str(changes.get("currency", "EUR"))
    parsed = [(d, Decimal(q), Decimal(p), Decimal(r)) for d, q, p, r in rows]
    totals = compute_totals([(q, p, r) for _, q, p, r in parsed], currency)
    document = Document(
        kind="invoice",
        number="F2026-00042",
        issue_date=date(2026, 3, 16),
        due_date=date(2026, 4, 15),
        currency=currency,
        seller=SELLER,
        buyer=BUYER,
        lines=tuple(Line(d, q, p, r, line_net(q, p, currency)) for d, q, p, r in parsed),
        vat_breakdown=tuple(
            VatBreakdown("S", rate, base, amount) for rate, (base, amount) in totals.by_rate.items()
        ),
        total_net=totals.net,
        total_vat=totals.vat,
        total_gross=totals.gross,
        amount_due=totals.gross,
        delivery_date=date(2026, 3, 13),
        purchase_order="PO-7781",
        payment_terms_text="Paiement à 30 jours",
        late_penalty_text="Pénalités de retard : taux BCE + 10 points, soit 12,15 %",
        recovery_indemnity=Decimal("40"),
        iban=IBAN,
        bic=BIC,
        vat_on_debits=True,
        delivery_address=PostalAddress(
            lines=("Entrepôt Martin", "8 rue Garibaldi"),
            postcode="69006",
            city="Lyon",
            country="FR",
        ),
        notes=("Merci pour votre confiance.",),
    )
    return replace(document, **changes)


def pdf_text(pdf: bytes) -> str:
    """The text of every page, spaces normalised (French numbers use
    narrow no-break spaces) and lines joined."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def decode_qr_codes(pdf: bytes, page_index: int = 0) -> list[zxingcpp.Barcode]:
    """Every QR code zxing finds on the page rendered at 200 dpi."""
    page = pypdfium2.PdfDocument(pdf)[page_index]
    image = page.render(scale=200 / 72).to_pil()
    return [
        code
        for code in zxingcpp.read_barcodes(image)
        if code.format == zxingcpp.BarcodeFormat.QRCode
    ]


def split_fields(payload: bytes) -> list[str]:
    return payload.decode("utf-8").split("\n")


def rf_in_text(text: str) -> str:
    """The RF reference printed after "to quote with your payment"."""
    match = re.search(r"(RF\d\d(?: [A-Z0-9]{1,4}\b)+)", text)
    assert match, "no RF reference printed"
    return match.group(1)


# One render per kind of page, shared by the tests that read it.
@pytest.fixture(scope="module")
def french_b2b() -> tuple[Document, bytes]:
    document = make_document()
    return document, render_pdf(document)


@pytest.fixture(scope="module")
def english_b2b() -> tuple[Document, bytes]:
    document = make_document(language="en")
    return document, render_pdf(document)


# --- the EPC QR code, read from the printed page -----------------------------


def test_the_qr_code_on_the_page_pays_the_amount_due_with_the_printed_reference(french_b2b):
    document, pdf = french_b2b
    codes = decode_qr_codes(pdf)
    assert len(codes) == 1
    code = codes[0]
    assert code.ec_level == "M"
    assert int(code.extra["Version"]) <= 13
    reference = creditor_reference(document.number)
    assert (
        code.bytes
        == epc_payload(
            "Atelier Durand", IBAN, BIC, document.amount_due, "EUR", reference=reference
        ).encode()
    )

    fields = split_fields(code.bytes)
    assert fields[:4] == ["BCD", "002", "1", "SCT"]  # service tag, version, UTF-8, SEPA transfer
    assert fields[4] == BIC
    assert fields[5] == document.seller.name
    assert fields[6] == IBAN
    assert fields[7] == "EUR1587.18" == f"EUR{document.amount_due}"
    assert fields[8] == ""  # no purpose code
    assert iso11649.is_valid(fields[9])
    assert len(fields) == 10, "field 11 (free text) never comes with a structured reference"
    assert not code.bytes.endswith(b"\n")
    assert iso11649.compact(rf_in_text(pdf_text(pdf))) == fields[9] == reference


def test_the_qr_code_asks_for_what_is_left_after_a_prepayment():
    document = make_document(amount_prepaid=Decimal("500.00"), amount_due=Decimal("1087.18"))
    pdf = render_pdf(document)
    (code,) = decode_qr_codes(pdf)
    assert split_fields(code.bytes)[7] == "EUR1087.18"


def test_the_qr_code_leaves_the_bic_out_when_there_is_none():
    pdf = render_pdf(make_document(bic=""))
    (code,) = decode_qr_codes(pdf)
    assert split_fields(code.bytes)[4] == ""


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"currency": "GBP"}, id="pounds"),
        pytest.param(
            {"kind": "credit_note", "number": "A2026-00003", "corrected_number": "F2026-00042"},
            id="credit-note",
        ),
        pytest.param(
            {"amount_prepaid": Decimal("1587.18"), "amount_due": Decimal("0.00")}, id="paid"
        ),
        pytest.param({"iban": ""}, id="no-iban"),
        pytest.param({"number": ""}, id="draft"),
    ],
)
def test_no_qr_code_where_a_transfer_in_euros_is_not_asked_for(changes):
    pdf = render_pdf(make_document(language="en", **changes))
    assert decode_qr_codes(pdf) == []
    assert "Scan to pay" not in pdf_text(pdf)


# --- the mentions, in the client's language ---------------------------------


def test_a_french_business_invoice_carries_every_mention(french_b2b):
    _document, pdf = french_b2b
    text = pdf_text(pdf)
    expected = [
        "FACTURE",
        "N° F2026-00042",
        "Date d'émission 16 mars 2026",
        "Date d'échéance 15 avr. 2026",
        "13 mars 2026",  # date of the service
        "PO-7781",
        # seller
        "Atelier Durand",
        "Durand Design",
        "12 rue de la République",
        "69002 Lyon",
        "732 829 320 00017",
        "FR44732829320",
        "SAS au capital de 10 000 €",
        "RCS Lyon 732 829 320",
        "compta@atelier-durand.fr",
        "+33 4 78 00 00 00",
        # client, with its SIREN and the delivery address
        "Boulangerie Martin SARL",
        "3 place Bellecour",
        "552 100 554",
        "FR96552100554",
        "Adresse de livraison",
        "8 rue Garibaldi",
        "69006 Lyon",
        # lines, VAT per rate, totals
        "Logo design",
        "PRIX UNITAIRE HT",
        "1 200,00 €",
        "5,5 %",
        "20 %",
        "36,00 € 1,98 €",  # base and VAT at 5.5 %
        "1 291,00 € 258,20 €",  # base and VAT at 20 %
        "Total HT 1 327,00 €",
        "Total TTC 1 587,18 €",
        "Net à payer 1 587,18 €",
        # payment
        "Paiement à 30 jours",
        "FR76 3000 6000 0112 3456 7890 189",
        "AGRIFRPP",
        "RF93 F202 6000 42",
        # legal
        "Opération : prestations de services",
        "Option pour le paiement de la taxe d'après les débits",
        "Escompte pour paiement anticipé : néant",
        "Pénalités de retard : taux BCE + 10 points, soit 12,15 %",
        "Indemnité forfaitaire pour frais de recouvrement : 40 €",
        "Merci pour votre confiance.",
        "Page 1 / 1",
    ]
    missing = [mention for mention in expected if mention not in text]
    assert missing == [], text


def test_an_english_client_reads_english_words(english_b2b):
    _document, pdf = english_b2b
    text = pdf_text(pdf)
    for words in [
        "INVOICE",
        "No. F2026-00042",
        "Issue date Mar 16, 2026",
        "Due date Apr 15, 2026",
        "UNIT PRICE EXCL. VAT",
        "€1,200.00",
        "5.5%",
        "Total excl. VAT €1,327.00",
        "Amount due €1,587.18",
        "Reference to quote with your payment: RF93 F202 6000 42",
        "Scan to pay",
        "Operation: supply of services",
        "Early-payment discount: none.",
        "Fixed indemnity for recovery costs: €40",
        "Page 1 / 1",
    ]:
        assert words in text
    for french in ["Facture", "Net à payer", "Échéance", "néant", "Indemnité"]:
        assert french not in text


def test_a_consumer_invoice_has_no_recovery_indemnity_nor_client_ids():
    document = make_document(
        client_kind="b2c",
        buyer=replace(BUYER, name="Jeanne Petit"),  # ids left in to show they are not printed
        recovery_indemnity=None,
        late_penalty_text="Pénalités de retard : intérêts au taux légal",
    )
    text = pdf_text(render_pdf(document))
    assert "Jeanne Petit" in text
    assert "Indemnité forfaitaire" not in text
    assert "40 €" not in text
    assert "552 100 554" not in text
    assert "FR96552100554" not in text


def test_an_early_payment_discount_prints_its_terms_instead_of_none():
    document = make_document(
        discount=EarlyPaymentDiscount(
            percent=Decimal("2"),
            days=10,
            last_day=date(2026, 3, 26),
            amount_then=Decimal("1555.44"),
        ),
        language="en",
    )
    text = pdf_text(render_pdf(document))
    assert "Early-payment discount: 2 % if paid by Mar 26, 2026, i.e. €1,555.44 to pay." in text
    assert "none" not in text


def test_a_credit_note_names_the_invoice_it_corrects_and_asks_for_no_payment():
    document = make_document(
        kind="credit_note",
        number="A2026-00003",
        corrected_number="F2026-00042",
        corrected_issue_date=date(2026, 3, 16),
        language="en",
    )
    text = pdf_text(render_pdf(document))
    assert "CREDIT NOTE" in text
    assert "No. A2026-00003" in text
    assert "Credit note for invoice F2026-00042 of Mar 16, 2026" in text
    assert "Total incl. VAT €1,587.18" in text
    for absent in ["Amount due", "RF", "IBAN", "Early-payment discount", "recovery costs"]:
        assert absent not in text
    assert "Operation: supply of services" in text


def test_a_draft_is_marked_and_has_no_reference_to_pay():
    text = pdf_text(render_pdf(make_document(number="", language="en")))
    assert "Draft" in text
    assert "Reference to quote" not in text


def test_exemption_reasons_installments_and_document_discounts_are_printed():
    rows = [("Consulting, reverse charge", "2", "500.00", "0")]
    document = make_document(lines=rows, language="en", vat_on_debits=False)
    document = replace(
        document,
        buyer=replace(BUYER, address=replace(BUYER.address, country="DE")),
        lines=tuple(replace(line, vat_category=VAT_REVERSE_CHARGE) for line in document.lines),
        vat_breakdown=(
            VatBreakdown(
                VAT_REVERSE_CHARGE,
                Decimal("0"),
                Decimal("900.00"),
                Decimal("0.00"),
                exemption_reason="Autoliquidation, art. 283-2 du CGI",
                exemption_code="VATEX-EU-AE",
            ),
        ),
        allowance_total=Decimal("100.00"),
        total_net=Decimal("900.00"),
        total_vat=Decimal("0.00"),
        total_gross=Decimal("900.00"),
        amount_due=Decimal("900.00"),
        installments=(
            Installment(date(2026, 4, 15), Decimal("450.00")),
            Installment(date(2026, 5, 15), Decimal("450.00")),
        ),
    )
    text = pdf_text(render_pdf(document))
    assert "Reverse charge" in text
    assert "Autoliquidation, art. 283-2 du CGI" in text
    assert "Sum of the lines €1,000.00" in text
    assert "Discount -€100.00" in text
    assert "Total excl. VAT €900.00" in text
    assert "May 15, 2026 €450.00" in text
    assert "Germany" in text  # a foreign client's country is written out
    assert "Option to pay VAT" not in text and "debits" not in text


# --- the page as a file -------------------------------------------------------


def test_a_forty_line_invoice_runs_over_pages_with_numbers_and_the_table_header():
    rows = [
        (f"Workshop session {i}: preparation, facilitation and report", "1", "350.00", "20")
        for i in range(1, 41)
    ]
    pdf = render_pdf(make_document(lines=rows, language="en"))
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} / {pages}" in text
        assert "Atelier Durand · SAS with a share capital of €10,000" in text  # footer
        if "Workshop session" in text:
            assert "UNIT PRICE EXCL. VAT" in text, f"no table header on page {number}"
    everything = pdf_text(pdf)
    assert all(f"Workshop session {i}:" in everything for i in range(1, 41))
    assert sum(len(decode_qr_codes(pdf, index)) for index in range(pages)) == 1


def test_the_pdf_declares_itself_pdf_a_3b(french_b2b):
    _document, pdf = french_b2b
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(=\"|>)3", xmp)
    assert re.search(r"pdfaid:conformance(=\"|>)B", xmp)
    assert reader.pdf_header.startswith("%PDF-1.7")
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert reader.metadata.title == "Facture F2026-00042 · Atelier Durand"


def png_logo() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (240, 80), (30, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_raster_logo_is_drawn_without_interpolation_as_pdf_a_requires():
    pdf = render_pdf(make_document(language="en"), logo=png_logo())
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    images = [
        xobject.get_object()
        for xobject in page["/Resources"]["/XObject"].values()
        if xobject.get_object()["/Subtype"] == "/Image"
    ]
    assert [(image["/Width"], image["/Height"]) for image in images] == [(240, 80)]
    assert [image.get("/Interpolate") for image in images] == [BooleanObject(False)]


def test_a_logo_that_is_not_an_image_is_refused():
    with pytest.raises(ValueError, match="PNG, JPEG"):
        render_pdf(make_document(), logo=b"%PDF-1.4 not a picture")


def test_the_pay_online_link_is_a_live_link_on_the_page():
    url = "https://pay.example.com/i/abc123"
    pdf = render_pdf(make_document(language="en", pay_url=url))
    assert "Pay online" in pdf_text(pdf)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    uris = [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]
    assert url in uris


def test_a_pay_url_that_is_not_a_web_address_is_not_linked():
    pdf = render_pdf(make_document(language="en", pay_url="javascript:alert(1)"))
    assert "Pay online" not in pdf_text(pdf)
    assert "/Annots" not in PdfReader(io.BytesIO(pdf)).pages[0]


def test_the_browser_preview_is_the_same_page_with_its_stylesheet_inline():
    html = render_html(make_document(language="en"))
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert "@page" in html and "@media screen" in html
    assert "<svg" in html  # the QR code, inline
    assert "RF93 F202 6000 42" in html
    assert "Fixed indemnity for recovery costs: €40" in html


def test_what_the_client_typed_cannot_break_out_of_the_page():
    hostile = '</style><script>alert(1)</script>"; } @page { content: "x'
    document = make_document(
        language="en",
        seller=replace(SELLER, name=hostile),
        lines=[(hostile, "1", "10.00", "20")],
    )
    html = render_html(document)
    assert "<script>" not in html
    text = pdf_text(render_pdf(document))
    assert "alert(1)" in text  # printed as text, in the footer and the line


def test_every_kind_of_sample_invoice_prints_and_its_qr_code_pays_it():
    from relance.einvoice.samples import varied_documents

    # One of each scenario: several rates, exemptions, B2C, a credit note, pounds...
    documents = varied_documents(11)
    assert len({(d.kind, d.currency, d.client_kind) for d in documents}) >= 4
    for document in documents:
        pdf = render_pdf(document)
        assert document.number in pdf_text(pdf)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        codes = [code for index in range(pages) for code in decode_qr_codes(pdf, index)]
        if document.kind == "invoice" and document.currency == "EUR" and document.iban:
            (code,) = codes
            reference = document.creditor_reference or creditor_reference(document.number)
            payload = epc_payload(
                document.seller.name,
                document.iban,
                document.bic,
                document.amount_due,
                "EUR",
                reference=reference,
            )
            assert code.bytes == payload.encode()
        else:
            assert codes == [], document.number
