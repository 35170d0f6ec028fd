"""The daily run: the rules decide, this module records.

For one organisation and one local day (``as_of``) it reads only the chases
whose ``next_action_on`` has come (an index), asks ``rules.ladder`` what fires,
and records in one transaction per group of clients: the reminders (unique per
receivable, step and occurrence, so a rerun is harmless), one outbox message per
client, channel and day listing every invoice concerned at the firmest tone,
and each chase's new cursor and next date. Nothing is sent here: the dispatcher
delivers the outbox, re-checking every invoice at send time.
"""

from __future__ import annotations

import queue
import threading
import zoneinfo
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from relance import collector, formats
from relance.imports import bulk
from relance.ledger.models import ActivityKind, ClientStatus, Payment
from relance.ledger.models.timeline import record
from relance.rules import ladder
from relance.rules.money import ZERO
from relance.rules.terms import is_business_day

from .models import (
    Chase,
    DunningSettings,
    Message,
    MessageStatus,
    Pause,
    PauseKind,
    PauseOutcome,
    Policy,
    Reminder,
    ReminderStatus,
    Run,
)

# Due chases recorded per transaction: whole clients, up to this many chases (a client
# with more is split; its message of the day then gathers them, as a second run's would).
CHASES_PER_BATCH = 20_000
REMINDER_COLUMNS = (
    "organisation_id", "chase_id", "client_id", "invoice_id", "step_id", "channels", "position",
    "occurrence", "planned_on", "fired_on", "status", "tone", "kind",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "organisation_id", "client_id", "channel", "day", "tone", "template", "status", "not_before",
)  # fmt: skip
OPEN = ("issued", "partially_paid")
_FIRED, _SKIPPED = str(ReminderStatus.FIRED), str(ReminderStatus.SKIPPED)
STOPPED_CLIENTS = (ClientStatus.INSOLVENT, ClientStatus.CLOSED, ClientStatus.IN_COLLECTION)


@dataclass
class RunReport:
    as_of: date
    dry_run: bool = False
    looked: int = 0
    fired: int = 0
    skipped: int = 0
    closed: int = 0
    held: int = 0
    messages: int = 0
    by_step: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)
    pauses_ended: int = 0
    promises_broken: int = 0
    conflicts: int = 0
    # Clients held for a day because a bank credit that could be theirs awaits review.
    waiting_for_credit: int = 0
    # The last statement import is older than the settings allow (None: fresh enough).
    statement_age_days: int | None = None

    def add(self, batch: RunReport) -> None:
        """Count a group of clients' work once it is committed."""
        for name in ("looked", "fired", "skipped", "closed", "held", "messages"):
            setattr(self, name, getattr(self, name) + getattr(batch, name))
        self.by_step.update(batch.by_step)
        self.by_channel.update(batch.by_channel)


class _DryRun(Exception):
    def __init__(self, report: RunReport) -> None:
        self.report = report


class _Changed(Exception):
    """Chases of a group changed between its reading and its recording (ChaseQuerySet)."""


@dataclass
class Policies:
    """The organisation's ladders, and which one applies to what."""

    ladders: dict[int, ladder.Ladder]
    cycle: dict[int, bool]
    default_id: int | None
    individuals_id: int | None = None

    @classmethod
    def load(cls, organisation: Any) -> Policies:
        ladders: dict[int, ladder.Ladder] = {}
        cycle: dict[int, bool] = {}
        default_id = individuals_id = None
        country = organisation.country or "FR"
        for policy in Policy.objects.filter(organisation=organisation).prefetch_related("steps"):
            ladders[policy.pk] = ladder.Ladder(policy.rules(), country)
            cycle[policy.pk] = policy.hold_for_cycle
            if policy.is_default:
                default_id = policy.pk
            if policy.is_default_individuals:
                individuals_id = policy.pk
        return cls(ladders, cycle, default_id, individuals_id)

    def resolve(
        self, invoice_policy: int | None, client_policy: int | None, client_kind: str = "company"
    ) -> int | None:
        """Invoice > client > organisation default (its own for individuals, if set)."""
        if invoice_policy or client_policy:
            return invoice_policy or client_policy
        if client_kind == "individual" and self.individuals_id:
            return self.individuals_id
        return self.default_id


def window_opening(day: date, tz_name: str, settings: DunningSettings, country: str) -> datetime:
    """When a message decided on ``day`` may leave: the sending window's start
    in the client's time zone, on the first business day from ``day``."""
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("Europe/Paris")
    if settings.business_days_only:
        while not is_business_day(day, country):
            day += timedelta(days=1)
    return datetime.combine(day, time(settings.window_start), tzinfo=tz).astimezone(UTC)


