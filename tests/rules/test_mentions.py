"""The mention checker: every mandatory French mention, and none asked for nothing."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from relance.einvoice.document import Document, Line, Party, PostalAddress, VatBreakdown
from relance.rules.mentions import MENTIONS, missing

D = Decimal
PARIS = PostalAddress(("12 rue de la Paix",), "75002", "Paris", "FR")
LYON = PostalAddress(("3 quai Rambaud",), "69002", "Lyon", "FR")
SELLER = Party(
    "Atelier Durand SAS",
    PARIS,
    legal_form="SAS",
    share_capital=D("10000"),
    siren="732829320",
    vat_number="FR44732829320",
    rcs_city="Paris",
)
BUYER = Party("Acme SARL", LYON, siren="552100554")


def invoice(**changes) -> Document:
    base = Document(
        kind="invoice",
        number="F2026-00001",
        issue_date=date(2026, 1, 15),
        currency="EUR",
        seller=SELLER,
        buyer=BUYER,
        lines=(Line("Design", D(1), D("100"), D(20), D("100.00")),),
        vat_breakdown=(VatBreakdown("S", D(20), D("100.00"), D("20.00")),),
        total_net=D("100.00"),
        total_vat=D("20.00"),
        total_gross=D("120.00"),
        amount_due=D("120.00"),
        due_date=date(2026, 2, 14),
        late_penalty_text="BCE + 10 points",
        recovery_indemnity=D(40),
    )
    return replace(base, **changes)


def test_a_complete_french_b2b_invoice_lacks_nothing():
    assert missing(invoice(), seller_country="FR") == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"seller": replace(SELLER, siren="")}, "seller_siren"),
        ({"seller": replace(SELLER, vat_number="")}, "seller_vat_number"),
        ({"seller": replace(SELLER, address=PostalAddress())}, "seller_address"),
        ({"seller": replace(SELLER, legal_form="")}, "seller_legal_form"),
        ({"seller": replace(SELLER, share_capital=None)}, "seller_share_capital"),
        ({"seller": replace(SELLER, rcs_city="")}, "seller_rcs"),
        ({"buyer": replace(BUYER, siren="")}, "buyer_siren"),
        ({"buyer": replace(BUYER, address=PostalAddress())}, "buyer_address"),
        ({"due_date": None}, "due_date"),
        ({"number": ""}, "number"),
        ({"lines": ()}, "lines"),
        ({"late_penalty_text": ""}, "late_penalty_text"),
        ({"recovery_indemnity": None}, "recovery_indemnity"),
        ({"operation_category": "other"}, "operation_category"),
    ],
)
def test_each_missing_mention_is_named(changes, code):
    assert missing(invoice(**changes), seller_country="FR") == [code]
    assert code in MENTIONS


def test_a_consumer_needs_no_siren_and_must_not_see_the_40_euros():
    b2c = invoice(client_kind="b2c", buyer=replace(BUYER, siren=""), late_penalty_text="")
    assert missing(b2c, seller_country="FR") == ["no_recovery_indemnity_for_consumers"]
    assert missing(replace(b2c, recovery_indemnity=None), seller_country="FR") == []


def test_an_eu_business_client_gives_its_vat_number_instead_of_a_siren():
    berlin = PostalAddress(("Unter den Linden 1",), "10117", "Berlin", "DE")
    client = replace(BUYER, address=berlin, siren="")
    assert missing(invoice(buyer=client), seller_country="FR") == ["buyer_vat_number"]
    client = replace(client, vat_number="DE136695976")
    assert missing(invoice(buyer=client), seller_country="FR") == []


def test_an_exempt_seller_needs_the_exemption_text_not_a_vat_number():
    line = Line("Cours", D(1), D("100"), D(0), D("100.00"), vat_category="E")
    franchise = invoice(
        seller=replace(SELLER, vat_number="", legal_form="EI", share_capital=None, rcs_city=""),
        lines=(line,),
        vat_breakdown=(VatBreakdown("E", D(0), D("100.00"), D("0.00")),),
    )
    assert missing(franchise, seller_country="FR") == ["vat_exemption_reason"]
    stated = replace(
        franchise,
        vat_breakdown=(
            VatBreakdown(
                "E", D(0), D("100.00"), D("0.00"), "TVA non applicable, art. 293 B du CGI"
            ),
        ),
    )
    assert missing(stated, seller_country="FR") == []


def test_reverse_charge_needs_the_clients_vat_number():
    line = Line("Audit", D(1), D("100"), D(0), D("100.00"), vat_category="AE")
    doc = invoice(
        lines=(line,),
        vat_breakdown=(VatBreakdown("AE", D(0), D("100.00"), D("0.00"), "Autoliquidation"),),
    )
    assert missing(doc, seller_country="FR") == ["buyer_vat_number"]


def test_a_credit_note_names_the_invoice_it_corrects_and_has_no_due_date():
    note = invoice(kind="credit_note", due_date=None, corrected_number="")
    assert missing(note, seller_country="FR") == ["corrected_invoice"]
    assert missing(replace(note, corrected_number="F2026-00001"), seller_country="FR") == []


def test_a_draft_is_checked_without_its_number():
    assert missing(invoice(number=""), seller_country="FR", numbered=False) == []


def test_sellers_outside_france_are_not_asked_for_french_ids():
    seller = replace(SELLER, siren="", legal_form="", share_capital=None, rcs_city="")
    assert missing(invoice(seller=seller), seller_country="BE") == []


def test_a_business_client_outside_the_eu_needs_no_vat_number():
    london = PostalAddress(("41 Clerkenwell Road",), "EC1M 5RS", "London", "GB")
    client = replace(BUYER, address=london, siren="")
    assert missing(invoice(buyer=client), seller_country="FR") == []
