"""What the ladder's escalation steps do once they fired.

The daily run records a fired (or, catching up, skipped) ``work_stop``,
``formal_notice``, ``handoff`` or ``write_off_proposal`` step as a Reminder row
(its message, if the step has a channel, goes out as any reminder does). After
the run this module acts on each such row exactly once:

- work_stop: the client is put on hold (its step message tells them; a step
  without a channel has the work-stop email sent);
- formal_notice: a formal notice is prepared and waits for approval;
- handoff / write_off_proposal: a proposal a person takes up or declines.

``StepDone`` (unique per reminder) records that a step was handled and how.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from relance import formats
from relance.dunning.models import ESCALATION_KINDS, Reminder, ReminderStatus
from relance.ledger.models import ActivityKind, ClientStatus, Invoice
from relance.ledger.models.timeline import record
from relance.rules import escalation as rules

from . import ends, holds, notices
from .models import (
    Escalation,
    EscalationKind,
    EscalationStatus,
    FormalNotice,
    NoticeStatus,
    StepDone,
)

OPEN_NOTICES = (NoticeStatus.AWAITING_APPROVAL, NoticeStatus.APPROVED)

KINDS = ESCALATION_KINDS
# The kinds as literals, as in the partial index's condition: SQLite uses a partial
# index only for a query that repeats its condition, and bound parameters do not.
_ESCALATION = RawSQL(
    f'"{Reminder._meta.db_table}"."kind" IN ({", ".join(repr(str(k)) for k in KINDS)})',
    [],
    output_field=BooleanField(),
)
_KIND = {"handoff": EscalationKind.COLLECTION, "write_off_proposal": EscalationKind.WRITE_OFF}
_ADVICE = {
    rules.Option.AGENCY: EscalationKind.COLLECTION,
    rules.Option.SMALL_CLAIMS: EscalationKind.COURT,
    rules.Option.ORDER_FOR_PAYMENT: EscalationKind.COURT,
    rules.Option.WRITE_OFF: EscalationKind.WRITE_OFF,
}


def pending(organisation: Any, as_of: date) -> list[Reminder]:
    """Escalation steps fired up to ``as_of`` that nothing has acted on yet."""
    return list(pending_query(organisation, as_of))


def pending_query(organisation: Any, as_of: date) -> Any:
    return (
        Reminder.objects.filter(
            _ESCALATION,
            organisation=organisation,
            # A run that catches up records earlier steps as skipped: a state change
            # (unlike a message) still applies, so those are acted on too.
            status__in=(ReminderStatus.FIRED, ReminderStatus.SKIPPED),
            fired_on__lte=as_of,
            escalation_done__isnull=True,
        )
        .select_related("client__organisation", "invoice")
        .order_by("fired_on", "pk")
    )


def act(organisation: Any, as_of: date) -> int:
    """Act on every escalation step fired up to ``as_of`` and not acted on yet."""
    done = 0
    for reminder in pending(organisation, as_of):
        try:
            with transaction.atomic():
                # Claimed first: a second worker's insert fails and it moves on.
                StepDone.objects.create(
                    organisation_id=reminder.organisation_id, reminder=reminder, done_on=as_of
                )
                try:
                    with transaction.atomic():
                        outcome = _act_one(reminder, as_of)
                except (holds.HoldRefused, notices.NoticeRefused) as exc:
                    # Refused by the rules (mixed currencies…): noted, never retried forever.
                    outcome = f"refused: {exc}"[:200]
                    record(client=reminder.client, kind=ActivityKind.NOTE, text=str(exc))
                StepDone.objects.filter(reminder=reminder).update(outcome=outcome)
        except IntegrityError:
            continue
        done += 1
        if outcome == "on hold" and not reminder.channels:
            # A step without a channel of its own: the client is still told, by email,
            # once the hold is committed (never inside the transaction).
            _tell(reminder, as_of)
    return done


def _tell(reminder: Reminder, as_of: date) -> None:
    try:
        holds.notify(reminder.client, as_of=as_of)
    except holds.NotifyFailed as exc:
        record(client=reminder.client, kind=ActivityKind.NOTE, text=str(exc))


def _act_one(reminder: Reminder, as_of: date) -> str:
    """Do what the step asks; returns what was done (or why nothing was)."""
    client = reminder.client
    client.refresh_from_db(fields=["status"])
    invoice = reminder.invoice
    if client.status in (ClientStatus.INSOLVENT, ClientStatus.CLOSED, ClientStatus.IN_COLLECTION):
        return "client stopped"
    if reminder.kind == "work_stop":
        if client.status != ClientStatus.ACTIVE:
            return "already on hold"
        holds.put_on_hold(
            client,
            reason=_("reminder policy step of %(day)s") % {"day": formats.day(reminder.fired_on)},
            as_of=as_of,
            reminder=reminder,
        )
        return "on hold"
    if reminder.kind == "formal_notice":
        if FormalNotice.objects.filter(client=client, status__in=OPEN_NOTICES).exists():
            return "notice already open"
        overdue = list(Invoice.objects.filter(client=client).overdue(as_of))
        if not overdue:
            return "nothing overdue"
        notices.prepare(client, overdue, as_of=as_of, reminder=reminder)
        return "notice prepared"
    kind = _KIND[reminder.kind]
    if reminder.kind == "handoff":
        # The end of the ladder proposes what the rules advise for this debt (amount, age):
        # an agency, the court (small claims, order for payment) or a write-off.
        advice = ends.proposal(client, as_of)
        kind = _ADVICE.get(advice.advice if advice else None, kind)
    if Escalation.objects.filter(
        client=client, kind=kind, status__in=(EscalationStatus.PROPOSED, EscalationStatus.OPEN)
    ).exists():
        return "already proposed"
    if not invoice.is_open:
        return "invoice settled"
    proposal = Escalation.objects.create(
        organisation_id=client.organisation_id,
        client=client,
        kind=kind,
        status=EscalationStatus.PROPOSED,
        reason=_("Proposed by the reminder policy."),
        amount=invoice.balance,
        currency=invoice.currency,
        opened_on=as_of,
        reminder=reminder,
    )
    proposal.invoices.set([invoice])
    record(
        client=client,
        kind=ActivityKind.NOTE,
        text=_("Proposed by the reminder policy: %(what)s") % {"what": proposal.get_kind_display()},
    )
    return "proposed"