# -- pauses --------------------------------------------------------------------


def end_pauses(organisation: Any, as_of: date, report: RunReport) -> None:
    """End the pauses whose day has come; a promise not kept resumes the ladder at once."""
    for pause in Pause.objects.filter(
        organisation=organisation, ended_on__isnull=True, until__isnull=False
    ).select_related("client", "invoice"):
        if pause.resume_on() > as_of:
            continue
        outcome = PauseOutcome.EXPIRED
        if pause.kind == PauseKind.PROMISE:
            outcome = PauseOutcome.KEPT if promise_kept(pause) else PauseOutcome.BROKEN
        updated = Pause.objects.filter(pk=pause.pk, ended_on__isnull=True).update(
            ended_on=as_of, outcome=outcome
        )
        if not updated:
            continue
        report.pauses_ended += 1
        if outcome == PauseOutcome.BROKEN:
            report.promises_broken += 1
            text = _("Promise to pay %(amount)s by %(day)s not kept: the reminders resume.") % {
                "amount": formats.money(pause.amount, pause.currency)
                if pause.amount
                else _("the balance"),
                "day": formats.day(pause.until),
            }
        elif outcome == PauseOutcome.KEPT:
            text = _("Promise to pay by %(day)s kept.") % {"day": formats.day(pause.until)}
        else:
            text = _("%(pause)s ended on %(day)s: the reminders resume.") % {
                "pause": pause.get_kind_display(),
                "day": formats.day(as_of),
            }
        record(client=pause.client, invoice=pause.invoice, kind=ActivityKind.STATUS, text=text)
        wake(client_id=pause.client_id, invoice_id=pause.invoice_id, on=as_of)


def promise_kept(pause: Pause) -> bool:
    """Kept when what was promised arrived by the promised day (or nothing is owed)."""
    invoices = (
        [pause.invoice]
        if pause.invoice_id
        else list(pause.client.invoices.filter(kind="invoice", status__in=OPEN))
    )
    if all(not invoice.is_open for invoice in invoices if invoice is not None):
        return True
    if not pause.amount:
        return False
    received = sum(
        (
            p.amount
            for p in Payment.objects.filter(
                client_id=pause.client_id,
                date__gte=pause.starts_on,
                date__lte=pause.until,
                reversed_on__isnull=True,  # a bounced payment kept no promise
            )
        ),
        ZERO,
    )
    return received >= pause.amount


def holds(organisation: Any) -> tuple[dict[int, date], dict[int, date]]:
    """The active pauses: resume day per client (whole client) and per invoice."""
    by_client: dict[int, date] = {}
    by_invoice: dict[int, date] = {}
    for pause in Pause.objects.filter(organisation=organisation, ended_on__isnull=True):
        resume = pause.resume_on()
        target = by_invoice if pause.invoice_id else by_client
        key = pause.invoice_id or pause.client_id
        target[key] = max(resume, target.get(key, date.min))
    return by_client, by_invoice


def hold_for_pending_credit(
    organisation: Any,
    as_of: date,
    settings: DunningSettings,
    by_client: dict[int, date],
    report: RunReport,
) -> None:
    """A client whose money may already be in the bank is not chased today.

    A credit in the review queue or unmatched that could be the client's holds them
    until tomorrow, when the run looks again (by then the credit is matched or not).
    A stale statement is reported: the run cannot know what the bank received since."""
    from relance.banking.matching import clients_with_pending_credit, statement_age

    tomorrow = as_of + timedelta(days=1)
    for client_id in clients_with_pending_credit(organisation):
        by_client[client_id] = max(by_client.get(client_id, date.min), tomorrow)
        report.waiting_for_credit += 1
    age = statement_age(organisation, as_of)
    if age is not None and age > settings.statement_max_age_days:
        report.statement_age_days = age


def wake(*, client_id: int, invoice_id: int | None = None, on: date) -> None:
    """Have the next run look at these chases again (after a pause ends, a policy changes…)."""
    chases = Chase.objects.filter(client_id=client_id, closed=False)
    if invoice_id:
        chases = chases.filter(invoice_id=invoice_id)
    chases.filter(Q(next_action_on__isnull=True) | Q(next_action_on__gt=on)).update(
        next_action_on=on
    )


# -- the run ---------------------------------------------------------------------

_FIELDS = (
    "pk",
    "client_id",
    "invoice_id",
    "installment_id",
    "due_date",
    "cursor_on",
    "cursor_position",
    "cursor_occurrence",
    "invoice__status",
    "invoice__balance",
    "invoice__currency",
    "invoice__issue_date",
    "invoice__sent_at",
    "invoice__dunning_policy_id",
    "installment__amount",
    "installment__amount_paid",
    "client__kind",
    "client__risk_level",
    "client__status",
    "client__dunning_policy_id",
    "client__cycle_months",
    "client__cycle_day",
    "client__time_zone",
    "plan_installment_id",
    "plan_installment__amount",
    "plan_installment__amount_paid",
    "plan_installment__plan__status",
    "version",  # last: see _Batch.versions
)


