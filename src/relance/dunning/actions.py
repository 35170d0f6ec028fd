"""What a person does with the reminders: pause and lift, log a call, approve
or reject a message, mark a letter printed, decide about a message whose
delivery is uncertain, record why a client does not pay, switch a channel back on.

Every action writes the client's timeline and changes no issued invoice. Bad
input raises ``ActionError`` (a translated message for the page) with nothing
saved. Status changes are compare-and-set updates: two people clicking the
same button, or a worker moving the same row, change it once.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.models import ActivityKind, Client, Contact, Invoice, NonPaymentReason
from relance.ledger.models.timeline import record
from relance.organisations.models import Membership
from relance.rules.money import MAX_AMOUNT, round_money

from . import context as reminder_context
from . import dispatch, engine
from .models import (
    CallOutcome,
    Channel,
    ChannelState,
    Message,
    MessageStatus,
    Pause,
    PauseKind,
    PauseOutcome,
)

OPEN_STATUSES = ("issued", "partially_paid")
# The kinds a person starts by hand (a payment plan comes from the payments
# pages, a contact problem from a bounce or a wrong number).
MANUAL_KINDS = (PauseKind.DISPUTE, PauseKind.PROMISE, PauseKind.SNOOZE)


class ActionError(Exception):
    """Refused input, with a message a person can act on (already translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# -- pauses --------------------------------------------------------------------


def _check_invoice(client: Client, invoice: Invoice | None) -> None:
    if invoice is None:
        return
    if invoice.client_id != client.pk or invoice.organisation_id != client.organisation_id:
        raise ActionError(_("This invoice is not one of the client's."))
    if invoice.kind != "invoice" or invoice.status not in OPEN_STATUSES:
        raise ActionError(
            _("Invoice %(number)s is not open: there is nothing to pause.")
            % {"number": invoice.number or "—"}
        )


def _check_owner(client: Client, owner: Any) -> None:
    if owner is None:
        return
    if not Membership.objects.filter(user=owner, organisation_id=client.organisation_id).exists():
        raise ActionError(_("The owner must be a member of the organisation."))


def _amount(value: Any, currency: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ActionError(_("The promised amount is not a number.")) from exc
    if not amount.is_finite() or amount <= 0:
        raise ActionError(_("The promised amount must be more than zero."))
    if amount > MAX_AMOUNT:
        raise ActionError(_("The promised amount is too large."))
    return round_money(amount, currency)


def _pause_text(pause: Pause) -> str:
    target = (
        _("invoice %(number)s") % {"number": pause.invoice.number}
        if pause.invoice_id and pause.invoice is not None
        else _("every invoice of the client")
    )
    if pause.kind == PauseKind.PROMISE:
        if pause.amount:
            text = _("Promise to pay %(amount)s by %(day)s: reminders paused for %(target)s.") % {
                "amount": formats.money(pause.amount, pause.currency),
                "day": formats.day(pause.until),
                "target": target,
            }
        else:
            text = _("Promise to pay by %(day)s: reminders paused for %(target)s.") % {
                "day": formats.day(pause.until),
                "target": target,
            }
    elif pause.until:
        text = _("%(kind)s: reminders paused for %(target)s until %(day)s.") % {
            "kind": pause.get_kind_display(),
            "target": target,
            "day": formats.day(pause.until),
        }
    else:
        text = _("%(kind)s: reminders paused for %(target)s until someone lifts the pause.") % {
            "kind": pause.get_kind_display(),
            "target": target,
        }
    if pause.reason:
        text += "\n" + pause.reason
    return text


def pause(
    client: Client,
    *,
    kind: str,
    today: date,
    invoice: Invoice | None = None,
    reason: str = "",
    owner: Any = None,
    until: date | None = None,
    amount: Any = None,
    currency: str = "",
    author: Any = None,
) -> Pause:
    """Hold the ladder for the client (or one invoice): a dispute, a promise to
    pay, a snooze or a payment plan. Raises ActionError, saving nothing, on bad input."""
    if kind not in PauseKind.values or kind == PauseKind.CONTACT_PROBLEM:
        raise ActionError(_("Choose what holds the reminders: a dispute, a promise or a snooze."))
    _check_invoice(client, invoice)
    _check_owner(client, owner)
    reason = (reason or "").strip()
    if until is not None and until < today:
        raise ActionError(_("The date is in the past: choose today or a later day."))
    if kind == PauseKind.PROMISE and until is None:
        raise ActionError(_("Give the date the client promised to pay by."))
    if kind == PauseKind.SNOOZE:
        if until is None:
            raise ActionError(_("Give the day the reminders should resume."))
        if until <= today:
            raise ActionError(_("A snooze resumes on a later day than today."))
    if kind == PauseKind.DISPUTE and not reason:
        raise ActionError(_("Say what the client disputes."))
    promised: Decimal | None = None
    if amount not in (None, ""):
        if kind != PauseKind.PROMISE:
            raise ActionError(_("Only a promise to pay has an amount."))
        currency = currency or (invoice.currency if invoice else "") or _client_currency(client)
        promised = _amount(amount, currency)
    else:
        currency = ""
    with transaction.atomic():
        created = Pause.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            invoice=invoice,
            kind=kind,
            reason=reason,
            owner=owner,
            starts_on=today,
            until=until,
            amount=promised,
            currency=currency,
            created_by=author,
        )
        if kind == PauseKind.DISPUTE and not client.nonpayment_reason:
            Client.objects.filter(pk=client.pk, nonpayment_reason="").update(
                nonpayment_reason=NonPaymentReason.DISPUTE
            )
            client.nonpayment_reason = NonPaymentReason.DISPUTE
        record(
            client=client,
            invoice=invoice,
            kind=ActivityKind.STATUS,
            author=author,
            text=_pause_text(created),
        )
    return created


def _client_currency(client: Client) -> str:
    """The currency the client owes in (the oldest open invoice's), else the organisation's."""
    found = (
        Invoice.objects.filter(client=client, kind="invoice", status__in=OPEN_STATUSES)
        .order_by("due_date", "pk")
        .values_list("currency", flat=True)
        .first()
    )
    return found or client.organisation.currency


def lift(pause: Pause, *, today: date, author: Any = None) -> Pause:
    """End a pause by hand: the ladder resumes at the next run (no back-dating)."""
    with transaction.atomic():
        ended = Pause.objects.filter(pk=pause.pk, ended_on__isnull=True).update(
            ended_on=today, outcome=PauseOutcome.LIFTED
        )
        if not ended:
            raise ActionError(_("This pause has already ended."))
        pause.ended_on, pause.outcome = today, PauseOutcome.LIFTED
        record(
            client=pause.client,
            invoice=pause.invoice,
            kind=ActivityKind.STATUS,
            author=author,
            text=_("%(kind)s lifted: the reminders resume.") % {"kind": pause.get_kind_display()},
        )
        engine.wake(client_id=pause.client_id, invoice_id=pause.invoice_id, on=today)
    return pause


# -- calls -----------------------------------------------------------------------


def called_contacts(message: Message) -> list[Any]:
    """The people a call task is for: the client's billing contacts with a phone."""
    contacts, _numbers = reminder_context.recipients(message.client, Channel.CALL)
    return contacts


def log_call(
    message: Message,
    *,
    outcome: str,
    today: date,
    author: Any = None,
    note: str = "",
    promise_until: date | None = None,
    promise_amount: Any = None,
    dispute_reason: str = "",
) -> Message:
    """Close a call task with how it went; a promise or a dispute pauses the
    ladder, a wrong number marks the contacts and pauses with a task."""
    if message.channel != Channel.CALL:
        raise ActionError(_("Only a call task has an outcome to log."))
    if outcome not in CallOutcome.values:
        raise ActionError(_("Say how the call went."))
    note = (note or "").strip()
    client = message.client
    with transaction.atomic():
        done = Message.objects.filter(pk=message.pk, status=MessageStatus.TO_DO).update(
            status=MessageStatus.DONE, outcome=outcome, note=note, handled_by=author
        )
        if not done:
            raise ActionError(_("This call has already been logged."))
        invoices = dispatch.invoices_of(message)
        single = invoices[0] if len(invoices) == 1 else None
        extra = ""
        if outcome == CallOutcome.PROMISE:
            made = pause(
                client, kind=PauseKind.PROMISE, today=today, until=promise_until,
                amount=promise_amount, author=author, reason=note,
            )  # fmt: skip
            extra = _pause_text(made).split("\n")[0]
        elif outcome == CallOutcome.DISPUTE:
            made = pause(
                client, kind=PauseKind.DISPUTE, today=today, reason=dispute_reason, author=author
            )
            extra = made.reason
        elif outcome == CallOutcome.WRONG_NUMBER:
            contacts = called_contacts(message)
            reason = _("Wrong number (phone call of %(day)s)") % {"day": formats.day(today)}
            for contact in contacts:
                Contact.objects.filter(pk=contact.pk).update(
                    bounced_at=timezone.now(), bounce_reason=reason[:300]
                )
            names = ", ".join(f"{c.full_name} ({c.phone})" for c in contacts)
            dispatch.pause_for_contact_problem(
                client,
                _("Wrong number for %(who)s: find the right number.")
                % {"who": names or client.name},
                today,
            )
        text = _("Reminder call about %(numbers)s.") % {
            "numbers": ", ".join(i.number for i in invoices) or "—"
        }
        text = "\n".join(p for p in (text, extra, note) if p)
        record(
            client=client,
            invoice=single,
            kind=ActivityKind.CALL,
            author=author,
            text=text,
            call_outcome=outcome,
        )
    message.refresh_from_db()
    return message


# -- the outbox --------------------------------------------------------------------


def _numbers(message: Message) -> str:
    return ", ".join(i.number for i in dispatch.invoices_of(message)) or "—"


def approve(message: Message, *, author: Any, now: datetime) -> bool:
    """Let a message that needed approval go (it keeps its sending time).
    False when it was no longer waiting (approved or rejected meanwhile)."""
    with transaction.atomic():
        changed = Message.objects.filter(
            pk=message.pk, status=MessageStatus.AWAITING_APPROVAL
        ).update(status=MessageStatus.QUEUED, handled_by=author)
        if not changed:
            return False
        record(
            client=message.client,
            kind=ActivityKind.NOTE,
            author=author,
            text=_("%(channel)s reminder (%(tone)s) about %(numbers)s approved for sending.")
            % {
                "channel": message.get_channel_display(),
                "tone": message.get_tone_display().lower(),
                "numbers": _numbers(message),
            },
        )
    message.status = MessageStatus.QUEUED
    return True


def reject(message: Message, *, author: Any, reason: str = "") -> bool:
    """Do not send a message that needed approval. False when it was no longer waiting."""
    reason = (reason or "").strip()
    with transaction.atomic():
        changed = Message.objects.filter(
            pk=message.pk, status=MessageStatus.AWAITING_APPROVAL
        ).update(status=MessageStatus.CANCELLED, handled_by=author, note=reason)
        if not changed:
            return False
        text = _("%(channel)s reminder about %(numbers)s not approved: it will not be sent.") % {
            "channel": message.get_channel_display(),
            "numbers": _numbers(message),
        }
        record(
            client=message.client,
            kind=ActivityKind.NOTE,
            author=author,
            text="\n".join(p for p in (text, reason) if p),
        )
    message.status = MessageStatus.CANCELLED
    return True


def mark_printed(message: Message, *, author: Any, now: datetime) -> bool:
    """A reminder letter was printed and posted. False when already marked."""
    if message.channel != Channel.LETTER:
        raise ActionError(_("Only a letter is printed."))
    with transaction.atomic():
        changed = Message.objects.filter(pk=message.pk, status=MessageStatus.TO_DO).update(
            status=MessageStatus.DONE, sent_at=now, handled_by=author
        )
        if not changed:
            return False
        record(
            client=message.client,
            kind=ActivityKind.SENT,
            author=author,
            text=_("Reminder letter about %(numbers)s printed and posted.")
            % {"numbers": _numbers(message)},
        )
    message.status = MessageStatus.DONE
    return True


def resolve_uncertain(
    message: Message, *, delivered: bool, author: Any, now: datetime | None = None
) -> bool:
    """A person's decision on a message that failed or whose delivery is
    uncertain: the client got it (sent), or send it again (queued now). The
    resend keeps the Message-ID, so the client's mail can tell a duplicate.
    False when the message was no longer waiting for this decision."""
    now = now or timezone.now()
    if delivered:
        fields: dict[str, Any] = {"status": MessageStatus.SENT, "handled_by": author}
        if message.sent_at is None:
            fields["sent_at"] = now
        text = _("%(channel)s reminder about %(numbers)s: %(who)s checked that the client got it.")
    else:
        fields = {
            "status": MessageStatus.QUEUED,
            "not_before": now,
            "attempts": 0,
            "handled_by": author,
        }
        text = _("%(channel)s reminder about %(numbers)s: %(who)s asked to send it again.")
    with transaction.atomic():
        changed = Message.objects.filter(
            pk=message.pk, status__in=(MessageStatus.UNCERTAIN, MessageStatus.FAILED)
        ).update(**fields)
        if not changed:
            return False
        who = (author.get_full_name() or author.get_username()) if author else _("someone")
        record(
            client=message.client,
            kind=ActivityKind.NOTE,
            author=author,
            text=text
            % {
                "channel": message.get_channel_display(),
                "numbers": _numbers(message),
                "who": who,
            },
        )
    message.refresh_from_db()
    return True


def cancel(message: Message, *, author: Any, reason: str = "") -> bool:
    """Drop a task or a message a person will not pursue (a call no longer
    needed, a failed message not worth resending). False when already handled."""
    reason = (reason or "").strip()
    with transaction.atomic():
        changed = Message.objects.filter(
            pk=message.pk,
            status__in=(MessageStatus.TO_DO, MessageStatus.FAILED, MessageStatus.UNCERTAIN),
        ).update(status=MessageStatus.CANCELLED, handled_by=author, note=reason)
        if not changed:
            return False
        text = _("%(channel)s reminder about %(numbers)s dropped.") % {
            "channel": message.get_channel_display(),
            "numbers": _numbers(message),
        }
        record(
            client=message.client,
            kind=ActivityKind.NOTE,
            author=author,
            text="\n".join(p for p in (text, reason) if p),
        )
    message.status = MessageStatus.CANCELLED
    return True


# -- the client and the organisation ----------------------------------------------


def set_nonpayment_reason(client: Client, reason: str, detail: str, *, author: Any) -> Client:
    """Why the client does not pay (fixed list plus text); empty clears it."""
    reason = reason or ""
    detail = (detail or "").strip()
    if reason and reason not in NonPaymentReason.values:
        raise ActionError(_("Choose a reason from the list."))
    if not reason and detail:
        raise ActionError(_("Choose a reason from the list before giving details."))
    with transaction.atomic():
        Client.objects.filter(pk=client.pk).update(
            nonpayment_reason=reason, nonpayment_detail=detail
        )
        client.nonpayment_reason, client.nonpayment_detail = reason, detail
        if reason:
            text = _("Reason for non-payment: %(reason)s") % {
                "reason": NonPaymentReason(reason).label
            }
            if detail:
                text += "\n" + detail
        else:
            text = _("Reason for non-payment cleared.")
        record(client=client, kind=ActivityKind.STATUS, author=author, text=text)
    return client


def enable_channel(organisation: Any, channel: str, *, author: Any) -> bool:
    """Switch a channel back on after its credentials were fixed: the queued
    messages leave at the next dispatch. False when it was not disabled."""
    deleted, _detail = ChannelState.objects.filter(
        organisation=organisation, channel=channel
    ).delete()
    return bool(deleted)
