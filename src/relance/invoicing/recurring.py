"""Recurring invoices (retainers): issued, and sent, on their date by the worker.

Each due schedule is claimed and issued in one transaction: if issuing is
refused (a mention is missing, say), nothing moves, the reason is kept on
the schedule for a person to see, and the next run tries again. Two workers
never issue the same period: the claim is a conditional update of
``next_date``.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.issuing import IssueError, create_draft
from relance.ledger.models import Invoice
from relance.rules.terms import add_months

from .issuing import issue_invoice
from .models import FREQUENCY_MONTHS, RecurringInvoice
from .sending import SendError, send_invoice


def period_end(start: date, months: int) -> date:
    return add_months(start, months) - timedelta(days=1)


def _issue_one(schedule: RecurringInvoice, as_of: date) -> Invoice | None:
    months = FREQUENCY_MONTHS[schedule.frequency]
    start = schedule.next_date
    following = add_months(start, months)
    still_active = schedule.end_date is None or following <= schedule.end_date
    with transaction.atomic():
        claimed = RecurringInvoice.objects.filter(
            pk=schedule.pk, next_date=start, active=True
        ).update(next_date=following, active=still_active, last_error="")
        if claimed != 1:
            return None  # another worker took this period
        client = schedule.client
        with translation.override(client.language):
            period = _("period %(start)s to %(end)s") % {
                "start": formats.day(start),
                "end": formats.day(period_end(start, months)),
            }
        lines = [
            (
                f"{row['description']} — {period}",
                Decimal(row["quantity"]),
                Decimal(row["unit_price"]),
                Decimal(row["vat_rate"]),
            )
            for row in schedule.lines
        ]
        draft = create_draft(
            client=client,
            lines=lines,
            currency=schedule.currency,
            issue_date=as_of,
            terms_template=schedule.terms_template,
            operation_category=schedule.organisation.operation_category,
            notes=schedule.name,
        )
        return issue_invoice(draft, as_of=as_of)


def run_due(as_of: date, organisation_id: int | None = None) -> list[Invoice]:
    """Issue (and send) every period due on or before ``as_of``."""
    issued: list[Invoice] = []
    due = RecurringInvoice.objects.filter(active=True, next_date__lte=as_of)
    if organisation_id is not None:
        due = due.filter(organisation_id=organisation_id)
    for schedule in due.select_related("organisation", "client"):
        while schedule.active and schedule.next_date <= as_of:
            try:
                invoice = _issue_one(schedule, as_of)
            except IssueError as exc:
                RecurringInvoice.objects.filter(pk=schedule.pk).update(last_error=str(exc))
                break
            if invoice is None:
                break
            issued.append(invoice)
            if schedule.send:
                # A failure is written on the timeline; the invoice stays issued.
                with contextlib.suppress(SendError):
                    send_invoice(invoice)
            schedule.refresh_from_db()
    return issued
