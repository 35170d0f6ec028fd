"""The record of the chase: one list, newest first, of what happened to a
client or an invoice — the ledger's timeline (notes, calls, payments…) merged
with the dunning engine's own rows (each reminder decided or skipped, each
message and attempt at delivering it, each pause and how it ended) — and its
exports as CSV and as a dated PDF.

Also ``upcoming``: an invoice's next reminder in plain words, decided by the
same ladder rules the daily run uses.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import formats as django_formats
from django.utils import timezone
from django.utils.translation import gettext as _

from relance import formats
from relance.ledger.models import Activity, Client, Invoice
from relance.rules import ladder
from relance.rules.terms import is_business_day

from . import engine
from .models import (
    Attempt,
    AttemptStatus,
    Channel,
    Chase,
    DunningSettings,
    Message,
    MessageStatus,
    Pause,
    PauseKind,
    PauseOutcome,
    Reminder,
    ReminderStatus,
    Run,
    Step,
    StepKind,
    Tone,
)

# Badge colours of the pages (relance.css): ok, warn, bad or muted.
MESSAGE_BADGES = {
    MessageStatus.SENT: "ok",
    MessageStatus.DONE: "ok",
    MessageStatus.FAILED: "bad",
    MessageStatus.UNCERTAIN: "bad",
    MessageStatus.AWAITING_APPROVAL: "warn",
    MessageStatus.TO_DO: "warn",
    MessageStatus.CANCELLED: "muted",
}


@dataclass(frozen=True)
class Entry:
    """One line of the record. ``day_only``: the row knows its day, not its hour."""

    at: datetime
    source: str  # activity, reminder, message, attempt, pause
    label: str
    text: str
    client_id: int
    client_name: str
    invoice_id: int | None = None
    invoice_number: str = ""
    status: str = ""
    badge: str = ""
    author: str = ""
    day_only: bool = False
    order: int = 0  # ties: a decision before the message before its attempts

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.at, self.order)


# -- plain-language steps ----------------------------------------------------------


def step_text(step: Step | None, fallback: str = "") -> str:
    """The step in plain words ("4 days after the due date: phone call (friendly)")
    when the policies' describer is there; else its name."""
    if step is None:
        return fallback
    try:
        from . import describe

        described = str(describe.describe_step(step))
    except (ImportError, AttributeError):
        return str(step)
    return f"{step.name} — {described}" if step.name else described


def _channels_text(channels: str | list[str] | tuple[str, ...]) -> str:
    if isinstance(channels, str):
        channels = [c for c in channels.split(",") if c]
    return ", ".join(str(Channel(c).label) for c in channels if c in Channel.values)


# -- gathering -------------------------------------------------------------------


def _who(user: Any) -> str:
    if user is None:
        return "relance"
    return user.get_full_name() or user.get_username()


def _start_of(day: date, tz: Any) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def entries(
    organisation: Any,
    *,
    client: Client | None = None,
    invoice: Invoice | None = None,
    activities: bool = True,
) -> list[Entry]:
    """Everything recorded about the client (or the invoice), newest first.
    ``activities=False`` leaves out the ledger's timeline (the page shows it apart)."""
    if client is None and invoice is None:
        raise ValueError("entries() needs a client or an invoice")
    if invoice is not None:
        client = invoice.client
    assert client is not None
    if client.organisation_id != organisation.pk:
        raise ValueError("the client is not the organisation's")
    tz = organisation.tzinfo
    found: list[Entry] = []
    if activities:
        found += _activities(organisation, client, invoice)
    reminders = _reminders(organisation, client, invoice, tz)
    found += reminders
    messages = _messages(organisation, client, invoice)
    found += [_message_entry(m, numbers, client) for m, numbers in messages]
    found += _attempts([m for m, _n in messages], client)
    found += _pauses(organisation, client, invoice, tz)
    found.sort(key=lambda e: e.sort_key, reverse=True)
    return found


def _activities(organisation: Any, client: Client, invoice: Invoice | None) -> list[Entry]:
    rows = Activity.objects.filter(organisation=organisation, client=client)
    if invoice is not None:
        rows = rows.filter(invoice=invoice)
    result = []
    for activity in rows.select_related("invoice", "author"):
        text = activity.text
        if activity.call_outcome:
            text = f"{activity.get_call_outcome_display()}. {text}".strip()
        result.append(
            Entry(
                at=activity.at,
                source="activity",
                label=str(activity.get_kind_display()),
                text=text,
                client_id=client.pk,
                client_name=client.name,
                invoice_id=activity.invoice_id,
                invoice_number=activity.invoice.number if activity.invoice else "",
                author=_who(activity.author),
                order=3,
            )
        )
    return result


