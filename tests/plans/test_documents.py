"""The agreement PDF and the emails the client receives (real SMTP server)."""

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from relance.ledger.models import Activity
from relance.plans import documents, offers, service

D = Decimal
AS_OF = date(2026, 3, 2)


@pytest.fixture
def plan(debtor, overdue):
    proposal = service.Proposal(
        count=3, frequency="monthly", day=10, down_payment=D("200.00"), fee=D("30.00")
    )
    return service.propose(debtor, overdue, proposal, as_of=AS_OF)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_agreement_lists_the_schedule(plan):
    text = pdf_text(documents.agreement_pdf(plan))
    assert "Payment plan agreement" in text
    for line in (
        "F2026-00001 Feb 4, 2026 €1,200.00",
        "Down payment Mar 2, 2026 €200.00",  # today, named: not one of the 3 installments
        "1 / 3 Mar 10, 2026 €610.00",
        "3 / 3 May 10, 2026 €610.00",
        "Total to pay €2,030.00",  # the fee included
    ):
        assert line in text, line
    assert "no late fee" in text


def test_the_agreement_in_the_client_s_language(plan, debtor):
    debtor.language = "fr"
    debtor.save()
    plan.refresh_from_db()
    text = pdf_text(documents.agreement_pdf(plan))
    assert "mars 2026" in text


def test_sent_by_email_to_the_billing_contact_with_the_pdf(plan, smtp_server):
    message_id = documents.send_agreement(plan)
    (message,) = smtp_server.messages
    assert message["To"] == "factures@acme.example"
    assert "compta@atelier-durand.fr" in message["From"]
    assert message["Reply-To"] == "compta@atelier-durand.fr"
    assert message["Message-ID"] == message_id
    body = message.get_body(("plain",)).get_content()
    assert "Down payment: €200.00 due on Mar 2, 2026" in body
    assert "1 / 3: €610.00 due on Mar 10, 2026" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert "2 / 3 Apr 10, 2026 €610.00" in pdf_text(attachment.get_content())
    plan.refresh_from_db()
    assert plan.pdf and plan.sent_at
    assert Activity.objects.filter(message_id=message_id, text__contains="agreement sent").exists()


def test_no_billing_contact_is_a_clear_error(plan, debtor, smtp_server):
    debtor.contacts.all().delete()
    with pytest.raises(documents.SendFailed, match="no billing contact"):
        documents.send_agreement(plan)
    assert smtp_server.messages == []


def test_the_offer_email_says_pay_x_instead_of_y(debtor, overdue, smtp_server):
    offer = offers.make(
        debtor, overdue, kind="percent", value=D("10"), expires_on=date(2026, 3, 13), as_of=AS_OF
    )
    documents.send_offer(offer)
    (message,) = smtp_server.messages
    subject = message["Subject"].replace("\xa0", " ").replace("\u202f", " ")
    assert subject == "Pay €1,800.00 instead of €2,000.00 before Mar 13, 2026"


def test_the_offer_email_in_french(debtor, overdue, smtp_server):
    debtor.language = "fr"
    debtor.save()
    offer = offers.make(
        debtor, overdue, kind="percent", value=D("10"), expires_on=date(2026, 3, 13), as_of=AS_OF
    )
    documents.send_offer(offer)
    (message,) = smtp_server.messages
    assert "1 800,00" in message["Subject"].replace("\xa0", " ").replace("\u202f", " ")


def test_a_png_of_the_agreement(plan, tmp_path):
    import pypdfium2

    pdf = pypdfium2.PdfDocument(documents.agreement_pdf(plan))
    image = pdf[0].render(scale=1.2).to_pil()
    image.save(tmp_path / "agreement.png")
    assert image.size[0] > 600
    image.save("/tmp/plans-agreement.png")
