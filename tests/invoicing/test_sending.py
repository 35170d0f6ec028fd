"""Sending invoices by email through a real SMTP server (aiosmtpd)."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from relance.invoicing.issuing import issue_invoice
from relance.invoicing.sending import SendError, send_invoice, send_later
from relance.ledger.models import Activity, ActivityKind, Invoice

JAN_15 = date(2026, 1, 15)


@pytest.fixture
def issued(acme, net30, draft):
    return issue_invoice(draft(acme), as_of=JAN_15)


def test_an_issued_invoice_reaches_the_billing_contact_with_its_pdf(smtp_server, issued):
    message_id = send_invoice(issued)
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["factures@acme.example"]
    [message] = smtp_server.messages
    assert message["Message-ID"] == message_id
    assert message["From"] == "Atelier Durand SAS <compta@atelier-durand.fr>"
    assert message["Reply-To"] == "compta@atelier-durand.fr"
    # French client: French subject and body, with what to pay, by when and how.
    assert message["Subject"] == (
        "Facture F2026-00001 de Atelier Durand SAS : "
        "1\u202f200,00\xa0€ à payer avant le 14 févr. 2026"
    )
    body = message.get_body(("plain",)).get_content()
    assert "Bonjour Claire," in body
    assert "IBAN : FR76 3000 6000 0112 3456 7890 189" in body
    assert "RF" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "F2026-00001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")
    sent = Activity.objects.get(invoice=issued, kind=ActivityKind.SENT)
    assert sent.message_id == message_id
    assert "factures@acme.example" in sent.text
    assert Invoice.objects.get(pk=issued.pk).sent_at is not None


def test_an_english_client_reads_english(smtp_server, consumer, net30, draft):
    invoice = issue_invoice(draft(consumer), as_of=JAN_15)
    send_invoice(invoice)
    [message] = smtp_server.messages
    assert message["Subject"].startswith("Invoice F2026-00001 from Atelier Durand SAS: €1,200.00")
    assert "Hello Jeanne," in message.get_body(("plain",)).get_content()


def test_resending_sends_again_and_records_both(smtp_server, issued):
    first = send_invoice(issued)
    second = send_invoice(issued)
    assert first != second
    assert len(smtp_server.envelopes) == 2
    assert Activity.objects.filter(invoice=issued, kind=ActivityKind.SENT).count() == 2


def test_a_refused_message_is_reported_and_recorded_not_lost(smtp_server, issued):
    smtp_server.reject_with = "451 Try again later"
    with pytest.raises(SendError, match="could not be sent"):
        send_invoice(issued)
    assert Invoice.objects.get(pk=issued.pk).sent_at is None
    note = Activity.objects.filter(invoice=issued, kind=ActivityKind.NOTE).latest("id")
    assert "failed" in note.text


def test_no_billing_contact_is_a_clear_error(smtp_server, issued):
    issued.client.contacts.update(do_not_contact=True)
    with pytest.raises(SendError, match="no billing contact"):
        send_invoice(issued)
    assert smtp_server.envelopes == []


def test_send_later_is_sent_by_the_worker_on_its_day_once(smtp_server, issued):
    from relance.worker import run_once

    send_later(issued, on=date(2026, 1, 20), as_of=JAN_15)
    # 19 January, 23:30 in Paris: not yet the day.
    run_once(datetime.fromisoformat("2026-01-19T22:30:00+00:00"))
    assert smtp_server.envelopes == []
    # 20 January, 00:30 in Paris (still the 19th in UTC): the organisation's day has come.
    result = run_once(datetime.fromisoformat("2026-01-19T23:30:00+00:00"))
    assert result.sent == 1 and len(smtp_server.envelopes) == 1
    run_once(datetime.fromisoformat("2026-01-21T09:00:00+00:00"))
    assert len(smtp_server.envelopes) == 1  # sent once only


def test_send_later_refuses_a_past_day(issued):
    with pytest.raises(SendError, match="today or a later day"):
        send_later(issued, on=date(2026, 1, 14), as_of=JAN_15)


def test_a_draft_cannot_be_sent(acme, draft, smtp_server):
    with pytest.raises(SendError, match="issue it first"):
        send_invoice(draft(acme, lines=[("X", Decimal(1), Decimal(10), Decimal(20))]))