def _reminders(organisation: Any, client: Client, invoice: Invoice | None, tz: Any) -> list[Entry]:
    rows = Reminder.objects.filter(organisation=organisation, client=client)
    if invoice is not None:
        rows = rows.filter(invoice=invoice)
    rows = list(rows.select_related("step", "invoice", "chase__installment"))
    started = dict(
        Run.objects.filter(
            organisation=organisation, day__in={r.fired_on for r in rows}
        ).values_list("day", "started_at")
    )
    result = []
    for reminder in rows:
        at = started.get(reminder.fired_on)
        if at is not None and timezone.localtime(at, tz).date() != reminder.fired_on:
            at = None  # a run for another day (--as-of): the day is all we know
        fallback = _("%(kind)s (%(tone)s) by %(channels)s") % {
            "kind": StepKind(reminder.kind).label if reminder.kind in StepKind.values else "",
            "tone": str(Tone(reminder.tone).label).lower() if reminder.tone in Tone.values else "",
            "channels": _channels_text(reminder.channels),
        }
        text = step_text(reminder.step, fallback)
        if reminder.occurrence:
            text += " " + _("(repeat %(n)d)") % {"n": reminder.occurrence}
        if reminder.planned_on != reminder.fired_on:
            text += " — " + _("planned for %(planned)s, decided on %(day)s") % {
                "planned": formats.day(reminder.planned_on),
                "day": formats.day(reminder.fired_on),
            }
        installment = reminder.chase.installment if reminder.chase_id else None
        if installment is not None:
            text += " — " + _("installment due %(day)s") % {
                "day": formats.day(installment.due_date)
            }
        fired = reminder.status == ReminderStatus.FIRED
        result.append(
            Entry(
                at=at or _start_of(reminder.fired_on, tz),
                source="reminder",
                label=_("Reminder step") if fired else _("Step skipped"),
                text=text,
                client_id=client.pk,
                client_name=client.name,
                invoice_id=reminder.invoice_id,
                invoice_number=reminder.invoice.number,
                status=str(reminder.get_status_display()),
                badge="" if fired else "muted",
                day_only=at is None,
                order=0,
            )
        )
    return result


def message_numbers(client_id: int, days: set[date]) -> dict[tuple[date, str], list[str]]:
    """(day, channel) -> the invoice numbers the client's messages of those days list."""
    found: dict[tuple[date, str], list[str]] = defaultdict(list)
    rows = Reminder.objects.filter(
        client_id=client_id, fired_on__in=days, status=ReminderStatus.FIRED
    ).values_list("fired_on", "channels", "invoice__number", "invoice_id")
    for day, channels, number, _invoice_id in rows.order_by("invoice__due_date", "invoice_id"):
        for channel in channels.split(","):
            if number not in found[(day, channel)]:
                found[(day, channel)].append(number)
    return found


def _messages(
    organisation: Any, client: Client, invoice: Invoice | None
) -> list[tuple[Message, list[str]]]:
    rows = Message.objects.filter(organisation=organisation, client=client)
    wanted: set[tuple[date, str]] | None = None
    if invoice is not None:
        wanted = set()
        for day, channels in Reminder.objects.filter(
            invoice=invoice, status=ReminderStatus.FIRED
        ).values_list("fired_on", "channels"):
            wanted.update((day, c) for c in channels.split(","))
        rows = rows.filter(day__in={day for day, _c in wanted})
    messages = [
        m
        for m in rows.select_related("handled_by").order_by("day", "pk")
        if wanted is None or (m.day, m.channel) in wanted
    ]
    numbers = message_numbers(client.pk, {m.day for m in messages})
    return [(m, numbers.get((m.day, m.channel), [])) for m in messages]


def message_summary(message: Message, numbers: list[str]) -> str:
    """What a message is, in one paragraph: channel, tone, invoices, to whom, what happened."""
    parts = [
        _("%(channel)s reminder (%(tone)s) about %(numbers)s")
        % {
            "channel": message.get_channel_display(),
            "tone": str(message.get_tone_display()).lower(),
            "numbers": ", ".join(numbers) or "—",
        }
    ]
    if message.recipients:
        parts.append(_("to %(to)s") % {"to": ", ".join(message.recipients)})
    if message.subject:
        parts.append(_("subject: %(subject)s") % {"subject": message.subject})
    if message.message_id:
        parts.append(_("Message-ID: %(id)s") % {"id": message.message_id})
    if message.outcome:
        parts.append(_("outcome: %(outcome)s") % {"outcome": message.get_outcome_display()})
    if message.note:
        parts.append(message.note)
    if message.last_error and message.status in (
        MessageStatus.FAILED,
        MessageStatus.UNCERTAIN,
        MessageStatus.CANCELLED,
    ):
        parts.append(_("error: %(error)s") % {"error": message.last_error})
    return "; ".join(parts)


