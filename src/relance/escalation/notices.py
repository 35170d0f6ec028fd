"""The formal notice's life: prepared (by a person or a ladder step), approved by a
person, sent (its date recorded: it starts legal interest on a consumer's debt),
proof of sending attached.

The fees app reads the date through ``notice_date(invoice)``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.models import ActivityKind, Client, ClientStatus, Invoice
from relance.ledger.models.timeline import record
from relance.rules import escalation as rules

from . import documents
from .models import EscalationSettings, FormalNotice, NoticeStatus
from .wording import refusal_text

MAX_RECEIPT_BYTES = 10 * 1024 * 1024


class NoticeRefused(ValueError):
    pass


def notice_date(invoice: Invoice | int) -> date | None:
    """The day the first formal notice claiming this invoice was sent (None: never)."""
    invoice_id = invoice if isinstance(invoice, int) else invoice.pk
    return FormalNotice.objects.filter(
        invoices=invoice_id, status=NoticeStatus.SENT, sent_on__isnull=False
    ).aggregate(first=Min("sent_on"))["first"]


def prepare(
    client: Client,
    invoices: list[Invoice] | None = None,
    *,
    as_of: date,
    author: Any = None,
    reminder: Any = None,
) -> FormalNotice:
    """A formal notice awaiting approval for ``invoices`` (default: every overdue
    invoice of the client). Refused for a debt that is not due, for an invoice
    already settled, and for a client in insolvency proceedings."""
    if client.status == ClientStatus.INSOLVENT:
        raise NoticeRefused(
            _("%(client)s is in insolvency proceedings: declare the claim instead.")
            % {"client": client}
        )
    if invoices is None:
        invoices = list(Invoice.objects.filter(client=client).overdue(as_of))
    if any(i.client_id != client.pk for i in invoices):
        raise NoticeRefused(_("Every invoice must be the client's own."))
    if len({i.currency for i in invoices}) > 1:
        raise NoticeRefused(
            _("A formal notice claims one currency: choose invoices in the same currency.")
        )
    closed = [i.number for i in invoices if not i.is_open]
    if closed:
        raise NoticeRefused(
            _("%(numbers)s has nothing left to pay.") % {"numbers": ", ".join(closed)}
        )
    try:
        rules.check_due([i.due_date for i in invoices if i.due_date], as_of)
        if any(i.due_date is None for i in invoices):
            raise rules.EscalationRefused("nothing_due")
    except rules.EscalationRefused as exc:
        raise NoticeRefused(refusal_text(exc)) from exc
    settings = EscalationSettings.for_org(client.organisation)
    with transaction.atomic():
        notice = FormalNotice.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            prepared_on=as_of,
            deadline_days=settings.notice_days,
            language=documents.language_of(client),
            reminder=reminder,
            created_by=author,
        )
        notice.invoices.set(invoices)
        record(
            client=client,
            kind=ActivityKind.NOTE,
            author=author,
            text=_("Formal notice prepared for %(numbers)s: awaiting approval.")
            % {"numbers": ", ".join(i.number for i in invoices)},
        )
    return notice


def approve(notice: FormalNotice, *, author: Any) -> FormalNotice:
    """A person approves the letter: it is drawn and kept as approved."""
    with transaction.atomic():
        notice = FormalNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.status != NoticeStatus.AWAITING_APPROVAL:
            raise NoticeRefused(_("This formal notice is not awaiting approval."))
        stale = [i.number for i in notice.invoices.all() if not i.is_open]
        if stale:
            raise NoticeRefused(
                _("%(numbers)s has been settled since: cancel this notice and prepare another.")
                % {"numbers": ", ".join(stale)}
            )
        notice.status = NoticeStatus.APPROVED
        notice.approved_by = author
        notice.approved_at = timezone.now()
        notice.save(update_fields=["status", "approved_by", "approved_at"])
        pdf = documents.notice_pdf(notice)
        notice.pdf.save(f"formal-notice-{notice.pk}.pdf", ContentFile(pdf), save=True)
        record(
            client=notice.client,
            kind=ActivityKind.NOTE,
            author=author,
            text=_("Formal notice approved."),
        )
    return notice


def mark_sent(notice: FormalNotice, *, sent_on: date, as_of: date, author: Any) -> FormalNotice:
    """Record the day the approved letter left (by registered post)."""
    if sent_on > as_of:
        raise NoticeRefused(_("The sending date cannot be in the future."))
    with transaction.atomic():
        notice = FormalNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.status != NoticeStatus.APPROVED:
            raise NoticeRefused(_("Only an approved formal notice can be marked as sent."))
        if sent_on < notice.prepared_on:
            raise NoticeRefused(_("The sending date cannot be before the notice was prepared."))
        notice.status = NoticeStatus.SENT
        notice.sent_on = sent_on
        notice.save(update_fields=["status", "sent_on"])
        for invoice in notice.invoices.all():
            record(
                client=notice.client,
                invoice=invoice,
                kind=ActivityKind.SENT,
                author=author,
                text=_("Formal notice sent on %(day)s.") % {"day": formats.day(sent_on)},
            )
    return notice


def attach_receipt(notice: FormalNotice, upload: Any, *, author: Any) -> FormalNotice:
    """Keep the registered-letter receipt (a scan or the postal service's PDF)."""
    if notice.status != NoticeStatus.SENT:
        raise NoticeRefused(_("Attach the proof once the notice is marked as sent."))
    if upload.size > MAX_RECEIPT_BYTES:
        raise NoticeRefused(_("The file is too large (10 MB at most)."))
    name = upload.name.rsplit("/", 1)[-1][:200]
    notice.receipt.save(name, upload, save=False)
    notice.receipt_name = name
    notice.save(update_fields=["receipt", "receipt_name"])
    record(
        client=notice.client,
        kind=ActivityKind.ATTACHMENT,
        author=author,
        text=_("Proof of sending of the formal notice attached: %(name)s") % {"name": name},
    )
    return notice


def cancel(notice: FormalNotice, *, author: Any) -> FormalNotice:
    updated = FormalNotice.objects.filter(
        pk=notice.pk, status__in=(NoticeStatus.AWAITING_APPROVAL, NoticeStatus.APPROVED)
    ).update(status=NoticeStatus.CANCELLED)
    if not updated:
        raise NoticeRefused(_("A formal notice already sent cannot be cancelled."))
    record(
        client=notice.client,
        kind=ActivityKind.NOTE,
        author=author,
        text=_("Formal notice cancelled."),
    )
    notice.refresh_from_db()
    return notice
