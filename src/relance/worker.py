"""The worker: the jobs that run on their own, each on its organisation's date.

``run_once`` does one pass and is what tests call with a fixed ``now``;
``relance worker`` repeats it every minute. Every job claims its work with a
conditional update, so two workers side by side never do the same thing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone

log = logging.getLogger(__name__)


@dataclass
class Pass:
    issued: list[str] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    reminders_fired: int = 0
    reminders_sent: int = 0
    reminders_failed: int = 0
    thanks_sent: int = 0


def run_once(now: datetime | None = None, *, worker: str | None = None) -> Pass:
    from relance.dunning import scheduler
    from relance.invoicing import recurring, sending
    from relance.organisations.models import Organisation

    now = now or timezone.now()
    result = Pass()
    for org in Organisation.objects.filter(pk__in=_with_work_due(now)):
        as_of = org.today(now)  # the organisation's own calendar day
        for invoice in recurring.run_due(as_of, organisation_id=org.pk):
            result.issued.append(invoice.number)
        sent, failed = sending.send_due(as_of, organisation_id=org.pk)
        result.sent += sent
        result.failed += failed
    # The reminders: each organisation's daily run at its hour, then the outbox.
    tick = scheduler.tick(now, worker=worker)
    result.reminders_fired = sum(r.fired for r in tick.runs)
    if tick.delivered is not None:
        result.reminders_sent = tick.delivered.sent + tick.delivered.letters
        result.reminders_failed = tick.delivered.failed + tick.delivered.uncertain
    from relance.ledger.thanks import send_thanks

    result.thanks_sent, _failed = send_thanks(now)
    return result


def _with_work_due(now: datetime) -> set[int]:
    """Organisations with a recurring invoice or a send due by the latest local
    day anywhere (UTC+14): each is then checked on its own day. Both lookups
    use a partial index, so an idle minute reads almost nothing."""
    from relance.invoicing.models import RecurringInvoice
    from relance.ledger.models import Invoice

    horizon = (now.astimezone(UTC) + timedelta(hours=14)).date()
    recurring = RecurringInvoice.objects.filter(active=True, next_date__lte=horizon)
    sends = Invoice.objects.filter(send_on__lte=horizon).exclude(status="draft")
    return set(recurring.values_list("organisation_id", flat=True)) | set(
        sends.values_list("organisation_id", flat=True)
    )
