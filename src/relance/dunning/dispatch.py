"""Delivering the outbox: exactly once, or marked uncertain for a person.

Each queued message is claimed with a compare-and-set update (queued →
sending) before any transport sees it, and no lock is held across the network
call. At send time the dispatcher re-reads the register: invoices paid,
credited or paused since the run drop out, and a message with nothing left to
ask is cancelled. Its content and Message-ID are stored by the claim itself,
before the transport is called, so when a worker dies mid-send the row stays
"sending" with what a person needs to look it up; ``recover``
turns such rows into "uncertain" for a person to check — never a silent resend.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance.ledger.models import ActivityKind, Client, Invoice
from relance.ledger.models.timeline import record
from relance.rules import sms as sms_rules
from relance.rules.terms import is_business_day

from . import context as reminder_context
from . import templating
from .engine import OPEN, STOPPED_CLIENTS, window_opening
from .models import (
    Attempt,
    AttemptStatus,
    Channel,
    ChannelState,
    Chase,
    DunningSettings,
    Message,
    MessageStatus,
    MessageTemplate,
    Pause,
    PauseKind,
    Reminder,
    ReminderStatus,
)
from .transports import base as transports

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 6


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    uncertain: int = 0
    letters: int = 0
    recovered: int = 0
    deferred: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def recover(now: datetime | None = None, stale_after: timedelta = STALE_AFTER) -> int:
    """Messages left "sending" by a worker that died: uncertain, for a person to check."""
    now = now or timezone.now()
    count = 0
    for message in Message.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - stale_after
    ).select_related("client"):
        changed = Message.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, claimed_at=message.claimed_at
        ).update(
            status=MessageStatus.UNCERTAIN,
            last_error=_("The worker stopped while sending: check whether the client got it."),
        )
        if not changed:
            continue
        count += 1
        Attempt.objects.create(
            message=message,
            started_at=message.claimed_at,
            status=AttemptStatus.UNCERTAIN,
            error="worker stopped while sending",
            worker=message.claimed_by,
        )
        record(
            client=message.client,
            kind=ActivityKind.NOTE,
            text=_("%(channel)s reminder of %(day)s: sending was interrupted, check by hand.")
            % {"channel": message.get_channel_display(), "day": message.day.isoformat()},
        )
    return count


READ_AHEAD = 50  # messages whose register is read together, just before they are sent


class _Pass:
    """What one dispatch pass reads once per organisation, and its open transports."""

    def __init__(self) -> None:
        self.organisations: dict[int, Any] = {}
        self.settings: dict[int, DunningSettings] = {}
        self.overrides: dict[int, dict[tuple[str, str, str], MessageTemplate]] = {}
        self.transports: dict[str, Any] = {}
        self.stack = ExitStack()

    def organisation(self, organisation: Any) -> Any:
        # One instance per organisation: what is cached on it (online payment settings)
        # is read once per pass.
        return self.organisations.setdefault(organisation.pk, organisation)

    def dunning_settings(self, organisation: Any) -> DunningSettings:
        found = self.settings.get(organisation.pk)
        if found is None:
            found = self.settings[organisation.pk] = DunningSettings.for_org(organisation)
        return found

    def override(
        self, organisation: Any, key: str, channel: str, language: str
    ) -> MessageTemplate | None:
        own = self.overrides.get(organisation.pk)
        if own is None:
            own = self.overrides[organisation.pk] = {}
            for template in MessageTemplate.objects.filter(organisation=organisation):
                own[(template.key, template.channel, template.language)] = template
        return own.get((key, channel, language))

    def transport(self, channel: str) -> Any:
        found = self.transports.get(channel)
        if found is None:
            found = self.transports[channel] = transports.transport_for(channel)
            keep_open = getattr(found, "keep_open", None)
            if keep_open is not None:
                self.stack.enter_context(keep_open())
        return found


@dataclass
class Ahead:
    """The register as it stands for a batch of messages, read just before they are
    claimed and sent (one set of queries for the batch, not one per message)."""

    # (client, day) -> [(chase, channels)] of the reminders fired that day
    reminders: dict[tuple[int, date], list[tuple[int, str]]]
    pauses: dict[int, list[Pause]]  # open pauses per client
    chases: dict[int, Chase]  # open chases, with invoice, installment and plan installment
    fees: dict[int, reminder_context.FeeInputs]  # per organisation
    # Clients this pass changed since the read (a bounce marks contacts and pauses
    # the client): their next message reads the register again.
    changed: set[int] = field(default_factory=set)

    @classmethod
    def read(cls, messages: list[Message]) -> Ahead:
        clients = {m.client_id for m in messages}
        days = {m.day for m in messages}
        reminders: dict[tuple[int, date], list[tuple[int, str]]] = defaultdict(list)
        for client_id, day, chase_id, channels in Reminder.objects.filter(
            client_id__in=clients, fired_on__in=days, status=ReminderStatus.FIRED
        ).values_list("client_id", "fired_on", "chase_id", "channels"):
            reminders[(client_id, day)].append((chase_id, channels))
        pauses: dict[int, list[Pause]] = defaultdict(list)
        for pause in Pause.objects.filter(client_id__in=clients, ended_on__isnull=True):
            pauses[pause.client_id].append(pause)
        wanted = {
            chase_id
            for m in messages
            for chase_id, channels in reminders.get((m.client_id, m.day), ())
            if m.channel in channels.split(",")
        }
        chases = {
            chase.pk: chase
            for chase in Chase.objects.filter(pk__in=wanted, closed=False).select_related(
                "invoice", "installment", "plan_installment__plan"
            )
        }
        invoices: dict[int, list[int]] = defaultdict(list)
        for chase in chases.values():
            invoices[chase.organisation_id].append(chase.invoice_id)
        organisations = {m.client.organisation_id: m.client.organisation for m in messages}
        fees = {
            org_id: reminder_context.FeeInputs.load(organisations[org_id], ids)
            for org_id, ids in invoices.items()
            if org_id in organisations
        }
        return cls(reminders, pauses, chases, fees)


def dispatch(
    now: datetime | None = None,
    *,
    organisation_id: int | None = None,
    limit: int = 500,
    worker: str | None = None,
    senders: int | None = None,
) -> DispatchReport:
    """Deliver what is queued and due, ``senders`` batches at a time (the setting
    RELANCE_DISPATCH_SENDERS by default); returns what happened."""
    now = now or timezone.now()
    worker = worker or worker_name()
    report = DispatchReport()
    report.recovered = recover(now)
    disabled = set(ChannelState.objects.values_list("organisation_id", "channel"))
    queued = Message.objects.filter(status=MessageStatus.QUEUED, not_before__lte=now)
    if organisation_id is not None:
        queued = queued.filter(organisation_id=organisation_id)
    candidates = [
        pk
        for pk, org_id, channel in queued.order_by("not_before", "pk").values_list(
            "pk", "organisation_id", "channel"
        )[:limit]
        if (org_id, channel) not in disabled
    ]
    batches: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
    for start in range(0, len(candidates), READ_AHEAD):
        batches.put(candidates[start : start + READ_AHEAD])
    count = min(senders or django_settings.RELANCE_DISPATCH_SENDERS, batches.qsize())
    if count <= 1 or not _can_send_side_by_side():
        _send(batches, now, worker, report)
        return report
    # Each sender has its own database connection and transports (its own SMTP
    # connection): while one waits for the server or the database, another renders.
    parts = [DispatchReport() for _ in range(count)]
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=_sender, args=(batches, now, worker, part, errors), name=f"sender-{i}"
        )
        for i, part in enumerate(parts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part in parts:
        for name, value in vars(part).items():
            setattr(report, name, getattr(report, name) + value)
    if errors:
        raise errors[0]
    return report


def _can_send_side_by_side() -> bool:
    # Inside a transaction (a test's, a caller's) other connections would not see its
    # rows; SQLite's in-memory database (tests) is shared through its shared cache, whose
    # table locks fail at once instead of waiting as a database file's locks do.
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite" and connection.is_in_memory_db())


def _send(
    batches: queue.SimpleQueue[list[int]], now: datetime, worker: str, report: DispatchReport
) -> None:
    """Take batches until none is left (claims keep two senders off one message)."""
    shared = _Pass()
    with shared.stack:
        while True:
            try:
                pks = batches.get_nowait()
            except queue.Empty:
                return
            _dispatch_batch(pks, now, worker, report, shared)


def _sender(
    batches: queue.SimpleQueue[list[int]],
    now: datetime,
    worker: str,
    report: DispatchReport,
    errors: list[BaseException],
) -> None:
    try:
        _send(batches, now, worker, report)
    except BaseException as exc:  # handed to the caller, which raises it
        errors.append(exc)
        while not batches.empty():  # the others stop after their batch: the rest stays queued
            try:
                batches.get_nowait()
            except queue.Empty:
                break
    finally:
        connections.close_all()  # this thread's own


def _dispatch_batch(
    pks: list[int], now: datetime, worker: str, report: DispatchReport, shared: _Pass
) -> None:
    found = {
        m.pk: m
        for m in Message.objects.filter(pk__in=pks, status=MessageStatus.QUEUED)
        .select_related("client__organisation")
        .prefetch_related("client__contacts")
    }
    messages = [found[pk] for pk in pks if pk in found]
    if not messages:
        return
    for message in messages:
        message.client.organisation = shared.organisation(message.client.organisation)
    ahead = Ahead.read(messages)
    for message in messages:
        read = ahead
        if message.client_id in ahead.changed:
            getattr(message.client, "_prefetched_objects_cache", {}).pop("contacts", None)
            read = Ahead.read([message])
        try:
            _deliver(message, now, worker, report, read, shared)
        except Exception:
            # Anything unexpected: a person decides, nothing is resent.
            log.exception("dispatching message %s", message.pk)
            if _leave(
                message,
                now,
                status=MessageStatus.UNCERTAIN,
                last_error=_("Unexpected error while sending."),
            ):
                report.uncertain += 1


def open_items(
    message: Message, as_of: date, ahead: Ahead | None = None
) -> list[reminder_context.Item]:
    """The receivables this message is about that still need asking, read now
    (or in ``ahead``, read for the message's batch just before it was claimed)."""
    client = message.client
    if client.status in STOPPED_CLIENTS:
        return []
    if ahead is None:
        ahead = Ahead.read([message])
    chase_ids = [
        chase
        for chase, channels in ahead.reminders.get((client.pk, message.day), ())
        if message.channel in channels.split(",")
    ]
    paused_invoices, client_paused = _paused(ahead.pauses.get(client.pk, ()), as_of)
    if client_paused:
        return []
    items = []
    for chase_id in sorted(set(chase_ids)):  # in the order of the register
        chase = ahead.chases.get(chase_id)
        if chase is None:
            continue  # closed
        invoice = chase.invoice
        if chase.plan_installment_id is not None:
            items += reminder_context.plan_items(chase)
            continue
        if invoice.status not in OPEN or invoice.pk in paused_invoices:
            continue
        balance = invoice.balance
        if chase.installment is not None:
            balance = min(balance, chase.installment.remaining)
        if balance > 0:
            items.append(reminder_context.Item(invoice, chase.installment, balance))
    return items


def _paused(pauses: Iterable[Pause], as_of: date) -> tuple[set[int], bool]:
    invoices: set[int] = set()
    whole = False
    for pause in pauses:
        if pause.resume_on() <= as_of:
            continue
        if pause.invoice_id:
            invoices.add(pause.invoice_id)
        else:
            whole = True
    return invoices, whole


def _in_window(now: datetime, client: Client, settings: DunningSettings) -> bool:
    local = timezone.localtime(now, _zone(client.time_zone))
    if settings.business_days_only and not is_business_day(
        local.date(), client.organisation.country or "FR"
    ):
        return False
    return settings.window_start <= local.hour < settings.window_end


def _next_opening(now: datetime, client: Client, settings: DunningSettings) -> datetime:
    """The next start of the sending window in the client's time zone: later today if
    the window has not opened yet, else on the next day that sends."""
    local = timezone.localtime(now, _zone(client.time_zone))
    day = local.date() if local.hour < settings.window_start else local.date() + timedelta(days=1)
    opening = window_opening(day, client.time_zone, settings, client.organisation.country or "FR")
    return max(opening, now)


def _zone(name: str) -> Any:
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Europe/Paris")


def _unchanged(message: Message, now: datetime) -> Any:
    """The message, if nobody touched it since it was read (another worker, or a second
    run of the day raising its tone): what this pass decides applies only then."""
    return Message.objects.filter(
        pk=message.pk,
        status=MessageStatus.QUEUED,
        not_before__lte=now,
        attempts=message.attempts,
        tone=message.tone,
        template=message.template,
    )


def _claim(message: Message, now: datetime, worker: str, **content: Any) -> bool:
    """Queued → sending, with the content about to be handed over, in one
    compare-and-set update: if the worker dies after it, the row stays "sending" with
    what a person needs to look the message up; if it fails, another worker took it."""
    claimed = _unchanged(message, now).update(
        status=MessageStatus.SENDING,
        claimed_at=now,
        claimed_by=worker,
        attempts=F("attempts") + 1,
        **content,
    )
    if claimed != 1:
        return False
    message.status, message.claimed_at, message.claimed_by = MessageStatus.SENDING, now, worker
    message.attempts += 1
    return True


def _release(message: Message, **fields: Any) -> bool:
    """Leave the "sending" state (only if this worker still holds the claim)."""
    return bool(
        Message.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, claimed_at=message.claimed_at
        ).update(**fields)
    )


