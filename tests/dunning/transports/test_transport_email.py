"""The email transport against real SMTP servers: what arrives, and each failure's meaning."""

from __future__ import annotations

import pytest
from smtp_peers import PASSWORD, free_port

from relance.dunning.transports import (
    ChannelDown,
    Delivery,
    MessageRejected,
    Outgoing,
    RecipientRejected,
    TemporaryError,
    Uncertain,
    transport_for,
)
from relance.dunning.transports.email import EmailTransport

PDF = b"%PDF-1.7\n% a reminder letter\n"


def reminder(**changes) -> Outgoing:
    fields = {
        "channel": "email",
        "to": ("Jeanne Martin <jeanne@acme.example>", "compta@acme.example"),
        "subject": "Facture F2026-0042 : rappel",
        "text": "Bonjour,\n.\nLa facture F2026-0042 de 1 200,00 € est échue depuis 12 jours.\n",
        "html": "<p>Bonjour,</p><p>La facture <b>F2026-0042</b> est échue.</p>",
        "sender": "Atelier Durand <compta@atelier-durand.fr>",
        "reply_to": ("relances@atelier-durand.fr",),
        "message_id": "<reminder-42@atelier-durand.fr>",
        "attachments": (("F2026-0042.pdf", PDF, "application/pdf"),),
    }
    return Outgoing(**(fields | changes))


def send(message: Outgoing | None = None) -> Delivery:
    return transport_for("email").send(message or reminder())


