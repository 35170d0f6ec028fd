"""Thank-you messages: queued on settlement, sent once by the worker (real SMTP server)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from relance.ledger.models import Activity, Contact, ContactRole, PaymentThanks
from relance.ledger.settlement import Share, record_payment, reverse_payment
from relance.ledger.thanks import send_thanks
from relance.worker import run_once

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 2, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def billed(client_acme):
    Contact.objects.create(
        organisation=client_acme.organisation,
        client=client_acme,
        first_name="Claire",
        last_name="Martin",
        role=ContactRole.BILLING,
        email="factures@acme.example",
    )
    return client_acme


def pay(client, invoice, amount, **kwargs):
    return record_payment(
        client=client,
        amount=D(amount),
        currency="EUR",
        date=date(2026, 2, 10),
        shares=[Share(invoice=invoice, amount=D(amount))],
        reference="VIR 42",
        **kwargs,
    )


def test_a_settling_payment_is_thanked_once_by_the_worker(smtp_server, billed, make_invoice):
    invoice = make_invoice(billed, "120.00")
    payment = pay(billed, invoice, "120.00")
    assert smtp_server.envelopes == []  # not inline: the worker sends it
    run_once(NOW)
    run_once(NOW)
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["factures@acme.example"]
    [message] = smtp_server.messages
    assert message["From"] == "Atelier Durand SAS <compta@atelier-durand.fr>"
    assert message["Reply-To"] == "compta@atelier-durand.fr"
    # The client's language (French by default).
    assert message["Subject"] == "Merci pour votre paiement de 120,00\xa0€ — Atelier Durand SAS"
    body = message.get_body(("plain",)).get_content()
    assert "Bonjour Claire," in body
    assert f"- {invoice.number} : 120,00\xa0€ (soldée)" in body
    thanks = PaymentThanks.objects.get(payment=payment)
    assert thanks.sent_at is not None
    assert thanks.message_id == message["Message-ID"]
    entry = Activity.objects.get(client=billed, kind="sent")
    assert entry.message_id == thanks.message_id


def test_an_english_client_reads_english(smtp_server, billed, make_invoice):
    billed.language = "en"
    billed.save(update_fields=["language"])
    invoice = make_invoice(billed, "120.00")
    pay(billed, invoice, "120.00")
    assert send_thanks(NOW) == (1, 0)
    [message] = smtp_server.messages
    assert message["Subject"] == "Thank you for your payment of €120.00 — Atelier Durand SAS"
    assert (
        f"- {invoice.number}: €120.00 (paid in full)" in message.get_body(("plain",)).get_content()
    )


def test_no_thanks_for_a_partial_payment_history_or_when_off(
    smtp_server, billed, make_invoice, org
):
    invoice = make_invoice(billed, "120.00")
    pay(billed, invoice, "20.00")
    history = make_invoice(billed, "50.00")
    pay(billed, history, "50.00", thank=False)
    org.thank_for_payments = False
    org.save(update_fields=["thank_for_payments"])
    other = make_invoice(billed, "60.00")
    pay(billed, other, "60.00")
    assert not PaymentThanks.objects.exists()
    assert send_thanks(NOW) == (0, 0)
    assert smtp_server.envelopes == []


def test_no_thanks_for_a_reversed_payment(smtp_server, billed, make_invoice):
    invoice = make_invoice(billed, "120.00")
    payment = pay(billed, invoice, "120.00")
    reverse_payment(payment, date=date(2026, 2, 11), reason="Bounced")
    assert send_thanks(NOW) == (0, 0)
    assert smtp_server.envelopes == []
    assert PaymentThanks.objects.get().error == "payment reversed"


def test_a_refused_message_is_recorded_and_not_retried(smtp_server, billed, make_invoice):
    invoice = make_invoice(billed, "120.00")
    pay(billed, invoice, "120.00")
    smtp_server.reject_with = "550 No such user"
    assert send_thanks(NOW) == (0, 1)
    smtp_server.reject_with = None
    assert send_thanks(NOW) == (0, 0)
    assert smtp_server.envelopes == []
    note = Activity.objects.filter(client=billed, kind="note").latest("id")
    assert note.text.startswith("The thank-you for a payment could not be sent")