def _leave(message: Message, now: datetime, **fields: Any) -> bool:
    """Settle a message this pass holds: claimed (sending), or still queued as it was read."""
    if message.status == MessageStatus.SENDING:
        return _release(message, **fields)
    return bool(_unchanged(message, now).update(**fields))


def _deliver(
    message: Message,
    now: datetime,
    worker: str,
    report: DispatchReport,
    ahead: Ahead,
    shared: _Pass,
) -> None:
    client = message.client
    organisation = client.organisation
    settings = shared.dunning_settings(organisation)
    today = organisation.today(now)
    if message.channel != Channel.LETTER and not _in_window(now, client, settings):
        if _leave(message, now, not_before=_next_opening(now, client, settings)):
            report.deferred += 1
        return
    items = open_items(message, today, ahead)
    if not items:
        _cancel(
            message, now, report, _("Nothing left to ask: paid, credited or paused since the run.")
        )
        return
    contacts, addresses = reminder_context.recipients(client, message.channel)
    if message.channel == Channel.SMS and not addresses:
        # SMS comes on top of email: no mobile number is not a failure to chase.
        _cancel(message, now, report, _("No contact at the client has a phone number for SMS."))
        return
    if message.channel != Channel.LETTER and not addresses:
        _fail(message, now, report, _("No contact at the client can receive this channel."))
        return
    language = client.language or organisation.locale or "fr"
    override = shared.override(
        organisation, message.template, message.channel, templating.normalise_language(language)
    )
    with translation.override(language):
        ctx = reminder_context.build(
            client, items, day=message.day, template=message.template, tone=message.tone,
            contact=contacts[0] if contacts else None,
            fee_inputs=ahead.fees.get(organisation.pk),
        )  # fmt: skip
        rendered = templating.render(message.template, message.channel, language, ctx, override)
    if message.channel == Channel.SMS:
        length = sms_rules.measure(rendered.text)
        if length.segments > settings.sms_max_segments:
            _fail(
                message,
                now,
                report,
                _("The SMS would take %(n)d parts (the limit is %(max)d): shorten the template.")
                % {"n": length.segments, "max": settings.sms_max_segments},
            )
            return
    message_id = message.message_id or make_msgid(
        domain=(organisation.email or django_settings.DEFAULT_FROM_EMAIL).rsplit("@", 1)[-1]
    )
    if not _claim(
        message,
        now,
        worker,
        subject=rendered.subject[:300],
        text=rendered.text,
        recipients=addresses,
        message_id=message_id,
    ):
        return  # another worker took it
    numbers = ", ".join(i.invoice.number for i in items)
    if message.channel == Channel.LETTER:
        _letter(message, client, ctx, rendered, language, now, worker, numbers, report)
        return
    sender = formataddr(
        (str(organisation), organisation.email or django_settings.DEFAULT_FROM_EMAIL)
    )
    outgoing = transports.Outgoing(
        channel=message.channel,
        to=tuple(addresses),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        sender=sender if message.channel == Channel.EMAIL else "",
        reply_to=(organisation.email,) if organisation.email else (),
        message_id=message_id,
    )
    started = time.monotonic()
    try:
        delivery = shared.transport(message.channel).send(outgoing)
    except transports.TransportError as exc:
        took = round((time.monotonic() - started) * 1000)
        ahead.changed.add(client.pk)  # a bounce may have paused the client
        _transport_error(message, exc, now, took, worker, report)
        return
    took = round((time.monotonic() - started) * 1000)
    with transaction.atomic():
        _release(
            message,
            status=MessageStatus.SENT,
            provider_id=delivery.provider_id[:250],
            sent_at=now,
            last_error=", ".join(delivery.rejected),
        )
        Attempt.objects.create(
            message=message, started_at=now, duration_ms=took, status=AttemptStatus.SENT,
            provider_id=delivery.provider_id[:250], worker=worker,
            error=", ".join(delivery.rejected),
        )  # fmt: skip
        record(
            client=client,
            invoice=items[0].invoice if len(items) == 1 else None,
            kind=ActivityKind.SENT,
            text=_("%(channel)s reminder (%(tone)s) sent to %(to)s about %(numbers)s")
            % {
                "channel": message.get_channel_display(),
                "tone": message.get_tone_display().lower(),
                "to": ", ".join(addresses),
                "numbers": numbers,
            },
            message_id=message_id if message.channel == Channel.EMAIL else "",
        )
    if delivery.rejected:
        # Delivered to the others; the refused addresses are bounces a person must fix.
        bounced(message, delivery.rejected, ", ".join(delivery.rejected), now)
        ahead.changed.add(client.pk)
    report.sent += 1


