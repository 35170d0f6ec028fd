"""The CII writer: each business term where EN 16931 puts it, in the Factur-X XSD's order.

These tests read the XML back with XPath; tests/einvoice/test_validation.py
runs the official EN 16931 schematron over the same documents.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from relance.einvoice.cii import GUIDELINES, CiiError, to_cii
from relance.einvoice.document import (
    VAT_EXEMPT,
    VAT_NOT_SUBJECT,
    VAT_STANDARD,
    VAT_ZERO,
    Document,
    EarlyPaymentDiscount,
    Installment,
    Line,
    Party,
    PostalAddress,
    VatBreakdown,
)
from relance.einvoice.samples import varied_documents
from relance.einvoice.validation import xsd_errors

D = Decimal
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"
SELLER = "//ram:SellerTradeParty"
BUYER = "//ram:BuyerTradeParty"

SELLER_PARTY = Party(
    name="Atelier Durand SARL",
    trade_name="Atelier Durand",
    legal_form="SARL",
    share_capital=D("8000"),
    siren="732829320",
    siret="73282932000017",
    vat_number="FR44732829320",
    rcs_city="Lyon",
    email="facturation@atelier-durand.fr",
    phone="04 78 12 34 56",
    contact_name="Sophie Durand",
    address=PostalAddress(("12 rue de la République",), "69002", "Lyon", "FR"),
)
BUYER_PARTY = Party(
    name="Boulangerie Petit SAS",
    siren="352600043",
    vat_number="FR09352600043",
    email="gestion@boulangerie-petit.fr",
    address=PostalAddress(("5 avenue Jean Jaurès",), "69007", "Lyon", "FR"),
)


def invoice(**changes) -> Document:
    """100.00 at 20 % and 33.333 x 3 at 5.5 %: 200.00 net, 25.50 VAT."""
    document = Document(
        kind="invoice",
        number="F2026-00042",
        issue_date=date(2026, 1, 15),
        currency="EUR",
        seller=SELLER_PARTY,
        buyer=BUYER_PARTY,
        lines=(
            Line("Conception graphique", D("2.5"), D("40.00"), D("20"), D("100.00")),
            Line("Livres d'art", D("3"), D("33.333"), D("5.5"), D("100.00"), unit_code="H87"),
        ),
        vat_breakdown=(
            VatBreakdown(VAT_STANDARD, D("5.5"), D("100.00"), D("5.50")),
            VatBreakdown(VAT_STANDARD, D("20"), D("100.00"), D("20.00")),
        ),
        total_net=D("200.00"),
        total_vat=D("25.50"),
        total_gross=D("225.50"),
        amount_due=D("225.50"),
        due_date=date(2026, 2, 14),
        language="en",
        payment_terms_text="Payment by bank transfer within 30 days.",
        late_penalty_text="Late payment penalties: ECB rate plus 10 points.",
        recovery_indemnity=D("40.00"),
        iban="FR76 3000 6000 0112 3456 7890 189",
        bic="AGRIFRPP",
        creditor_reference="RF18F202600042",
    )
    return replace(document, **changes)


def xml_of(document: Document, profile: str = "en16931") -> etree._Element:
    return etree.fromstring(to_cii(document, profile=profile))


def texts(root: etree._Element, path: str) -> list[str]:
    return [getattr(node, "text", node) for node in root.xpath(path, namespaces=NS)]


def text(root: etree._Element, path: str) -> str:
    found = texts(root, path)
    assert len(found) == 1, f"{path}: {found}"
    return found[0]


def notes(root: etree._Element) -> dict[str, str]:
    return {
        note.findtext("ram:SubjectCode", namespaces=NS) or "": note.findtext(
            "ram:Content", namespaces=NS
        )
        for note in root.xpath("//rsm:ExchangedDocument/ram:IncludedNote", namespaces=NS)
    }


# The document ---------------------------------------------------------------


def test_en16931_is_the_default_profile_and_basic_is_available():
    assert text(xml_of(invoice()), "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == (
        "urn:cen.eu:en16931:2017"
    )
    basic = xml_of(invoice(), "basic")
    assert text(basic, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == (
        "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"
    )
    assert set(GUIDELINES) == {"en16931", "basic"}


def test_minimum_and_other_profiles_are_refused():
    for profile in ("minimum", "basicwl", "extended", ""):
        with pytest.raises(CiiError, match="unknown Factur-X profile"):
            to_cii(invoice(), profile=profile)


def test_header_number_type_date_and_operation_category():
    root = xml_of(invoice(operation_category="mixed"))
    assert text(root, "//rsm:ExchangedDocument/ram:ID") == "F2026-00042"
    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    issue = root.xpath("//ram:IssueDateTime/udt:DateTimeString", namespaces=NS)[0]
    assert (issue.text, issue.get("format")) == ("20260115", "102")
    business = "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"
    assert text(root, business) == "M1"
    assert text(xml_of(invoice(operation_category="goods")), business) == "B1"


def test_a_credit_note_is_type_381_with_positive_amounts_and_the_invoice_it_corrects():
    credit = invoice(
        kind="credit_note",
        number="A2026-00007",
        corrected_number="F2026-00042",
        corrected_issue_date=date(2026, 1, 15),
        due_date=None,
        payment_terms_text="",
    )
    root = xml_of(credit)
    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert text(root, f"{SETTLEMENT}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == (
        "F2026-00042"
    )
    issued = root.xpath("//ram:InvoiceReferencedDocument//qdt:DateTimeString", namespaces=NS)[0]
    assert (issued.text, issued.get("format")) == ("20260115", "102")
    assert text(root, "//ram:DuePayableAmount") == "225.50"
    assert all(D(t) > 0 for t in texts(root, "//ram:LineTotalAmount"))
    # Nothing is due by a date: the terms say how the credit is settled (BR-CO-25).
    assert text(root, "//ram:SpecifiedTradePaymentTerms/ram:Description") == (
        "To be refunded or deducted from a future payment."
    )
    # No early-payment discount mention on a credit note.
    assert "AAB" not in notes(root)


# Parties --------------------------------------------------------------------


def test_seller_identity_siren_siret_vat_email_and_legal_information():
    root = xml_of(invoice())
    assert text(root, f"{SELLER}/ram:Name") == "Atelier Durand SARL"
    siren = root.xpath(f"{SELLER}/ram:SpecifiedLegalOrganization/ram:ID", namespaces=NS)[0]
    assert (siren.text, siren.get("schemeID")) == ("732829320", "0002")
    assert text(root, f"{SELLER}/ram:SpecifiedLegalOrganization/ram:TradingBusinessName") == (
        "Atelier Durand"
    )
    siret = root.xpath(f"{SELLER}/ram:GlobalID", namespaces=NS)[0]
    assert (siret.text, siret.get("schemeID")) == ("73282932000017", "0009")
    vat = root.xpath(f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS)[0]
    assert (vat.text, vat.get("schemeID")) == ("FR44732829320", "VA")
    email = root.xpath(f"{SELLER}/ram:URIUniversalCommunication/ram:URIID", namespaces=NS)[0]
    assert (email.text, email.get("schemeID")) == ("facturation@atelier-durand.fr", "EM")
    assert text(root, f"{SELLER}/ram:DefinedTradeContact/ram:PersonName") == "Sophie Durand"
    legal = text(root, f"{SELLER}/ram:Description")
    assert "SARL" in legal and "8,000.00" in legal and "RCS Lyon 732829320" in legal
    assert text(root, f"{SELLER}/ram:PostalTradeAddress/ram:CityName") == "Lyon"
    assert text(root, f"{SELLER}/ram:PostalTradeAddress/ram:CountryID") == "FR"


def test_basic_leaves_out_what_its_xsd_does_not_know_and_keeps_the_legal_mention_as_a_note():
    root = xml_of(invoice(), "basic")
    assert texts(root, f"{SELLER}/ram:Description") == []
    assert texts(root, "//ram:DefinedTradeContact/ram:PersonName") == []
    assert texts(root, "//ram:BICID") == []
    assert "RCS Lyon 732829320" in notes(root)["REG"]
    assert xsd_errors(to_cii(invoice(), profile="basic"), "basic") == ()


def test_a_b2c_buyer_has_no_siren_and_no_vat_number():
    consumer = Party(
        name="Camille Roux", address=PostalAddress(("3 rue des Lilas",), "38000", "Grenoble")
    )
    root = xml_of(invoice(buyer=consumer, client_kind="b2c", recovery_indemnity=None))
    assert text(root, f"{BUYER}/ram:Name") == "Camille Roux"
    assert texts(root, f"{BUYER}/ram:SpecifiedLegalOrganization") == []
    assert texts(root, f"{BUYER}/ram:SpecifiedTaxRegistration/ram:ID") == []
    assert "PMT" not in notes(root)  # no 40 EUR indemnity for consumers


def test_buyer_siren_and_vat_number():
    root = xml_of(invoice())
    siren = root.xpath(f"{BUYER}/ram:SpecifiedLegalOrganization/ram:ID", namespaces=NS)[0]
    assert (siren.text, siren.get("schemeID")) == ("352600043", "0002")
    assert text(root, f"{BUYER}/ram:SpecifiedTaxRegistration/ram:ID") == "FR09352600043"


def test_more_than_three_address_lines_are_kept_in_the_third():
    address = PostalAddress(("Bât. A", "Esc. 2", "3e étage", "12 rue X"), "75001", "Paris")
    root = xml_of(invoice(buyer=replace(BUYER_PARTY, address=address)))
    assert text(root, f"{BUYER}//ram:LineThree") == "3e étage, 12 rue X"


def test_delivery_address_date_and_purchase_order():
    where = PostalAddress(("Entrepôt 4",), "44000", "Nantes", "FR")
    root = xml_of(
        invoice(
            delivery_address=where,
            delivery_date=date(2026, 1, 10),
            purchase_order="BC-7781",
            buyer_reference="Service achats",
        )
    )
    ship_to = "//ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty/ram:PostalTradeAddress"
    assert text(root, f"{ship_to}/ram:LineOne") == "Entrepôt 4"
    assert text(root, f"{ship_to}/ram:CountryID") == "FR"
    assert text(root, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString") == "20260110"
    assert text(root, "//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == "BC-7781"
    assert text(root, "//ram:BuyerReference") == "Service achats"
    assert texts(xml_of(invoice()), "//ram:ShipToTradeParty") == []


# Payment --------------------------------------------------------------------


def test_credit_transfer_with_iban_bic_and_rf_reference():
    root = xml_of(invoice())
    means = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
    assert text(root, f"{means}/ram:TypeCode") == "58"
    assert text(root, f"{means}//ram:IBANID") == "FR7630006000011234567890189"
    assert text(root, f"{means}//ram:BICID") == "AGRIFRPP"
    assert text(root, f"{SETTLEMENT}/ram:PaymentReference") == "RF18F202600042"


def test_no_account_no_credit_transfer_block():
    root = xml_of(invoice(iban="", bic=""))
    assert texts(root, "//ram:SpecifiedTradeSettlementPaymentMeans") == []


def test_payment_terms_carry_the_schedule_and_the_discount_and_bt9_the_due_date():
    document = invoice(
        installments=(
            Installment(date(2026, 2, 15), D("112.75")),
            Installment(date(2026, 3, 15), D("112.75")),
        ),
        due_date=date(2026, 3, 15),
        discount=EarlyPaymentDiscount(D("2"), 10, date(2026, 1, 25), D("220.99")),
    )
    root = xml_of(document)
    terms = text(root, "//ram:SpecifiedTradePaymentTerms/ram:Description")
    assert terms.splitlines() == [
        "Payment by bank transfer within 30 days.",
        "Payment schedule: €112.75 on Feb 15, 2026; €112.75 on Mar 15, 2026",
        "Early-payment discount: 2 % if paid by Jan 25, 2026, i.e. €220.99 to pay.",
    ]
    assert text(root, "//ram:SpecifiedTradePaymentTerms//udt:DateTimeString") == "20260315"
    assert notes(root)["AAB"] == (
        "Early-payment discount: 2 % if paid by Jan 25, 2026, i.e. €220.99 to pay."
    )


def test_french_mentions_without_a_business_term_are_coded_notes():
    root = xml_of(invoice(vat_on_debits=True, notes=("Merci de votre confiance.",)))
    found = notes(root)
    assert found[""] == "Merci de votre confiance."
    assert found["AAI"] == "Operation: supply of services"
    assert found["TXD"] == (
        "VAT option: VAT paid on debits (option pour le paiement de la taxe d'après les débits)."
    )
    assert found["AAB"] == "Early-payment discount: none."
    assert found["PMD"] == "Late payment penalties: ECB rate plus 10 points."
    assert found["PMT"] == "Fixed indemnity for recovery costs: €40.00"
    # The option for VAT on debits is also BT-8: VAT chargeable at the invoice date.
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:DueDateTypeCode") == ["5", "5"]
    assert texts(xml_of(invoice()), "//ram:DueDateTypeCode") == []


# Amounts and VAT ------------------------------------------------------------


def test_amounts_have_the_minor_unit_and_quantities_prices_rates_stay_as_given():
    root = xml_of(invoice())
    assert texts(root, "//ram:BilledQuantity") == ["2.5", "3"]
    assert texts(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["40.00", "33.333"]
    assert texts(root, "//ram:IncludedSupplyChainTradeLineItem//ram:RateApplicablePercent") == [
        "20",
        "5.5",
    ]
    assert texts(root, "//ram:BilledQuantity/@unitCode") == ["C62", "H87"]
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert text(root, f"{summation}/ram:LineTotalAmount") == "200.00"
    assert text(root, f"{summation}/ram:TaxBasisTotalAmount") == "200.00"
    assert text(root, f"{summation}/ram:TaxTotalAmount") == "25.50"
    assert text(root, f"{summation}/ram:TaxTotalAmount/@currencyID") == "EUR"
    assert text(root, f"{summation}/ram:GrandTotalAmount") == "225.50"
    assert text(root, f"{summation}/ram:DuePayableAmount") == "225.50"
    assert texts(root, f"{summation}/ram:TotalPrepaidAmount") == []


def test_a_prepaid_deposit_is_bt113():
    root = xml_of(invoice(amount_prepaid=D("67.65"), amount_due=D("157.85")))
    assert text(root, "//ram:TotalPrepaidAmount") == "67.65"
    assert text(root, "//ram:DuePayableAmount") == "157.85"


def test_yen_amounts_have_no_decimals():
    yen = invoice(
        currency="JPY",
        lines=(Line("Table basse", D("2"), D("48000"), D("20"), D("96000")),),
        vat_breakdown=(VatBreakdown(VAT_STANDARD, D("20"), D("96000"), D("19200")),),
        total_net=D("96000"),
        total_vat=D("19200"),
        total_gross=D("115200"),
        amount_due=D("115200"),
    )
    root = xml_of(yen)
    assert text(root, "//ram:InvoiceCurrencyCode") == "JPY"
    assert text(root, "//ram:GrandTotalAmount") == "115200"
    assert text(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CalculatedAmount") == "19200"


def test_a_discount_line_is_a_negative_quantity_at_a_positive_price():
    document = invoice(
        lines=(
            Line("Conception graphique", D("1"), D("250.00"), D("20"), D("250.00")),
            Line("Remise fidélité", D("1"), D("-50.00"), D("20"), D("-50.00")),
        ),
        vat_breakdown=(VatBreakdown(VAT_STANDARD, D("20"), D("200.00"), D("40.00")),),
        total_net=D("200.00"),
        total_vat=D("40.00"),
        total_gross=D("240.00"),
        amount_due=D("240.00"),
    )
    root = xml_of(document)
    assert texts(root, "//ram:BilledQuantity") == ["1", "-1"]
    assert texts(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["250.00", "50.00"]
    assert texts(root, "//ram:SpecifiedTradeSettlementLineMonetarySummation/*") == [
        "250.00",
        "-50.00",
    ]


def test_exemption_reasons_and_codes_for_exempt_categories():
    franchise = invoice(
        seller=replace(SELLER_PARTY, vat_number=""),
        lines=(Line("Traduction", D("1"), D("300.00"), D("0"), D("300.00"), VAT_EXEMPT),),
        vat_breakdown=(
            VatBreakdown(
                VAT_EXEMPT,
                D("0"),
                D("300.00"),
                D("0.00"),
                "TVA non applicable, art. 293 B du CGI",
                "VATEX-FR-FRANCHISE",
            ),
        ),
        total_net=D("300.00"),
        total_vat=D("0.00"),
        total_gross=D("300.00"),
        amount_due=D("300.00"),
    )
    root = xml_of(franchise)
    tax = f"{SETTLEMENT}/ram:ApplicableTradeTax"
    assert text(root, f"{tax}/ram:CategoryCode") == "E"
    assert text(root, f"{tax}/ram:ExemptionReason") == "TVA non applicable, art. 293 B du CGI"
    assert text(root, f"{tax}/ram:ExemptionReasonCode") == "VATEX-FR-FRANCHISE"
    assert text(root, f"{tax}/ram:RateApplicablePercent") == "0"
    # No VAT number: the SIREN stands as the seller's tax registration (BR-E-02).
    registration = root.xpath(f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS)
    assert [(r.text, r.get("schemeID")) for r in registration] == [("732829320", "FC")]


def test_zero_rated_has_no_exemption_reason_even_if_one_is_given():
    zero = invoice(
        lines=(Line("Fourniture", D("1"), D("80.00"), D("0"), D("80.00"), VAT_ZERO),),
        vat_breakdown=(VatBreakdown(VAT_ZERO, D("0"), D("80.00"), D("0.00"), "Taux zéro", "X"),),
        total_net=D("80.00"),
        total_vat=D("0.00"),
        total_gross=D("80.00"),
        amount_due=D("80.00"),
    )
    root = xml_of(zero)
    assert texts(root, "//ram:ExemptionReason") == []
    assert texts(root, "//ram:ExemptionReasonCode") == []


def test_not_subject_to_vat_has_no_rate_and_no_vat_numbers():
    outside = invoice(
        lines=(Line("Audit", D("1"), D("900.00"), D("0"), D("900.00"), VAT_NOT_SUBJECT),),
        vat_breakdown=(
            VatBreakdown(
                VAT_NOT_SUBJECT, D("0"), D("900.00"), D("0.00"), "Hors champ", "VATEX-EU-O"
            ),
        ),
        total_net=D("900.00"),
        total_vat=D("0.00"),
        total_gross=D("900.00"),
        amount_due=D("900.00"),
    )
    root = xml_of(outside)
    assert texts(root, "//ram:RateApplicablePercent") == []
    assert texts(root, "//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == []


def test_the_writer_copies_totals_it_does_not_repair_them():
    root = xml_of(invoice(total_gross=D("999.99")))
    assert text(root, "//ram:GrandTotalAmount") == "999.99"


def test_text_with_markup_characters_survives_and_long_descriptions_get_a_short_name():
    long = 'Refonte <charte> & "logo" d\'Atelier : ' + "ateliers de cadrage, " * 20
    document = invoice(lines=(replace(invoice().lines[0], description=long), invoice().lines[1]))
    root = xml_of(document)
    name = texts(root, "//ram:SpecifiedTradeProduct/ram:Name")[0]
    assert name.startswith('Refonte <charte> & "logo" d\'Atelier') and len(name) <= 101
    assert texts(root, "//ram:SpecifiedTradeProduct/ram:Description") == [long.strip()]
    basic = xml_of(document, "basic")
    assert texts(basic, "//ram:SpecifiedTradeProduct/ram:Name")[0] == long.strip()


# Bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"currency": "XYZ"}, "unsupported currency"),
        ({"lines": ()}, "at least one line"),
        ({"vat_breakdown": ()}, "VAT breakdown"),
        ({"total_vat": D("25.505")}, "more decimals than EUR allows"),
        ({"allowance_total": D("10.00")}, "document-level allowances and charges"),
    ],
)
def test_documents_that_cannot_be_an_invoice_get_a_clear_error(changes, message):
    with pytest.raises(CiiError, match=message):
        to_cii(invoice(**changes))


# Every sample against the Factur-X XSD (fast: lxml, in process) -------------


@pytest.mark.parametrize("profile", ["en16931", "basic"])
def test_every_sample_document_is_valid_against_the_factur_x_xsd(profile):
    problems = {
        document.number: errors
        for document in varied_documents(60)
        if (errors := xsd_errors(to_cii(document, profile=profile), profile))
    }
    assert problems == {}


def test_the_xsd_check_is_not_a_rubber_stamp():
    xml = to_cii(invoice())
    broken = xml.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"", 1)
    assert xsd_errors(xml) == ()
    assert xsd_errors(broken) and "TypeCode" in xsd_errors(broken)[0]
    # The seller's legal text, contacts and the BIC are EN 16931, not BASIC.
    basic_errors = " ".join(xsd_errors(xml, "basic"))
    for element in ("Description", "DefinedTradeContact", "PayeeSpecifiedCreditorFinancial"):
        assert f"}}{element}" in basic_errors