def run(
    organisation: Any,
    as_of: date,
    *,
    dry_run: bool = False,
    clients: Iterable[int] | None = None,
) -> RunReport:
    """Decide and record one organisation's day. ``dry_run`` records nothing."""
    report = RunReport(as_of=as_of, dry_run=dry_run)
    if not dry_run:
        # Each group of clients commits on its own: a crash loses at most one group's
        # work, which the next run redoes (the chases it did not move are still due).
        _run(organisation, as_of, report, clients)
        return report
    try:
        with transaction.atomic():
            _run(organisation, as_of, report, clients)
            raise _DryRun(report)
    except _DryRun as done:
        return done.report


def _run(organisation: Any, as_of: date, report: RunReport, only: Iterable[int] | None) -> None:
    started = timezone.now()
    settings = DunningSettings.for_org(organisation)
    end_pauses(organisation, as_of, report)
    policies = Policies.load(organisation)
    by_client, by_invoice = holds(organisation)
    hold_for_pending_credit(organisation, as_of, settings, by_client, report)
    due = Chase.objects.filter(organisation=organisation, next_action_on__lte=as_of, closed=False)
    if only is not None:
        due = due.filter(client_id__in=list(only))
    recorder = _Recorder(organisation, as_of, settings)
    reader = _Reader(as_of)

    def decide(ids: list[int]) -> _Batch:
        batch = recorder.start()
        batch.ids = ids
        versions = batch.versions
        for row in reader.rows(ids):
            versions[row[0]] = row[-1]
            _decide_one(row, as_of, policies, by_client, by_invoice, recorder)
        return batch

    def again(ids: list[int]) -> None:
        """A group whose chases changed after it was read: read, decided and recorded
        again with its chases locked (nothing can change them in between now)."""

        def locked() -> _Batch:
            _lock(ids)
            return recorder.write(decide(ids))

        _commit(report, locked)

    # Batches allocate rows by the ten thousand (the collector's passes over them cost
    # a tenth of a large run): see relance.collector.
    with collector.paused():
        if _can_record_behind():
            for ids in _record_behind(_batches(due), decide, recorder, report):
                again(ids)
        else:
            for ids in _batches(due):
                try:
                    _commit(report, lambda ids=ids: recorder.write(decide(ids)))
                except _Changed:
                    again(ids)
    Run.objects.update_or_create(
        organisation=organisation,
        day=as_of,
        defaults={
            "finished_at": timezone.now(),
            "fired": report.fired,
            "skipped": report.skipped,
            "messages": report.messages,
            "closed": report.closed,
        },
        create_defaults={"started_at": started, "finished_at": timezone.now()},
    )


def _commit(report: RunReport, work: Callable[[], _Batch]) -> None:
    """Record a group (``work`` writes it and returns it) in a transaction of its own,
    and count it in ``report`` once committed. Another run that recorded the same
    reminders first (unique per event) wins: its work stands, this group's is not
    counted here. _Changed goes to the caller, the transaction rolled back."""
    try:
        with transaction.atomic():
            batch = work()
    except IntegrityError:
        report.conflicts += 1
    else:
        report.add(batch.report)


def _can_record_behind() -> bool:
    """PostgreSQL, not inside a transaction (a test's, a dry run's: a second connection
    would not see it). On SQLite the writer would wait for Python's lock as much as it
    frees it (measured: slower than one thread)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _record_behind(
    batches: Iterator[list[int]],
    decide: Callable[[list[int]], _Batch],
    recorder: _Recorder,
    report: RunReport,
) -> list[list[int]]:
    """Decide a group of clients while the previous one is being recorded; returns the
    groups not recorded because their chases changed meanwhile (to do again).

    A writer thread records each batch in a transaction of its own on its own connection
    (Django's connections are per thread), one batch behind at most, while this thread
    reads and decides: the server's work (indexes, row versions) runs beside Python's.
    Batches are whole clients, so the two never touch the same rows; each commits or not
    on its own, as in the plain loop."""
    pending: queue.Queue[_Batch | None] = queue.Queue(maxsize=1)
    failed: list[BaseException] = []
    changed: list[list[int]] = []

    def write() -> None:
        try:
            while (batch := pending.get()) is not None:
                if failed:
                    continue  # drain: the reader stops at its next batch
                try:
                    _commit(report, lambda batch=batch: recorder.write(batch))
                except _Changed:
                    changed.append(batch.ids)
                except BaseException as error:  # raised again by the reader
                    failed.append(error)
        finally:
            connection.close()

    writer = threading.Thread(target=write, name="relance-run-writer", daemon=True)
    writer.start()
    try:
        writing = False
        for ids in batches:
            if not writing:
                batch = decide(ids)  # the first group: a parallel plan may take every core
            else:
                with transaction.atomic(), connection.cursor() as cursor:
                    # The writer needs a core while it records the previous group: no
                    # parallel workers for this read (with them, a day of 50 groups was
                    # slower than in one thread, on two cores).
                    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                    batch = decide(ids)
            writing = True
            if failed:
                break
            pending.put(batch)
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]
    return changed


def _lock(ids: list[int]) -> None:
    """Lock a group's chases until the end of the transaction (PostgreSQL)."""
    with connection.cursor() as cursor:
        table = Chase._meta.db_table
        cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) FOR UPDATE", [ids])