def _letter(
    message: Message,
    client: Client,
    ctx: dict[str, Any],
    rendered: templating.Rendered,
    language: str,
    now: datetime,
    worker: str,
    numbers: str,
    report: DispatchReport,
) -> None:
    from .letters import letter_pdf

    started = time.monotonic()
    pdf = letter_pdf(ctx, rendered.text, language, subject=rendered.subject)
    message.pdf.save(f"letter-{message.pk}.pdf", ContentFile(pdf), save=False)
    took = round((time.monotonic() - started) * 1000)
    with transaction.atomic():
        _release(message, status=MessageStatus.TO_DO, pdf=message.pdf.name, sent_at=None)
        Attempt.objects.create(
            message=message, started_at=now, duration_ms=took, status=AttemptStatus.SENT,
            provider_id="print-queue", worker=worker,
        )  # fmt: skip
        record(
            client=client,
            kind=ActivityKind.NOTE,
            text=_("Reminder letter about %(numbers)s ready to print and post.")
            % {"numbers": numbers},
        )
    report.letters += 1


def _cancel(message: Message, now: datetime, report: DispatchReport, reason: str) -> None:
    if _leave(message, now, status=MessageStatus.CANCELLED, last_error=reason):
        report.cancelled += 1


def _fail(message: Message, now: datetime, report: DispatchReport, reason: str) -> None:
    if not _leave(message, now, status=MessageStatus.FAILED, last_error=reason):
        return
    record(
        client=message.client,
        kind=ActivityKind.NOTE,
        text=_("%(channel)s reminder not sent: %(reason)s")
        % {"channel": message.get_channel_display(), "reason": reason},
    )
    report.failed += 1