def _message_entry(message: Message, numbers: list[str], client: Client) -> Entry:
    return Entry(
        at=message.sent_at or message.created_at,
        source="message",
        label=str(message.get_channel_display()),
        text=message_summary(message, numbers),
        client_id=client.pk,
        client_name=client.name,
        invoice_number=", ".join(numbers),
        status=str(message.get_status_display()),
        badge=MESSAGE_BADGES.get(message.status, ""),
        author=_who(message.handled_by) if message.handled_by_id else "relance",
        order=1,
    )


def attempt_text(attempt: Attempt) -> str:
    parts = [
        _("took %(ms)s ms") % {"ms": formats.number(attempt.duration_ms)},
    ]
    if attempt.provider_id:
        parts.insert(0, _("provider id %(id)s") % {"id": attempt.provider_id})
    if attempt.error:
        parts.append(_("error: %(error)s") % {"error": attempt.error})
    return "; ".join(parts)


def _attempts(messages: list[Message], client: Client) -> list[Entry]:
    by_id = {m.pk: m for m in messages}
    result = []
    for attempt in Attempt.objects.filter(message_id__in=by_id).order_by("started_at", "pk"):
        message = by_id[attempt.message_id]
        result.append(
            Entry(
                at=attempt.started_at,
                source="attempt",
                label=_("Attempt (%(channel)s)") % {"channel": message.get_channel_display()},
                text=attempt_text(attempt),
                client_id=client.pk,
                client_name=client.name,
                status=str(attempt.get_status_display()),
                badge="ok" if attempt.status == AttemptStatus.SENT else "bad",
                author=attempt.worker,
                order=2,
            )
        )
    return result


def pause_text(pause: Pause) -> str:
    parts = [
        _("from %(day)s") % {"day": formats.day(pause.starts_on)},
        _("until %(day)s") % {"day": formats.day(pause.until)}
        if pause.until
        else _("until lifted"),
    ]
    if pause.kind == PauseKind.PROMISE and pause.amount:
        parts.append(
            _("promised %(amount)s") % {"amount": formats.money(pause.amount, pause.currency)}
        )
    if pause.owner_id:
        parts.append(_("owner: %(who)s") % {"who": _who(pause.owner)})
    text = "; ".join(parts)
    if pause.reason:
        text += "\n" + pause.reason
    return text


def _pauses(organisation: Any, client: Client, invoice: Invoice | None, tz: Any) -> list[Entry]:
    rows = Pause.objects.filter(organisation=organisation, client=client)
    if invoice is not None:
        rows = rows.filter(Q(invoice=invoice) | Q(invoice__isnull=True))
    result = []
    for pause in rows.select_related("invoice", "owner", "created_by"):
        common = {
            "client_id": client.pk,
            "client_name": client.name,
            "invoice_id": pause.invoice_id,
            "invoice_number": pause.invoice.number if pause.invoice else "",
        }
        result.append(
            Entry(
                at=pause.created_at,
                source="pause",
                label=_("Paused: %(kind)s") % {"kind": pause.get_kind_display()},
                text=pause_text(pause),
                badge="warn",
                author=_who(pause.created_by) if pause.created_by_id else "relance",
                order=4,
                **common,
            )
        )
        if pause.ended_on:
            result.append(
                Entry(
                    at=_start_of(pause.ended_on, tz),
                    source="pause",
                    label=_("Pause ended: %(kind)s") % {"kind": pause.get_kind_display()},
                    text=_("ended on %(day)s") % {"day": formats.day(pause.ended_on)},
                    status=str(pause.get_outcome_display()) if pause.outcome else "",
                    badge="bad" if pause.outcome == PauseOutcome.BROKEN else "ok",
                    day_only=True,
                    order=5,
                    **common,
                )
            )
    return result


# -- exports -----------------------------------------------------------------------


def when_text(entry: Entry, tz: Any) -> str:
    """The entry's moment as a person reads it, in the organisation's time zone."""
    local = timezone.localtime(entry.at, tz)
    if entry.day_only:
        return formats.day(local.date())
    return django_formats.date_format(local, "SHORT_DATETIME_FORMAT")


