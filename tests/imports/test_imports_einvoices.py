"""E-invoices (Factur-X / ZUGFeRD PDFs, CII and UBL XML) into the register:
documents made by hand, then the shared samples read by einvoice.reading."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from importdata import EINVOICE, shared

from relance.einvoice.document import Document, Installment, Line, Party, VatBreakdown
from relance.imports import batches, einvoices, service
from relance.imports.service import ImportRejected
from relance.ledger.models import Client, Invoice
from relance.organisations.models import Organisation

CORPUS = EINVOICE / "zugferd-corpus"
FX = CORPUS / "XML-Rechnung" / "FX"
CII = CORPUS / "XML-Rechnung" / "CII"
UBL = CORPUS / "XML-Rechnung" / "UBL"
FAILING = CORPUS / "ZUGFeRDv2" / "fail" / "python-factur-x" / "python-factur-x.pdf"

SELLER = Party(name="Atelier Durand SAS", siren="732829320", vat_number="FR44732829320")
DOCUMENT = Document(
    kind="invoice",
    number="F2026-00042",
    issue_date=date(2026, 1, 15),
    currency="EUR",
    seller=SELLER,
    buyer=Party(name="ACME Industries", siren="552100554", email="ap@acme.example"),
    lines=(
        Line("Design", Decimal(2), Decimal("40.00"), Decimal(20), Decimal("80.00")),
        Line("Print", Decimal(1), Decimal("20.00"), Decimal(20), Decimal("20.00")),
    ),
    vat_breakdown=(VatBreakdown("S", Decimal(20), Decimal("100.00"), Decimal("20.00")),),
    total_net=Decimal("100.00"),
    total_vat=Decimal("20.00"),
    total_gross=Decimal("120.00"),
    amount_due=Decimal("120.00"),
    due_date=date(2026, 2, 14),
    purchase_order="PO-7",
)
OWN = {"732829320"}


def test_a_document_becomes_a_row_with_its_lines():
    row, problems = einvoices.row_from_document(DOCUMENT, "f.xml", own_ids=OWN)
    assert problems == []
    assert (row.number, row.client_name, row.client_siren, row.client_email) == (
        "F2026-00042",
        "ACME Industries",
        "552100554",
        "ap@acme.example",
    )
    assert (row.total_net, row.total_vat, row.total_gross) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("120.00"),
    )
    assert [line.description for line in row.lines] == ["Design", "Print"]
    assert (row.due_date, row.purchase_order, row.file) == (date(2026, 2, 14), "PO-7", "f.xml")


def test_prepaid_money_is_a_payment_on_the_issue_date():
    prepaid = replace(DOCUMENT, amount_prepaid=Decimal("50.00"), amount_due=Decimal("70.00"))
    row, _problems = einvoices.row_from_document(prepaid, "f.xml", own_ids=OWN)
    assert [(p.date, p.amount) for p in row.payments] == [(date(2026, 1, 15), Decimal("50.00"))]


def test_without_a_due_date_the_last_installment_or_the_terms_give_it():
    schedule = replace(
        DOCUMENT,
        due_date=None,
        installments=(
            Installment(date(2026, 2, 14), Decimal("60.00")),
            Installment(date(2026, 3, 14), Decimal("60.00")),
        ),
    )
    row, _problems = einvoices.row_from_document(schedule, "f.xml", own_ids=OWN)
    assert row.due_date == date(2026, 3, 14)
    bare = replace(DOCUMENT, due_date=None)
    row, _problems = einvoices.row_from_document(bare, "f.xml", own_ids=OWN, terms_days=45)
    assert row.due_date == date(2026, 3, 1)


def test_a_credit_note_is_refused_with_the_reason():
    row, problems = einvoices.row_from_document(
        replace(DOCUMENT, kind="credit_note"), "avoir.xml", own_ids=OWN
    )
    assert row is None
    assert problems[0].file == "avoir.xml"
    assert "is a credit note: only invoices are imported" in problems[0].text()


def test_an_invoice_from_another_seller_is_refused():
    other = replace(DOCUMENT, seller=Party(name="Lieferant GmbH", vat_number="DE123456789"))
    row, problems = einvoices.row_from_document(other, "r.pdf", own_ids=OWN)
    assert row is None
    assert "was issued by Lieferant GmbH, not by this organisation" in problems[0].text()
    # An organisation without identifiers cannot tell: the document is taken.
    row, problems = einvoices.row_from_document(other, "r.pdf", own_ids=set())
    assert problems == [] and row is not None


def test_an_amount_due_relance_cannot_keep_is_refused():
    odd = replace(DOCUMENT, amount_prepaid=Decimal("-220.00"), amount_due=Decimal("340.00"))
    row, problems = einvoices.row_from_document(odd, "f.pdf", own_ids=OWN)
    assert row is None and "asks for 340.00" in problems[0].text()


def test_lines_relance_cannot_store_exactly_are_replaced_by_lines_of_the_totals():
    fine = replace(
        DOCUMENT,
        lines=(
            Line("Hours", Decimal("3.33333"), Decimal("30.00"), Decimal(20), Decimal("100.00")),
        ),
    )
    row, problems = einvoices.row_from_document(fine, "f.xml", own_ids=OWN)
    assert problems == [] and row.lines == ()


# The shared samples ---------------------------------------------------------------


@pytest.fixture
def seller_org(db):
    """The organisation that issued the German samples (seller VAT DE123456789)."""
    return Organisation.objects.create(
        legal_name="Lieferant GmbH", country="DE", currency="EUR", vat_number="DE123456789"
    )


def import_files(org, paths):
    files = [(path.name, shared(path)) for path in paths]
    batch = batches.start(org, "einvoice", files)
    parsed, columns = batches.read(batch)
    return parsed, batch, columns


@pytest.mark.django_db
def test_sample_pdfs_and_xml_import_with_their_totals(seller_org):
    paths = [
        FX / "EN16931_1_Teilrechnung.pdf",
        FX / "EN16931_2_Teilrechnung.pdf",
        CII / "EN16931_OEPNV.cii.xml",
        UBL / "EN16931_Reisekostenabrechnung.ubl.xml",
    ]
    parsed, batch, columns = import_files(seller_org, paths)
    assert parsed.errors == []
    done = service.run(batch, parsed, columns=columns)
    assert (done.created_count, done.skipped_count) == (4, 0)
    invoices = {i.number: i for i in Invoice.objects.filter(organisation=seller_org)}
    ticket = invoices["E2018092011804"]
    assert (ticket.total_gross, ticket.due_date) == (Decimal("9.00"), date(2018, 10, 3))
    assert ticket.client.name == "Liselotte Müllermann"
    assert invoices["280081"].lines.count() == 4
    partial = invoices["471102"]  # 1_Teilrechnung: 50.00 paid in advance of 197.65
    assert (partial.total_gross, partial.amount_paid, partial.balance, partial.status) == (
        Decimal("197.65"),
        Decimal("50.00"),
        Decimal("147.65"),
        "partially_paid",
    )
    for invoice in invoices.values():
        assert invoice.compute_totals().gross == invoice.total_gross
    assert Client.objects.filter(organisation=seller_org, name="Kunden AG Mitte").count() == 1


@pytest.mark.django_db
def test_the_same_invoice_as_pdf_and_xml_is_a_duplicate(seller_org, register_counts):
    paths = [FX / "EN16931_Einfach.pdf", CII / "EN16931_Einfach.cii.xml"]
    parsed, batch, columns = import_files(seller_org, paths)
    before = register_counts()
    with pytest.raises(ImportRejected) as caught:
        service.run(batch, parsed, columns=columns)
    (problem,) = caught.value.problems
    assert problem.file == "EN16931_Einfach.cii.xml"
    assert "Invoice 471102 is already on EN16931_Einfach.pdf of this import." in problem.text()
    assert register_counts() == before


@pytest.mark.django_db
def test_failing_samples_are_rejected_with_a_reason_and_nothing_is_imported(
    seller_org, register_counts
):
    paths = [
        FX / "EN16931_Einfach.pdf",
        FAILING,
        FX / "EN16931_Einfach_negativePaymentDue.pdf",
        FX / "EN16931_Rechnungskorrektur.pdf",
    ]
    parsed, batch, columns = import_files(seller_org, paths)
    reasons = {p.file: p.text() for p in parsed.errors}
    assert set(reasons) == {
        "python-factur-x.pdf",
        "EN16931_Einfach_negativePaymentDue.pdf",
        "EN16931_Rechnungskorrektur.pdf",
    }
    assert reasons["python-factur-x.pdf"].startswith("Cannot read it: ")
    assert "Negative amount" in reasons["EN16931_Einfach_negativePaymentDue.pdf"]
    assert "is a credit note" in reasons["EN16931_Rechnungskorrektur.pdf"]
    before = register_counts()
    with pytest.raises(ImportRejected):
        service.run(batch, parsed, columns=columns)
    assert register_counts() == before


@pytest.mark.django_db
def test_a_broken_pdf_is_named_in_the_errors(seller_org):
    batch = batches.start(seller_org, "einvoice", [("scan.pdf", b"%PDF-1.7\n%garbage")])
    parsed, _columns = batches.read(batch)
    (problem,) = parsed.errors
    assert problem.file == "scan.pdf" and problem.text().startswith("Cannot read it: ")