def _transport_error(
    message: Message,
    exc: transports.TransportError,
    now: datetime,
    took: int,
    worker: str,
    report: DispatchReport,
) -> None:
    error = str(exc)[:2000]
    status = AttemptStatus.FAILED
    if isinstance(exc, transports.Uncertain):
        status = AttemptStatus.UNCERTAIN
    Attempt.objects.create(
        message=message, started_at=now, duration_ms=took, status=status, error=error,
        worker=worker,
    )  # fmt: skip
    if isinstance(exc, transports.Uncertain):
        _release(message, status=MessageStatus.UNCERTAIN, last_error=error)
        report.uncertain += 1
    elif isinstance(exc, transports.TemporaryError):
        attempts = message.attempts  # already counts this one
        if attempts >= MAX_ATTEMPTS:
            _fail(message, now, report, error)
            return
        _release(
            message,
            status=MessageStatus.QUEUED,
            not_before=now + transports.backoff(attempts),
            last_error=error,
        )
        report.retried += 1
    elif isinstance(exc, transports.ChannelDown):
        # Nothing is lost: the message waits, queued, until the channel is fixed.
        ChannelState.objects.update_or_create(
            organisation_id=message.organisation_id,
            channel=message.channel,
            defaults={"disabled_at": now, "reason": error},
        )
        _release(message, status=MessageStatus.QUEUED, last_error=error,
                 attempts=F("attempts") - 1)  # fmt: skip
        report.retried += 1
    elif isinstance(exc, transports.RecipientRejected):
        bounced(message, exc.recipients, error, now)
        _fail(message, now, report, error)
    else:
        _fail(message, now, report, error)


