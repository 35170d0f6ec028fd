"""Issuing lawfully: terms, caps, mentions, numbers, the archived Factur-X PDF."""

from datetime import date
from decimal import Decimal

import pytest

from relance.invoicing.issuing import IssueError, MissingMentions, issue_invoice
from relance.invoicing.models import PaymentTermsTemplate
from relance.ledger.models import Invoice, InvoiceStatus

JAN_15 = date(2026, 1, 15)

D = Decimal


def test_a_complete_invoice_is_issued_with_its_terms_and_archived_pdf(acme, net30, draft):
    invoice = issue_invoice(draft(acme), as_of=JAN_15)
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.number == "F2026-00001"
    assert invoice.due_date == date(2026, 2, 14)  # the organisation's default: 30 days
    assert invoice.terms["kind"] == "net" and invoice.terms["days"] == 30
    stored = Invoice.objects.get(pk=invoice.pk)
    with stored.pdf.open("rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF")
    from relance.einvoice.facturx import extract_xml

    xml = extract_xml(pdf)
    assert b"F2026-00001" in xml and b"<ram:DuePayableAmount>1200.00<" in xml


def test_a_missing_mention_blocks_issuing_and_names_it(acme, net30, draft, org):
    org.vat_number = ""
    org.save()
    acme.siren = ""
    acme.save()
    invoice = draft(acme)
    with pytest.raises(MissingMentions) as caught:
        issue_invoice(invoice, as_of=JAN_15)
    assert caught.value.codes == ["seller_vat_number", "buyer_siren"]
    assert "your VAT number" in str(caught.value) and "the client's SIREN" in str(caught.value)
    invoice.refresh_from_db()
    assert invoice.is_draft and invoice.number == "" and invoice.due_date is None
    assert not invoice.pdf


def test_a_consumer_invoice_needs_no_siren(consumer, net30, draft):
    invoice = issue_invoice(draft(consumer), as_of=JAN_15)
    assert invoice.status == InvoiceStatus.ISSUED


def test_client_terms_override_the_organisation_default(acme, net30, draft, org):
    acme.payment_terms = PaymentTermsTemplate.objects.create(
        organisation=org, name="45 FDM", kind="eom_then_days", days=45, agreed_45_eom=True
    )
    acme.save()
    invoice = issue_invoice(draft(acme), as_of=JAN_15)
    assert invoice.due_date == date(2026, 3, 17)  # 31 January + 45 days


def test_a_due_date_beyond_the_legal_cap_is_refused_with_the_article(acme, draft):
    invoice = draft(acme, due_date=date(2026, 3, 31))  # 75 days
    with pytest.raises(IssueError, match=r"at most .*16, 2026.*L441-10 I du Code de commerce"):
        issue_invoice(invoice, as_of=JAN_15)
    invoice.refresh_from_db()
    assert invoice.is_draft


def test_45_days_end_of_month_needs_the_contract_to_say_so(acme, draft, org):
    unagreed = PaymentTermsTemplate.objects.create(
        organisation=org, name="45 FDM", kind="days_then_eom", days=45
    )
    with pytest.raises(IssueError, match="L441-10"):
        issue_invoice(draft(acme, terms_template=unagreed), as_of=date(2026, 1, 20))
    unagreed.agreed_45_eom = True
    unagreed.save()
    invoice = issue_invoice(draft(acme, terms_template=unagreed), as_of=date(2026, 1, 20))
    assert invoice.due_date == date(2026, 3, 31)


def test_a_deposit_creates_the_installment_rows(acme, draft, org):
    deposit = PaymentTermsTemplate.objects.create(
        organisation=org, name="Acompte", kind="deposit", deposit_percent=D(30), days=30
    )
    invoice = issue_invoice(draft(acme, terms_template=deposit), as_of=JAN_15)
    rows = [(row.due_date, row.amount) for row in invoice.installments.all()]
    assert rows == [(JAN_15, D("360.00")), (date(2026, 2, 14), D("840.00"))]
    assert invoice.due_date == date(2026, 2, 14)


def test_monthly_installments_sum_exactly(acme, draft, org):
    three = PaymentTermsTemplate.objects.create(
        organisation=org, name="3 fois", kind="installments", count=3, days=0
    )
    invoice = issue_invoice(
        draft(acme, terms_template=three, lines=[("X", D(1), D("83.34"), D(20))]), as_of=JAN_15
    )
    amounts = [row.amount for row in invoice.installments.all()]
    assert amounts == [D("33.34"), D("33.34"), D("33.33")]
    assert sum(amounts) == invoice.total_gross


def test_an_issued_invoice_cannot_be_issued_again(acme, net30, draft):
    invoice = issue_invoice(draft(acme), as_of=JAN_15)
    with pytest.raises(IssueError, match="already issued"):
        issue_invoice(invoice, as_of=JAN_15)


def test_the_exemption_mention_of_a_franchise_seller_is_frozen_on_the_invoice(
    acme, net30, draft, org
):
    org.vat_number = ""
    org.vat_exemption_reason = "TVA non applicable, art. 293 B du CGI"
    org.save()
    invoice = draft(acme, lines=[("Cours", D(2), D("50"), D(0))])
    invoice.lines.update(vat_category="E")
    invoice = issue_invoice(invoice, as_of=JAN_15)
    assert invoice.vat_exemption_reason == "TVA non applicable, art. 293 B du CGI"
    assert invoice.total_gross == D("100.00")


def test_a_seller_country_without_legal_rules_is_refused_not_guessed(acme, net30, draft, org):
    org.country = "US"
    org.save()
    invoice = draft(acme)
    with pytest.raises(IssueError, match="no legal rule 'late_penalty_margin' for country US"):
        issue_invoice(invoice, as_of=JAN_15)
    invoice.refresh_from_db()
    assert invoice.is_draft


def test_a_hand_typed_due_date_is_printed_once_not_worded_as_terms(acme, draft):
    from relance.invoicing.snapshot import build_document

    invoice = issue_invoice(draft(acme, due_date=date(2026, 2, 10)), as_of=JAN_15)
    document = build_document(invoice)
    assert document.due_date == date(2026, 2, 10)
    assert document.payment_terms_text == ""
