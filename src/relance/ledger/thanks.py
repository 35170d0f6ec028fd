"""Thank-you messages after a payment settles invoices in full.

``settlement.record_payment`` queues one ``PaymentThanks`` row per payment;
the worker sends them (a bank import may record a thousand payments: none is
sent inline). A row is claimed by a conditional update before sending, so it
is sent at most once, even with two workers; a failed send is recorded and
not retried, as a thank-you sent twice is worse than one missing.
"""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import datetime
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.models import ActivityKind, Allocation, PaymentThanks
from relance.ledger.models.timeline import record

log = logging.getLogger(__name__)

BATCH = 200
LANGUAGES = ("fr", "en")


def send_thanks(now: datetime | None = None, *, limit: int = BATCH) -> tuple[int, int]:
    """Send the queued thank-you messages; returns (sent, not sent)."""
    now = now or timezone.now()
    sent = failed = 0
    pending = PaymentThanks.objects.filter(claimed_at__isnull=True).order_by("created_at", "pk")
    for pk in list(pending.values_list("pk", flat=True)[:limit]):
        if PaymentThanks.objects.filter(pk=pk, claimed_at__isnull=True).update(claimed_at=now) != 1:
            continue  # another worker has it
        thanks = PaymentThanks.objects.select_related(
            "payment__client", "payment__organisation"
        ).get(pk=pk)
        if _send(thanks):
            sent += 1
        else:
            failed += 1
    return sent, failed


def _send(thanks: PaymentThanks) -> bool:
    from relance.invoicing.snapshot import billing_contacts

    payment = thanks.payment
    client, org = payment.client, payment.organisation
    if payment.is_reversed:
        return _fail(thanks, "payment reversed", note=False)
    contacts = billing_contacts(client)
    if not contacts:
        return _fail(thanks, "no billing contact with an email address", note=False)
    language = client.language if client.language in LANGUAGES else org.locale
    language = language if language in LANGUAGES else "fr"
    allocations = (
        Allocation.objects.filter(payment=payment)
        .select_related("invoice")
        .order_by("invoice__due_date", "invoice_id")
    )
    lines = {}
    for allocation in allocations:
        invoice = allocation.invoice
        row = lines.setdefault(invoice.pk, {"invoice": invoice, "amount": 0})
        row["amount"] += allocation.amount
    with translation.override(language):
        context = {
            "payment": payment,
            "organisation": org,
            "contact": contacts[0],
            "amount": formats.money(payment.amount, payment.currency),
            "date": formats.day(payment.date),
            "lines": [
                {
                    "number": row["invoice"].number,
                    "amount": formats.money(row["amount"], payment.currency),
                    "paid": row["invoice"].status == "paid",
                }
                for row in lines.values()
            ],
        }
        subject = render_to_string(f"ledger/email/thanks_subject_{language}.txt", context)
        body = render_to_string(f"ledger/email/thanks_body_{language}.txt", context)
    if org.email:
        sender, reply_to = formataddr((str(org), org.email)), [org.email]
    else:
        sender, reply_to = formataddr((str(org), settings.DEFAULT_FROM_EMAIL)), []
    domain = sender.rsplit("@", 1)[-1].rstrip(">") or "relance.local"
    message_id = make_msgid(domain=domain)
    message = EmailMessage(
        subject=re.sub(r"[ \t\r\n]+", " ", subject).strip(),
        body=body,
        from_email=sender,
        to=[c.email for c in contacts],
        reply_to=reply_to,
        headers={"Message-ID": message_id},
    )
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("thank-you for payment %s failed: %s", payment.pk, exc)
        return _fail(thanks, str(exc), note=True)
    with transaction.atomic():
        PaymentThanks.objects.filter(pk=thanks.pk).update(
            sent_at=timezone.now(), message_id=message_id
        )
        record(
            client=client,
            kind=ActivityKind.SENT,
            text=_("Thank-you for the payment of %(amount)s sent to %(to)s")
            % {
                "amount": formats.money(payment.amount, payment.currency),
                "to": ", ".join(message.to),
            },
            message_id=message_id,
        )
    return True


def _fail(thanks: PaymentThanks, error: str, *, note: bool) -> bool:
    PaymentThanks.objects.filter(pk=thanks.pk).update(error=error)
    if note:
        record(
            client=thanks.payment.client,
            kind=ActivityKind.NOTE,
            text=_("The thank-you for a payment could not be sent: %(error)s") % {"error": error},
        )
    return False