def as_csv(rows: list[Entry], tz: Any = None) -> str:
    """The record as CSV (UTF-8, comma separated), one row per entry; moments in
    ISO 8601 in the organisation's time zone (a day alone for day-only rows)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [_("When"), _("Client"), _("Invoice"), _("Type"), _("Status"), _("What"), _("By")]
    )
    for entry in rows:
        local = timezone.localtime(entry.at, tz) if tz is not None else entry.at
        when = local.date().isoformat() if entry.day_only else local.isoformat(timespec="seconds")
        writer.writerow(
            [
                when,
                entry.client_name,
                entry.invoice_number,
                entry.label,
                entry.status,
                entry.text,
                entry.author,
            ]
        )
    return out.getvalue()


def as_pdf(
    rows: list[Entry],
    title: str,
    *,
    organisation: Any,
    subtitle: str = "",
    generated_at: datetime | None = None,
) -> bytes:
    """The record as a dated PDF: who chased whom, generated when, every entry."""
    from weasyprint import HTML

    tz = organisation.tzinfo
    generated = timezone.localtime(generated_at or timezone.now(), tz)
    html = render_to_string(
        "dunning/pages/ops/timeline_pdf.html",
        {
            "title": title,
            "subtitle": subtitle,
            "organisation": organisation,
            "generated": django_formats.date_format(generated, "DATETIME_FORMAT"),
            "rows": [{"entry": e, "when": when_text(e, tz)} for e in rows],
        },
    )
    return HTML(string=html).write_pdf()


# -- what comes next -----------------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    """An invoice's (or installment's) next reminder, or why there is none."""

    day: date | None
    text: str
    channels: str = ""
    installment: str = ""
    held: str = ""  # why it waits (a pause, the client's cycle)


def _active_pauses(client: Client, invoice: Invoice) -> list[Pause]:
    return list(
        Pause.objects.filter(client=client, ended_on__isnull=True).filter(
            Q(invoice=invoice) | Q(invoice__isnull=True)
        )
    )


def upcoming(invoice: Invoice, today: date) -> list[Upcoming]:
    """The next reminder of each receivable of the invoice, as the run would decide it."""
    chases = list(
        Chase.objects.filter(invoice=invoice, closed=False)
        .select_related("installment")
        .order_by("due_date", "pk")
    )
    if not chases or not invoice.is_open:
        return []
    client = invoice.client
    organisation = invoice.organisation
    settings = DunningSettings.for_org(organisation)
    country = organisation.country or "FR"
    policies = engine.Policies.load(organisation)
    policy_id = policies.resolve(invoice.dunning_policy_id, client.dunning_policy_id, client.kind)
    steps = policies.ladders.get(policy_id) if policy_id else None
    if steps is None:
        return [Upcoming(None, _("No reminder policy applies: no reminder will be sent."))]
    pauses = _active_pauses(client, invoice)
    paused_until = max((p.resume_on() for p in pauses), default=None)
    held_by = ", ".join(str(p.get_kind_display()) for p in pauses)
    start = invoice.issue_date
    if invoice.sent_at is not None:
        start = max(start, timezone.localtime(invoice.sent_at, organisation.tzinfo).date())
    found = []
    for chase in chases:
        balance = invoice.balance
        part = ""
        if chase.installment is not None:
            balance = min(balance, chase.installment.remaining)
            part = _("installment due %(day)s") % {"day": formats.day(chase.due_date)}
        hold = ladder.Hold(
            paused_until=paused_until,
            overdue_not_before=ladder.cycle_hold(
                chase.due_date, client.cycle_months, client.cycle_day
            )
            if policies.cycle.get(policy_id) and client.cycle_months
            else None,
        )
        receivable = ladder.Receivable(
            due_date=chase.due_date,
            balance=balance,
            currency=invoice.currency,
            client_kind=client.kind,
            risk=client.risk_level,
            start=start,
        )
        found.append(
            _next_event(steps, receivable, chase, hold, today, settings, country, part, held_by)
        )
    return found


def _next_event(
    steps: ladder.Ladder,
    receivable: ladder.Receivable,
    chase: Chase,
    hold: ladder.Hold,
    today: date,
    settings: DunningSettings,
    country: str,
    part: str,
    held_by: str,
) -> Upcoming:
    if chase.next_action_on is None:
        return Upcoming(None, _("No further reminder is planned."), installment=part)
    day = max(today, chase.next_action_on)
    held = ""
    for _round in range(6):
        while settings.business_days_only and not is_business_day(day, country):
            day += timedelta(days=1)
        decision = steps.decide(receivable, chase.cursor, day, hold)
        if decision.held == "paused":
            held = _("paused (%(what)s)") % {"what": held_by} if held_by else ""
        elif decision.held == "cycle" and not held:
            held = _("waiting for the client's usual payment cycle")
        if decision.fire is not None:
            rule = decision.fire.step
            step = Step.objects.filter(pk=rule.key).first() if rule.key else None
            return Upcoming(
                day,
                step_text(step, _channels_text(rule.channels)),
                channels=_channels_text(rule.channels),
                installment=part,
                held=held,
            )
        if decision.next_on is None or decision.next_on <= day:
            break
        day = decision.next_on
    if hold.paused_until == ladder.FOREVER:
        return Upcoming(
            None,
            _("Paused until someone lifts the pause (%(what)s).") % {"what": held_by},
            installment=part,
            held=held,
        )
    return Upcoming(None, _("No further reminder is planned."), installment=part, held=held)