def bounced(message: Message, addresses: Any, reason: str, now: datetime) -> None:
    """A bounce marks the contacts and pauses the client's ladder with a task for a person."""
    addresses = set(addresses)
    contacts = message.client.contacts.filter(Q(email__in=addresses) | Q(phone__in=addresses))
    contacts.update(bounced_at=now, bounce_reason=reason[:300])
    pause_for_contact_problem(
        message.client,
        _("A reminder bounced (%(to)s): check the contact's address.")
        % {"to": ", ".join(sorted(addresses))},
        message.client.organisation.today(now),
    )


def pause_for_contact_problem(client: Client, reason: str, today: date) -> Pause:
    existing = Pause.objects.filter(
        client=client, kind=PauseKind.CONTACT_PROBLEM, ended_on__isnull=True
    ).first()
    if existing:
        return existing
    pause = Pause.objects.create(
        organisation=client.organisation,
        client=client,
        kind=PauseKind.CONTACT_PROBLEM,
        reason=reason,
        starts_on=today,
    )
    record(client=client, kind=ActivityKind.STATUS, text=reason)
    return pause


def invoices_of(message: Message) -> list[Invoice]:
    """The invoices a message lists (for pages), whatever their state now."""
    chase_ids = [
        chase
        for chase, channels in Reminder.objects.filter(
            client_id=message.client_id, fired_on=message.day, status=ReminderStatus.FIRED
        ).values_list("chase_id", "channels")
        if message.channel in channels.split(",")
    ]
    return list(
        Invoice.objects.filter(chases__pk__in=chase_ids).distinct().order_by("due_date", "number")
    )
