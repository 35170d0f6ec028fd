"""Booking late fees: when a late-fee notice has given its 48 hours, the fees
due that day become fee documents (``LateFee``) that reference the invoice.

Called by the daily run (scheduler tick and ``relance run``) after the
ladder has decided. Each fired late-fee reminder books, as of the day its
notice expired (fired_on + 48 h):

- the interest of the days no earlier fee document covered,
- the fixed indemnity (and a custom fixed fee) once per invoice,

on an invoice still open, of a client not insolvent, outside a payment plan
that waives fees. The database refuses a second row for the same (invoice,
reminder, kind) and a second indemnity per invoice: reruns, two workers and
crashes book once. A missing rate books nothing and is reported; the next
run books once the rate is imported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from relance import formats
from relance.dunning.context import LATE_FEE_NOTICE_HOURS
from relance.dunning.models import Reminder, ReminderStatus, StepKind
from relance.ledger.models import ActivityKind, ClientStatus, Invoice
from relance.ledger.models.timeline import record
from relance.rules import interest, law
from relance.rules.rates import MissingRate, RateTable

from . import accrual
from .models import FeeKind, FeeSettings, LateFee

log = logging.getLogger(__name__)

NOTICE = timedelta(hours=LATE_FEE_NOTICE_HOURS)
OPEN = ("issued", "partially_paid")


class WaiveError(ValueError):
    pass


@dataclass
class BookingReport:
    booked: int = 0  # fee documents created
    blocked: list[str] = field(default_factory=list)  # "F-0012: no ECB_MRO rate for …"


def effective_day(reminder: Reminder) -> date:
    """The day the notice's 48 hours are over: fees are booked as of that day."""
    return reminder.fired_on + timedelta(days=NOTICE.days)


def due_reminders(organisation: Any, as_of: date) -> Any:
    """Fired late-fee notices whose 48 hours are over, on open invoices, with
    no fee booked yet."""
    return (
        Reminder.objects.filter(
            organisation=organisation,
            kind=StepKind.LATE_FEE_NOTICE,
            status=ReminderStatus.FIRED,
            fired_on__lte=as_of - timedelta(days=NOTICE.days),
            invoice__kind="invoice",
            invoice__status__in=OPEN,
        )
        .exclude(late_fees__isnull=False)
        .select_related("invoice")
        .order_by("fired_on", "pk")
    )


def book_due(organisation: Any, as_of: date) -> BookingReport:
    """Book the fees every expired late-fee notice announced (idempotent)."""
    report = BookingReport()
    table = accrual.rate_table()
    settings = FeeSettings.for_org(organisation)
    with translation.override(organisation.locale or "fr"):
        for reminder in due_reminders(organisation, as_of):
            try:
                report.booked += book_reminder(reminder, table=table, settings=settings)
            except (MissingRate, law.MissingLegalRule, interest.ContractRateTooLow) as exc:
                report.blocked.append(f"{reminder.invoice.number}: {exc}")
    return report


def _plan_waives(invoice: Invoice) -> bool:
    return invoice.payment_plans.filter(status="active", fees_waived=True).exists()


def book_reminder(reminder: Reminder, *, table: RateTable, settings: FeeSettings) -> int:
    """Book one reminder's fees; returns how many fee documents were created."""
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update()
            .select_related("client", "organisation")
            .get(pk=reminder.invoice_id)
        )
        client = invoice.client
        if not invoice.is_open or client.status == ClientStatus.INSOLVENT or _plan_waives(invoice):
            return 0
        day = effective_day(reminder)
        existing = list(invoice.late_fees.all())
        covered = max(
            (f.period_end for f in existing if f.kind == FeeKind.INTEREST and f.period_end),
            default=None,
        )
        since = covered + timedelta(days=1) if covered else None
        fees = interest.compute_parts(
            accrual.terms(invoice, settings), accrual.parts(invoice, day), day, table, since=since
        )
        kinds = {f.kind for f in existing}
        made = []
        if fees.interest > 0:
            made.append(_interest_fee(invoice, reminder, day, fees))
        if fees.indemnity > 0 and FeeKind.INDEMNITY not in kinds:
            made.append(
                _fee(
                    invoice, reminder, day, FeeKind.INDEMNITY, fees.indemnity, fees.indemnity_source
                )
            )
        if fees.fixed > 0 and FeeKind.FIXED not in kinds:
            made.append(_fee(invoice, reminder, day, FeeKind.FIXED, fees.fixed, fees.fixed_source))
        created = [fee for fee in made if _save_once(fee)]
        if created:
            record(
                client=client, invoice=invoice, kind=ActivityKind.STATUS, text=_booked_text(created)
            )
        return len(created)


def _fee(
    invoice: Invoice, reminder: Reminder, day: date, kind: str, amount: Decimal, source: str
) -> LateFee:
    return LateFee(
        organisation_id=invoice.organisation_id,
        client_id=invoice.client_id,
        invoice=invoice,
        reminder=reminder,
        kind=kind,
        amount=amount,
        currency=invoice.currency,
        booked_on=day,
        source=source,
    )


def _interest_fee(invoice: Invoice, reminder: Reminder, day: date, fees: interest.Fees) -> LateFee:
    fee = _fee(
        invoice,
        reminder,
        day,
        FeeKind.INTEREST,
        fees.interest,
        "; ".join(dict.fromkeys(line.source for line in fees.lines)),
    )
    fee.period_start, fee.period_end = fees.lines[0].start, day
    rates = {line.rate for line in fees.lines}
    fee.rate = rates.pop() if len(rates) == 1 else None
    fee.lines = [
        {
            "from": line.start.isoformat(),
            "to": line.end.isoformat(),
            "base": str(line.base),
            "rate": str(line.rate),
            "days": line.days,
            "amount": str(line.amount),
            "source": line.source,
        }
        for line in fees.lines
    ]
    return fee


def _save_once(fee: LateFee) -> bool:
    """Insert the fee unless the database already holds it (a rerun, another worker)."""
    try:
        with transaction.atomic():
            fee.save()
        return True
    except IntegrityError:
        return False


def _booked_text(fees: list[LateFee]) -> str:
    parts = [f"{fee.get_kind_display()} {formats.money(fee.amount, fee.currency)}" for fee in fees]
    return _("Late fees booked: %(fees)s.") % {"fees": ", ".join(parts)}


def waive(fee: LateFee, *, reason: str, today: date, author: Any = None) -> LateFee:
    """Waive a booked fee with a reason kept on the timeline (the row stays)."""
    reason = reason.strip()
    if not reason:
        raise WaiveError(_("Say why the fee is waived."))
    with transaction.atomic():
        done = LateFee.objects.filter(pk=fee.pk, waived_on__isnull=True).update(
            waived_on=today, waived_reason=reason, waived_by=author
        )
        if not done:
            raise WaiveError(_("This fee has already been waived."))
        fee.waived_on, fee.waived_reason, fee.waived_by = today, reason, author
        record(
            client=fee.client,
            invoice=fee.invoice,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("%(fee)s of %(amount)s waived: %(reason)s")
            % {
                "fee": fee.get_kind_display(),
                "amount": formats.money(fee.amount, fee.currency),
                "reason": reason,
            },
        )
    return fee
