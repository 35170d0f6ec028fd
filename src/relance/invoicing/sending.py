"""Sending an issued invoice by email, at once or on a chosen day.

The message goes to the client's billing contacts, in the client's
language, with the archived Factur-X PDF attached, from the organisation's
address (replies go to it too). Each send is written on the timeline with
its time and Message-ID, so "did they get it?" has an answer.
"""

from __future__ import annotations

import logging
import re
import smtplib
import time
from datetime import date
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from stdnum import iban

from relance import formats
from relance.ledger.models import ActivityKind, Invoice
from relance.ledger.models.timeline import record
from relance.rules.payment_reference import format_reference

from .snapshot import billing_contacts, build_document

log = logging.getLogger(__name__)


class SendError(Exception):
    """The invoice could not be sent; the message says why, in the user's words."""


def _sender(invoice: Invoice) -> tuple[str, list[str]]:
    org = invoice.organisation
    if org.email:
        return formataddr((str(org), org.email)), [org.email]
    return formataddr((str(org), settings.DEFAULT_FROM_EMAIL)), []


def build_message(invoice: Invoice) -> EmailMultiAlternatives:
    if invoice.is_draft:
        raise SendError(_("A draft cannot be sent: issue it first."))
    if not invoice.pdf:
        raise SendError(_("%(doc)s has no PDF to send.") % {"doc": invoice})
    client = invoice.client
    contacts = billing_contacts(client)
    recipients = [c.email for c in contacts]
    if not recipients:
        raise SendError(
            _("%(client)s has no billing contact with an email address.") % {"client": client}
        )
    document = build_document(invoice)
    language = document.language
    with translation.override(language):
        context = {
            "invoice": invoice,
            "document": document,
            "organisation": invoice.organisation,
            "amount": formats.money(document.amount_due, document.currency),
            "due": formats.day(document.due_date) if document.due_date else "",
            "reference": format_reference(document.creditor_reference)
            if document.creditor_reference
            else "",
            "contact": contacts[0],
            "iban": iban.format(document.iban) if document.iban else "",
        }
        # Collapse the template's line breaks only: amounts keep their no-break spaces.
        subject = re.sub(
            r"[ \t\r\n]+", " ", render_to_string("invoicing/email/invoice_subject.txt", context)
        ).strip()
        text = render_to_string("invoicing/email/invoice_body.txt", context)
        html = render_to_string("invoicing/email/invoice_body.html", context)
    sender, reply_to = _sender(invoice)
    domain = sender.rsplit("@", 1)[-1].rstrip(">") or "relance.local"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=sender,
        to=recipients,
        reply_to=reply_to,
        headers={"Message-ID": make_msgid(domain=domain)},
    )
    message.attach_alternative(html, "text/html")
    with invoice.pdf.open("rb") as handle:
        message.attach(f"{invoice.number}.pdf", handle.read(), "application/pdf")
    return message


def send_invoice(invoice: Invoice, *, author: Any = None) -> str:
    """Send (or resend) an issued invoice now; returns the Message-ID.

    A failure is written on the timeline and raised as ``SendError``; the
    invoice itself does not change.
    """
    message = build_message(invoice)
    message_id = message.extra_headers["Message-ID"]
    started = time.monotonic()
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("sending %s failed: %s", invoice.number, exc)
        record(
            client=invoice.client,
            invoice=invoice,
            kind=ActivityKind.NOTE,
            author=author,
            text=_("Sending %(doc)s by email failed: %(error)s")
            % {"doc": invoice.number, "error": exc},
        )
        raise SendError(
            _("The email could not be sent (%(error)s). Nothing was sent; try again later.")
            % {"error": exc}
        ) from exc
    took = time.monotonic() - started
    with transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(sent_at=timezone.now(), send_on=None)
        record(
            client=invoice.client,
            invoice=invoice,
            kind=ActivityKind.SENT,
            author=author,
            text=_("%(doc)s sent by email to %(to)s (%(ms)s ms)")
            % {"doc": invoice.number, "to": ", ".join(message.to), "ms": round(took * 1000)},
            message_id=message_id,
        )
    return message_id


def send_later(invoice: Invoice, *, on: date, as_of: date, author: Any = None) -> None:
    if on < as_of:
        raise SendError(_("Choose today or a later day."))
    Invoice.objects.filter(pk=invoice.pk).update(send_on=on)
    record(
        client=invoice.client,
        invoice=invoice,
        kind=ActivityKind.NOTE,
        author=author,
        text=_("%(doc)s will be sent by email on %(day)s")
        % {"doc": invoice.number, "day": formats.day(on)},
    )


def send_due(as_of: date, organisation_id: int | None = None) -> tuple[int, int]:
    """Send every issued invoice whose "send on" day has come (the worker's job).

    Claims each invoice with a conditional update, so two workers never send
    the same one. Returns (sent, failed).
    """
    sent = failed = 0
    due = Invoice.objects.filter(send_on__lte=as_of).exclude(status="draft")
    if organisation_id is not None:
        due = due.filter(organisation_id=organisation_id)
    for pk, send_on in list(due.values_list("pk", "send_on")):
        claimed = Invoice.objects.filter(pk=pk, send_on=send_on).update(send_on=None)
        if claimed != 1:
            continue
        invoice = Invoice.objects.select_related("organisation", "client").get(pk=pk)
        try:
            send_invoice(invoice)
            sent += 1
        except SendError:
            failed += 1
    return sent, failed
