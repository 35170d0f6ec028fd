"""The Factur-X of invoices issued through relance itself (register -> snapshot
-> PDF/A-3 + CII) passes the XSD and the official EN 16931 schematron."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from relance.einvoice.facturx import extract_xml
from relance.einvoice.validation import validate_many
from relance.invoicing.issuing import issue_credit_note, issue_invoice
from relance.invoicing.models import PaymentTermsTemplate
from relance.ledger.models import Client
from relance.ledger.models.invoices import VatCategory

D = Decimal
JAN_15 = date(2026, 1, 15)
ARTEFACTS = Path(__file__).resolve().parents[2].parent / "shared/data/einvoice/en16931-cen"


def pdf_xml(invoice) -> bytes:
    with invoice.pdf.open("rb") as handle:
        return extract_xml(handle.read())


@pytest.mark.skipif(not ARTEFACTS.exists(), reason="../shared/data absent: no EN 16931 schematron")
def test_every_kind_of_issued_document_is_valid_en16931(org, acme, consumer, net30, draft):
    org = org
    discount = PaymentTermsTemplate.objects.create(
        organisation=org, name="Escompte", kind="net", days=30,
        discount_percent=D(2), discount_days=10,
    )  # fmt: skip
    deposit = PaymentTermsTemplate.objects.create(
        organisation=org, name="Acompte", kind="deposit", deposit_percent=D(30), days=30
    )
    berlin = Client.objects.create(
        organisation=org, name="Berlin GmbH", vat_number="DE136695976",
        address_line1="Unter den Linden 1", postcode="10117", city="Berlin", country="DE",
    )  # fmt: skip
    several_rates = [
        ("Conception", D(3), D("333.333"), D(20)),
        ("Livres", D(2), D("19.90"), D("5.5")),
        ("Restauration", D(1), D("45"), D(10)),
    ]
    issued = [
        issue_invoice(draft(acme, lines=several_rates, terms_template=discount), as_of=JAN_15),
        issue_invoice(draft(acme, terms_template=deposit), as_of=JAN_15),
        issue_invoice(draft(consumer), as_of=JAN_15),
        issue_invoice(draft(acme, currency="GBP"), as_of=JAN_15),
    ]
    reverse = draft(berlin, lines=[("Audit", D(1), D("800"), D(0))])
    reverse.lines.update(vat_category=VatCategory.REVERSE_CHARGE)
    issued.append(issue_invoice(reverse, as_of=JAN_15))
    issued.append(issue_credit_note(issued[0], as_of=JAN_15))
    issued.append(
        issue_credit_note(
            issued[1], lines=[("Remise commerciale", D(1), D(100), D(20))], as_of=JAN_15
        )
    )
    xmls = [pdf_xml(invoice) for invoice in issued]
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xmls[-1]
    reports = validate_many(xmls, artefacts=ARTEFACTS)
    for invoice, report in zip(issued, reports, strict=True):
        assert report.ok, f"{invoice.number}: {report.summary()}"
        assert report.fired_rules > 50  # the schematron really ran
