"""Bounces and replies pause the ladder with a task for a person (real SMTP round trip)."""

from datetime import UTC, date, datetime

from relance.dunning import dispatch, inbound
from relance.dunning.models import Message, MessageStatus, Pause, PauseKind

NOW = datetime(2026, 2, 5, 9, 30, tzinfo=UTC)


def _sent_reminder(org, chased, make_invoice, run_day, smtp_server):
    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    run_day(date(2026, 2, 5))
    dispatch.dispatch(NOW)
    message = Message.objects.get(channel="email")
    assert message.status == MessageStatus.SENT
    return message, smtp_server.messages[0]


def test_bounce_marks_contact_and_pauses(org, chased, make_invoice, run_day, smtp_server):
    message, sent = _sent_reminder(org, chased, make_invoice, run_day, smtp_server)
    report = (
        "From: MAILER-DAEMON@mx.example\r\nTo: compta@atelier-durand.fr\r\n"
        "Subject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n\r\n"
        "Final-Recipient: rfc822; factures@acme.example\r\nAction: failed\r\n"
        "Status: 5.1.1\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent['Message-ID']}\r\n"
        "Subject: x\r\n\r\n--B--\r\n"
    ).encode()
    outcome = inbound.handle(report, NOW)
    assert outcome.kind == "bounce" and outcome.message == message
    contact = chased.contacts.get()
    assert contact.bounced_at is not None
    assert Pause.objects.get(client=chased).kind == PauseKind.CONTACT_PROBLEM


def test_reply_pauses_for_a_person(org, chased, make_invoice, run_day, smtp_server):
    _message, sent = _sent_reminder(org, chased, make_invoice, run_day, smtp_server)
    reply = (
        "From: Claire Martin <factures@acme.example>\r\nTo: compta@atelier-durand.fr\r\n"
        f"Subject: Re: {sent['Subject']}\r\nIn-Reply-To: {sent['Message-ID']}\r\n\r\n"
        "Nous n'avons jamais recu cette facture, pouvez-vous la renvoyer ?\r\n"
    ).encode()
    assert inbound.handle(reply, NOW).kind == "reply"
    pause = Pause.objects.get(client=chased)
    assert pause.kind == PauseKind.CONTACT_PROBLEM and pause.ended_on is None
    assert chased.activities.filter(text__contains="jamais recu").exists()
    # The ladder holds: the next steps do not fire while a person has not looked.
    from relance.dunning import engine

    report = engine.run(org, date(2026, 2, 20))
    assert report.fired == 0


def test_unrelated_mail_changes_nothing(org, chased):
    assert inbound.handle(b"From: a@b.c\r\nSubject: hello\r\n\r\nhi\r\n", NOW).kind == "unknown"
    assert not Pause.objects.exists()
