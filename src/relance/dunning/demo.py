"""The demo's reminder history: the last weeks of daily runs, as if relance had
been chasing all along.

The real engine decides each past business day (so the history is what the
ladder does, not an invented one); the messages of past days are marked as
delivered then, without sending anything. Today's run is left to the worker.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q

from relance.ledger.models import Client, Invoice, InvoiceKind
from relance.rules.terms import is_business_day

from . import chases, engine
from .models import Chase, Message, MessageStatus, Policy

HISTORY_DAYS = 21


def populate(organisation: Any, as_of: date, *, days: int = HISTORY_DAYS) -> None:
    ids = Invoice.objects.filter(
        organisation=organisation, kind=InvoiceKind.INVOICE, status__in=engine.OPEN
    ).values_list("pk", flat=True)
    chases.open_for(ids)
    # Long-standing clients with a regular payment cycle get the gentle policy (seed 004).
    gentle = Policy.objects.filter(organisation=organisation, builtin="gentle").first()
    if gentle is not None:
        Client.objects.filter(organisation=organisation, cycle_months__isnull=False).update(
            dunning_policy=gentle
        )
    first = as_of - timedelta(days=days)
    # Older history is not replayed: the chases start at the first replayed day.
    Chase.objects.filter(organisation=organisation).filter(
        Q(next_action_on__lt=first) | Q(next_action_on__isnull=True)
    ).update(next_action_on=first)
    day = first
    while day < as_of:
        if is_business_day(day, organisation.country or "FR"):
            engine.run(organisation, day)
            _delivered(organisation, day, as_of)
        day += timedelta(days=1)


def _delivered(organisation: Any, day: date, as_of: date) -> None:
    """Past days' messages went out that morning; past calls were made, letters posted."""
    at = datetime.combine(day, time(9, 5), tzinfo=organisation.tzinfo).astimezone(UTC)
    todays = Message.objects.filter(organisation=organisation, day=day)
    todays.filter(
        status__in=(MessageStatus.QUEUED, MessageStatus.AWAITING_APPROVAL),
        channel__in=("email", "sms"),
    ).update(status=MessageStatus.SENT, sent_at=at, provider_id="demo", attempts=1)
    # The last week's calls stay on the to-do list; older ones were made.
    if day < as_of - timedelta(days=7):
        todays.filter(status=MessageStatus.TO_DO).update(
            status=MessageStatus.DONE, outcome="no_answer", sent_at=at
        )