def _batch_size() -> int:
    # An SQLite built with a lower limit of bound parameters (999 before 3.32) gets
    # smaller batches: each batch binds its chase ids.
    limit = connection.features.max_query_params
    return max(1, CHASES_PER_BATCH if limit is None else min(CHASES_PER_BATCH, limit - 20))


def _batches(due: Any) -> Iterator[list[int]]:
    """The due chases' ids in client order, cut into batches of whole clients (read first
    in one pass over the index of next dates; kept as compact arrays)."""
    clients, chases = array("q"), array("q")
    sql, params = (
        due.order_by("client_id", "pk").values_list("client_id", "pk").query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(10_000):
            for client_id, chase_id in chunk:
                clients.append(client_id)
                chases.append(chase_id)
    start, total, size = 0, len(chases), _batch_size()
    while start < total:
        end = min(start + size, total)
        if end < total:
            # Back to the start of the last client cut in two, unless it is the only one.
            cut = end
            while cut > start and clients[cut - 1] == clients[end]:
                cut -= 1
            end = cut if cut > start else end
        yield chases[start:end].tolist()
        start = end


def _selected() -> list[Any]:
    """``_FIELDS`` as the run selects them. SQLite's driver would parse every date and
    time column of every row (Django asks it to, by declared type): a unary plus hides
    the declared type, the text comes through, and ``_Column`` parses each distinct
    value once, with Django's own converters."""
    if connection.vendor != "sqlite":
        return list(_FIELDS)
    selected: list[Any] = []
    for name in _FIELDS:
        if name == "pk":
            selected.append(name)
            continue
        model, path = Chase, name.split("__")
        for part in path[:-1]:
            model = model._meta.get_field(part).related_model
        field = model._meta.get_field(path[-1])
        if isinstance(field, models.DateField | models.TimeField):  # DateTimeField too
            selected.append(Func(F(name), template="+%(expressions)s", output_field=field))
        else:
            selected.append(name)
    return selected


class _Reader:
    """Reads a batch of due chases by id: the ``_FIELDS`` of each, through a plain cursor.

    The statement is compiled once per run (Django would prepare each of thousands of ids
    per batch); each column is converted as Django converts it (SQLite: dates from text,
    decimals from floats) but once per distinct value: a day's rows share few dates and
    amounts."""

    MARK = -7  # the placeholder id whose ``IN (%s)`` becomes the batch's ids

    def __init__(self, as_of: date) -> None:
        # By primary key, not by client: a filter on the organisation's clients lets the
        # planner walk every chase of the organisation for each batch.
        query = (
            Chase.objects.filter(pk__in=[self.MARK], next_action_on__lte=as_of, closed=False)
            .order_by("pk")  # whole clients per batch: no need to sort by client
            .values_list(*_selected())
        )
        compiler = query.query.get_compiler(connection.alias)
        sql, params = compiler.as_sql()
        table = connection.ops.quote_name(Chase._meta.db_table)
        marker = f"{table}.{connection.ops.quote_name('id')} IN (%s)"
        if sql.count(marker) != 1 or list(params).count(self.MARK) != 1:
            raise RuntimeError(f"unexpected SQL for the due chases: {sql}")
        self.head, self.tail = sql.split(marker)
        self.column = marker.removesuffix(" IN (%s)")
        self.at = list(params).index(self.MARK)
        self.params = list(params)
        fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
        self.columns = [
            (i, _Column(converters, expression))
            for i, (converters, expression) in compiler.get_converters(fields).items()
        ]

    def rows(self, ids: list[int]) -> Iterator[Sequence[Any]]:
        params = self.params[: self.at] + self.params[self.at + 1 :]
        if connection.vendor == "postgresql":
            where, params[self.at : self.at] = f"{self.column} = ANY(%s)", [ids]
        else:
            where = f"{self.column} IN ({', '.join(['%s'] * len(ids))})"
            params[self.at : self.at] = ids
        with connection.cursor() as cursor:
            cursor.execute(self.head + where + self.tail, params)
            while chunk := cursor.fetchmany(2000):
                # A column the driver already gives as Django would (SQLite's dates) is
                # left alone from the next chunk on.
                self.columns = [(i, column) for i, column in self.columns if not column.identity]
                if not self.columns:
                    yield from chunk
                    continue
                converts = [(i, column.seen.get, column.convert) for i, column in self.columns]
                for row in chunk:
                    row = list(row)
                    for i, known, convert in converts:
                        value = known(row[i], _UNSEEN)  # most values: seen before
                        row[i] = convert(row[i]) if value is _UNSEEN else value
                    yield row


_UNSEEN = object()


class _Column:
    """Django's converters of one column, run once per distinct value."""

    def __init__(self, converters: list[Any], expression: Any) -> None:
        self.converters = converters
        self.expression = expression
        self.seen: dict[Any, Any] = {}
        self.identity = False
        self._checked = False

    def convert(self, value: Any) -> Any:
        try:
            return self.seen[value]
        except KeyError:
            pass
        converted = value
        for converter in self.converters:
            converted = converter(converted, self.expression, connection)
        if value is not None and not self._checked:
            self._checked = True
            self.identity = converted is value
        if len(self.seen) < 100_000:
            self.seen[value] = converted
        return converted


def _decide_one(
    row: Sequence[Any],
    as_of: date,
    policies: Policies,
    by_client: dict[int, date],
    by_invoice: dict[int, date],
    recorder: _Recorder,
) -> None:
    (
        chase_id, client_id, invoice_id, installment_id, due_date, cursor_on, cursor_pos,
        cursor_occ, status, balance, currency, issue_date, sent_at, invoice_policy,
        part_amount, part_paid, client_kind, risk, client_status, client_policy,
        cycle_months, cycle_day, tz_name, plan_part, plan_amount, plan_paid, plan_status,
        _version,
    ) = row  # fmt: skip
    recorder.report.looked += 1
    if installment_id is not None:
        balance = min(balance, part_amount - part_paid)
    if plan_part is not None:  # a plan installment: its own balance, while the plan is active
        status, balance = OPEN[0], plan_amount - plan_paid if plan_status == "active" else ZERO
    if status not in OPEN or balance <= 0 or client_status in STOPPED_CLIENTS:
        recorder.close(chase_id)
        return
    policy_id = policies.resolve(invoice_policy, client_policy, client_kind)
    steps = policies.ladders.get(policy_id) if policy_id else None
    if steps is None:
        recorder.move(chase_id, None)  # no policy: nothing to do until one is set
        return
    start = issue_date
    if sent_at is not None:
        start = max(start, recorder.local_day(sent_at))
    # The plan pauses its invoices, not its own installments.
    on_invoice = by_invoice.get(invoice_id, date.min) if plan_part is None else date.min
    paused = max(by_client.get(client_id, date.min), on_invoice)
    cycle = cycle_months and policies.cycle.get(policy_id)
    if paused == date.min and not cycle:
        hold = ladder.NO_HOLD  # most rows: no Hold to build
    else:
        hold = ladder.Hold(
            paused_until=paused if paused != date.min else None,
            overdue_not_before=ladder.cycle_hold(due_date, cycle_months, cycle_day)
            if cycle
            else None,
        )
    cursor = (cursor_on, cursor_pos, cursor_occ) if cursor_on is not None else None
    decision = steps.decide_values(
        due_date, balance, currency, client_kind, risk, start, cursor, as_of, hold
    )
    if decision.held:
        recorder.report.held += 1
    if decision.fire is None:
        recorder.move(chase_id, decision.next_on)
        return
    recorder.fire(chase_id, client_id, invoice_id, tz_name, decision)


class _Existing(NamedTuple):
    pk: int
    client_id: int
    channel: str
    status: str
    tone: str


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every chase a decision fires repeats: its reminder rows after the chase's own
    ids, its cursor move, and what it adds to the client's messages of the day."""

    skipped: tuple[tuple, ...]
    fired: tuple
    move: tuple[Any, int, int, Any]  # cursor day, position, occurrence, next day
    channels: tuple[str, ...]
    entry: tuple[str, int, str, bool]  # tone, position, template, needs approval
    position: int


class _Book:
    """The plans of a run's decisions, by number, and the messages made of sets of them."""

    def __init__(self) -> None:
        # id(decision) -> (decision, its number in plans): what each of its rows repeats
        self.of: dict[int, tuple[ladder.Decision, int]] = {}
        self.plans: list[_Plan] = []
        self.letters: dict[frozenset[int], list[tuple[str, str, str, str]]] = {}


class _Batch:
    """A group of clients' decisions, as rows ready for the database."""

    def __init__(self, as_of: date, book: _Book) -> None:
        self.book = book  # the plans its rows refer to
        self.report = RunReport(as_of=as_of)  # added to the run's once committed
        self.reminders: list[tuple] = []  # rows of REMINDER_COLUMNS
        # The chases' new state, as the driver takes it: (cursor day, position, occurrence,
        # next day, id) for those that fired, (next day, closed, id) for the others.
        self.fired_moves: list[tuple[Any, int, int, Any, int]] = []
        self.moves: list[tuple[Any, bool, int]] = []
        self.fired_plans: list[int] = []  # the plan of each fired chase
        self.ids: list[int] = []  # the chases read
        self.versions: dict[int, int] = {}  # chase -> its version as read
        # client -> the plans fired for them (their messages of the day), and time zone
        self.client_plans: dict[int, set[int]] = {}
        self.zones: dict[int, str] = {}


class _Recorder:
    """Collects a group's decisions (``start``, then the decisions) and writes them in a
    few statements (``write``, in the caller's transaction and on its thread's
    connection)."""

    def __init__(self, organisation: Any, as_of: date, settings: DunningSettings) -> None:
        self.organisation = organisation
        self.as_of = as_of
        self.settings = settings
        self.tz = organisation.tzinfo
        self.country = organisation.country or "FR"
        self._openings: dict[str, datetime] = {}
        self._days: dict[datetime, date] = {}
        self.book = _Book()
        self._driver_day = bulk.driver_days()
        self.start()

    def start(self) -> _Batch:
        """A new group: the decisions that follow go into it (and its counts into
        ``report``)."""
        if len(self.book.plans) >= 100_000:
            self.book = _Book()  # a batch being written keeps the one it refers to
        self.batch: _Batch = _Batch(self.as_of, self.book)
        self.report: RunReport = self.batch.report
        return self.batch

    def local_day(self, moment: datetime) -> date:
        found = self._days.get(moment)
        if found is None:
            found = timezone.localtime(moment, self.tz).date()
            if len(self._days) < 100_000:
                self._days[moment] = found
        return found

    def _plan(self, d: ladder.Decision) -> int:
        """What every row of a decision repeats, made once per decision (the ladder
        memoises decisions: a million rows share a few hundred)."""
        assert d.fire is not None
        day = self._driver_day

        def tail(event: ladder.Event, status: str) -> tuple:
            step = event.step
            return (
                step.key or None, ",".join(step.channels), event.position, event.occurrence,
                day(event.on), day(self.as_of), status, step.tone, step.kind,
            )  # fmt: skip

        event, step = d.fire, d.fire.step
        plan = _Plan(
            skipped=tuple(tail(e, _SKIPPED) for e in d.skipped),
            fired=tail(event, _FIRED),
            move=(day(event.on), event.position, event.occurrence, day(d.next_on)),
            channels=step.channels,
            entry=(step.tone, step.position, step.template, step.needs_approval),
            position=step.position,
        )
        book = self.book
        book.plans.append(plan)
        book.of[id(d)] = (d, len(book.plans) - 1)
        return len(book.plans) - 1

    def close(self, chase_id: int) -> None:
        self.batch.report.closed += 1
        self.batch.moves.append((None, True, chase_id))

    def move(self, chase_id: int, next_on: date | None) -> None:
        self.batch.moves.append((self._driver_day(next_on), False, chase_id))

    def fire(
        self, chase_id: int, client_id: int, invoice_id: int, tz: str, d: ladder.Decision
    ) -> None:
        found = self.book.of.get(id(d))
        number = found[1] if found is not None and found[0] is d else self._plan(d)
        plan = self.book.plans[number]
        batch = self.batch
        head = (self.organisation.pk, chase_id, client_id, invoice_id)
        for tail in plan.skipped:
            batch.reminders.append(head + tail)
        batch.reminders.append(head + plan.fired)
        batch.fired_moves.append((*plan.move, chase_id))
        batch.fired_plans.append(number)
        plans = batch.client_plans.get(client_id)
        if plans is None:
            plans = batch.client_plans[client_id] = set()
            batch.zones[client_id] = tz
        plans.add(number)

    def opening(self, tz: str) -> datetime:
        found = self._openings.get(tz)
        if found is None:
            found = self._openings[tz] = window_opening(self.as_of, tz, self.settings, self.country)
        return found

    def write(self, batch: _Batch) -> _Batch:
        existing = self._existing_messages(batch)
        self._hold_back(batch, existing)
        self._count(batch)
        # Plain rows, not model instances: the all-due day writes a million of them.
        bulk.insert(Reminder, REMINDER_COLUMNS, batch.reminders, prepared=True)
        self._messages(batch, existing)
        _update_chases(batch.fired_moves, batch.moves, batch.versions)
        return batch

    def _count(self, batch: _Batch) -> None:
        report = batch.report
        for number, n in Counter(batch.fired_plans).items():
            plan = batch.book.plans[number]
            report.fired += n
            report.skipped += n * len(plan.skipped)
            report.by_step[plan.position] += n
            for channel in plan.channels:
                report.by_channel[channel] += n

    def _existing_messages(self, batch: _Batch) -> dict[tuple[int, str], _Existing]:
        """The clients' messages of the day already recorded (by an earlier batch or run):
        a plain query, as Django would prepare each of a thousand client ids."""
        if not batch.client_plans:
            return {}
        clients = list(batch.client_plans)
        table = connection.ops.quote_name(Message._meta.db_table)
        day = self._driver_day(self.as_of)
        if connection.vendor == "postgresql":
            # Client by client, through the (client, channel, day) index: the table grows
            # by the run's own messages faster than its statistics, and with a plain
            # filter the planner walks every message of the day for each batch.
            sql = (
                "SELECT m.id, m.client_id, m.channel, m.status, m.tone "
                "FROM unnest(%s::bigint[]) AS c(id) CROSS JOIN LATERAL "
                f"(SELECT * FROM {table} WHERE client_id = c.id AND day = %s) AS m"
            )
            params = [clients, day]
        else:
            marks = ", ".join(["%s"] * len(clients))
            sql = (
                f"SELECT id, client_id, channel, status, tone FROM {table} "
                f"WHERE day = %s AND client_id IN ({marks})"
            )
            params = [day, *clients]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {(row[1], row[2]): _Existing(*row) for row in cursor.fetchall()}

    def _hold_back(self, batch: _Batch, existing: dict[tuple[int, str], _Existing]) -> None:
        """A step that fires after the client's message of the day on one of its channels
        already left (a second run the same day) waits for tomorrow's message: recorded
        now, it would ride on no message and never be sent."""
        gone = {
            key
            for key, m in existing.items()
            if m.status not in (MessageStatus.QUEUED, MessageStatus.AWAITING_APPROVAL)
        }
        if not gone:
            return
        late = {
            r[1]
            for r in batch.reminders
            if r[10] == _FIRED and any((r[2], channel) in gone for channel in r[5].split(","))
        }
        if not late:
            return
        tomorrow = self.as_of + timedelta(days=1)
        batch.fired_moves = [m for m in batch.fired_moves if m[-1] not in late]
        batch.moves += [(self._driver_day(tomorrow), False, chase_id) for chase_id in late]
        # Counted and messaged from what is left: the late chases' rows go.
        fired = [r for r in batch.reminders if r[10] == _FIRED]
        assert len(fired) == len(batch.fired_plans)
        kept = [(r, n) for r, n in zip(fired, batch.fired_plans, strict=True) if r[1] not in late]
        batch.reminders = [r for r in batch.reminders if r[1] not in late]
        batch.fired_plans = [n for _r, n in kept]
        batch.client_plans = {}
        for r, n in kept:
            batch.client_plans.setdefault(r[2], set()).add(n)
        # Their (client, channel) entries in the outbox meet the sent message and are skipped.

    def _letters(self, book: _Book, numbers: set[int]) -> list[tuple[str, str, str, str]]:
        """The messages of a client whose chases fired these plans: per channel, the
        firmest tone among them (its template), awaiting approval if any step needs it.
        Made once per set of plans: clients share a few."""
        key = frozenset(numbers)
        found = book.letters.get(key)
        if found is not None:
            return found
        # channel -> [(tone, position, template, needs_approval)]
        entries: dict[str, list[tuple[str, int, str, bool]]] = defaultdict(list)
        for number in sorted(numbers):
            plan = book.plans[number]
            for channel in plan.channels:
                entries[channel].append(plan.entry)
        found = []
        for channel, fired in entries.items():
            tone, _, template, _ = max(fired, key=lambda f: (ladder.TONE_RANK[f[0]], f[1]))
            if channel == "call":
                status = MessageStatus.TO_DO
            elif any(f[3] for f in fired):
                status = MessageStatus.AWAITING_APPROVAL
            else:
                status = MessageStatus.QUEUED
            found.append((channel, tone, template, str(status)))
        if len(book.letters) < 10_000:
            book.letters[key] = found
        return found

    def _messages(self, batch: _Batch, existing: dict[tuple[int, str], _Existing]) -> None:
        new: list[tuple] = []  # rows of MESSAGE_COLUMNS
        for client_id, numbers in batch.client_plans.items():
            for channel, tone, template, status in self._letters(batch.book, numbers):
                message = existing.get((client_id, channel)) if existing else None
                if message is not None:
                    # The client already has today's message on this channel: it carries
                    # these too.
                    if message.status in (
                        MessageStatus.QUEUED,
                        MessageStatus.AWAITING_APPROVAL,
                    ) and (ladder.TONE_RANK[tone] > ladder.TONE_RANK[message.tone]):
                        Message.objects.filter(pk=message.pk, status=message.status).update(
                            tone=tone, template=template
                        )
                    continue
                new.append(
                    (
                        self.organisation.pk, client_id, channel, self.as_of, tone, template,
                        status, self.opening(batch.zones[client_id]),
                    )
                )  # fmt: skip
        bulk.insert(Message, MESSAGE_COLUMNS, new)
        batch.report.messages += len(new)


# The columns of each move (with their PostgreSQL types), the rows ending with the id.
_FIRED_MOVE = (
    ("cursor_on", "date"), ("cursor_position", "smallint"), ("cursor_occurrence", "smallint"),
    ("next_action_on", "date"),
)  # fmt: skip
_OTHER_MOVE = (("next_action_on", "date"), ("closed", "boolean"))


def _update_chases(
    fired: list[tuple[Any, int, int, Any, int]],
    moved: list[tuple[Any, bool, int]],
    versions: dict[int, int],
) -> None:
    """Write the chases' new state: a new cursor and next day for those that fired, a
    next day (or closed) for the others. Raises _Changed (PostgreSQL) when one of them
    is no longer at the version the run read: the caller's transaction is rolled back."""
    with connection.cursor() as cursor:
        _update(cursor, _FIRED_MOVE, fired, versions)
        _update(cursor, _OTHER_MOVE, moved, versions)


def _update(
    cursor: Any,
    columns: Sequence[tuple[str, str]],
    rows: list[tuple],
    versions: dict[int, int],
) -> None:
    """Set ``columns`` of the chases from rows of (values…, id), and raise their version.

    PostgreSQL: one UPDATE … FROM (unnest) of array literals (the driver's per-element
    dumping of lists of 100,000 values costs more than the statement itself), of the
    chases still at the version read (a group is read outside the transaction that
    records it, or before its rows are locked). SQLite: one prepared UPDATE run for every
    row (no statement of thousands of parameters to rewrite and parse); nothing to
    check, a group being read and recorded under the database's one write lock."""
    if not rows:
        return
    table = Chase._meta.db_table
    if connection.vendor == "postgresql":
        *values, ids = zip(*rows, strict=True)
        sets = ", ".join(f"{name} = v.{name}" for name, _type in columns)
        arrays = ", ".join(f"unnest(%s::{kind}[]) AS {name}" for name, kind in columns)
        cursor.execute(
            f"UPDATE {table} AS c SET {sets}, version = c.version + 1 FROM "
            f"(SELECT unnest(%s::bigint[]) AS id, unnest(%s::integer[]) AS version, "
            f"{arrays}) AS v WHERE c.id = v.id AND c.version = v.version",
            [_pg_array(ids), _pg_array(map(versions.__getitem__, ids)),
             *map(_pg_array, values)],
        )  # fmt: skip
        if cursor.rowcount != len(rows):
            raise _Changed
        return
    sets = ", ".join(f"{name} = %s" for name, _type in columns)
    cursor.executemany(f"UPDATE {table} SET {sets}, version = version + 1 WHERE id = %s", rows)


def _pg_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of ints, dates, booleans and NULLs (nothing to quote)."""
    iso = bulk.iso_days()

    def text(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):  # before int: a bool is an int
            return "t" if value else "f"
        if isinstance(value, int):
            return str(value)
        return iso(value)

    return "{" + ",".join(map(text, values)) + "}"


def wake_policy(policy: Policy, today: date) -> int:
    """After a policy changed, have the next run look again at every open chase it may
    apply to (the run re-decides each against the new ladder, without back-dating)."""
    chases = Chase.objects.filter(organisation_id=policy.organisation_id, closed=False)
    if not (policy.is_default or policy.is_default_individuals):
        chases = chases.filter(
            Q(invoice__dunning_policy=policy)
            | Q(invoice__dunning_policy__isnull=True, client__dunning_policy=policy)
        )
    return chases.filter(Q(next_action_on__isnull=True) | Q(next_action_on__gt=today)).update(
        next_action_on=today
    )