def test_the_email_arrives_whole(mailbox):
    delivery = send()

    assert delivery == Delivery(provider_id="<reminder-42@atelier-durand.fr>")
    [envelope] = mailbox.envelopes
    assert envelope.mail_from == "compta@atelier-durand.fr"
    assert envelope.rcpt_tos == ["jeanne@acme.example", "compta@acme.example"]
    [received] = mailbox.messages
    assert received["Message-ID"] == "<reminder-42@atelier-durand.fr>"
    assert received["Subject"] == "Facture F2026-0042 : rappel"
    assert received["From"] == "Atelier Durand <compta@atelier-durand.fr>"
    assert received["To"] == "Jeanne Martin <jeanne@acme.example>, compta@acme.example"
    assert received["Reply-To"] == "relances@atelier-durand.fr"
    text = received.get_body(("plain",)).get_content()
    # The lone dot line survives dot-stuffing.
    assert text.replace("\r\n", "\n") == reminder().text
    assert "<b>F2026-0042</b>" in received.get_body(("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "F2026-0042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_a_message_id_is_chosen_when_none_is_given(mailbox):
    delivery = send(reminder(message_id="", html="", attachments=()))

    [received] = mailbox.messages
    assert delivery.provider_id == received["Message-ID"]
    assert delivery.provider_id.endswith("@atelier-durand.fr>")
    assert received.get_content_type() == "text/plain"


def test_without_a_sender_the_default_from_address_is_used(mailbox, settings):
    settings.DEFAULT_FROM_EMAIL = "relance@example.org"

    send(reminder(sender=""))

    assert mailbox.envelopes[0].mail_from == "relance@example.org"


def test_recipients_refused_among_accepted_ones_are_reported(mailbox):
    mailbox.refuse["compta@acme.example"] = "550 5.1.1 No such mailbox"

    delivery = send()

    assert delivery.rejected == ("compta@acme.example",)
    assert mailbox.envelopes[0].rcpt_tos == ["jeanne@acme.example"]


def test_every_recipient_refused_is_a_bounce(mailbox):
    mailbox.refuse["jeanne@acme.example"] = "550 5.1.1 No such mailbox"
    mailbox.refuse["compta@acme.example"] = "553 5.1.3 Bad recipient address syntax"

    with pytest.raises(RecipientRejected) as raised:
        send()

    # Named as the caller wrote them, so the contact can be found again.
    assert raised.value.recipients == (
        "Jeanne Martin <jeanne@acme.example>",
        "compta@acme.example",
    )
    assert "550 5.1.1 No such mailbox" in str(raised.value)
    assert mailbox.envelopes == []


def test_recipients_refused_for_now_are_retried_later(mailbox):
    mailbox.refuse["jeanne@acme.example"] = "450 4.2.1 Mailbox busy"
    mailbox.refuse["compta@acme.example"] = "550 5.1.1 No such mailbox"

    with pytest.raises(TemporaryError):
        send()


def test_an_invalid_address_is_rejected_without_stopping_the_others(mailbox):
    delivery = send(reminder(to=("jeanne@acme.example", "not an address\nBcc: x@y.z")))

    assert delivery.rejected == ("not an address\nBcc: x@y.z",)
    assert mailbox.envelopes[0].rcpt_tos == ["jeanne@acme.example"]


def test_only_invalid_addresses_is_a_bounce(mailbox):
    with pytest.raises(RecipientRejected) as raised:
        send(reminder(to=("jeanne at acme",)))

    assert raised.value.recipients == ("jeanne at acme",)


def test_a_sender_refused_for_good_takes_the_channel_down(mailbox):
    mailbox.refuse_sender = "550 5.7.1 Sender not allowed to relay"

    with pytest.raises(ChannelDown, match=r"5\.7\.1"):
        send()


def test_a_sender_refused_for_now_is_temporary(mailbox):
    mailbox.refuse_sender = "451 4.3.0 Try again later"

    with pytest.raises(TemporaryError):
        send()


def test_a_wrong_password_takes_the_channel_down(mailbox, settings):
    settings.MAILERS["default"]["OPTIONS"]["password"] = PASSWORD + "-old"

    with pytest.raises(ChannelDown, match="login"):
        send()
    assert mailbox.envelopes == []


def test_credentials_for_a_server_without_auth_take_the_channel_down(smtp_server, settings):
    settings.MAILERS["default"]["OPTIONS"] |= {"username": "relance", "password": "x"}

    with pytest.raises(ChannelDown):
        send()


def test_content_refused_for_good_fails_the_message_only(mailbox):
    mailbox.data_reply = "554 5.7.1 Message rejected as spam"

    with pytest.raises(MessageRejected, match="spam"):
        send()


def test_content_deferred_is_temporary(smtp_server):
    # The shared fixture's knob: a 4xx answer to the message itself.
    smtp_server.reject_with = "451 4.7.1 Greylisted, try again later"

    with pytest.raises(TemporaryError, match="Greylisted"):
        send()


def test_no_server_listening_is_temporary(settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }

    with pytest.raises(TemporaryError, match="connection to the SMTP server failed"):
        send()


def test_a_server_refusing_the_session_is_temporary(scripted_smtp):
    scripted_smtp(greeting="554 5.3.2 Too busy, go away")

    with pytest.raises(TemporaryError, match="refused the connection"):
        send()


def test_a_server_stalling_before_the_message_is_temporary(mailbox):
    mailbox.stall_at = "RCPT"

    with pytest.raises(TemporaryError):
        send()


def test_hanging_up_at_the_data_command_is_temporary(scripted_smtp):
    # Nothing of the message was sent: trying again cannot deliver it twice.
    peer = scripted_smtp(replies={"DATA": None})

    with pytest.raises(TemporaryError):
        send()
    assert peer.heard[-1].upper() == "DATA"


def test_hanging_up_after_the_message_is_uncertain(mailbox):
    mailbox.hang_up_after_data = True

    with pytest.raises(Uncertain):
        send()
    # Indeed the server had the whole message: resending would duplicate it.
    assert len(mailbox.envelopes) == 1


def test_no_reply_after_the_message_is_uncertain(mailbox):
    mailbox.stall_at = "DATA"

    with pytest.raises(Uncertain):
        send()


def test_a_message_without_recipient_is_a_bounce(mailbox):
    with pytest.raises(RecipientRejected):
        send(reminder(to=()))


def test_other_mail_backends_are_used_as_they_are(settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    delivery = EmailTransport().send(reminder())

    assert delivery.provider_id == "<reminder-42@atelier-durand.fr>"
    [mail] = mailoutbox
    assert mail.subject == "Facture F2026-0042 : rappel"
    assert mail.extra_headers["Message-ID"] == "<reminder-42@atelier-durand.fr>"
    assert mail.alternatives[0].mimetype == "text/html"


def test_another_mailer_alias_can_be_chosen(mailbox, settings):
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
        "reminders": settings.MAILERS["default"],
    }

    EmailTransport(mailer="reminders").send(reminder())

    assert len(mailbox.envelopes) == 1
