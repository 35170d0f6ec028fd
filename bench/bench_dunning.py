"""The dunning engine at scale: the daily run on 1,000,000 due invoices, a typical
day, the same day on a register twice as large, and dispatch to an SMTP server.

    uv run python bench/bench_dunning.py [--scale 0.1] [--repeat 3] [--profile]

The database is DATABASE_URL when set (PostgreSQL: a dedicated database such
as postgres://postgres@127.0.0.1:5432/relance_bench_dunning, created if
missing), else a fresh SQLite file in a temporary data directory. The register
is written in bulk (COPY on PostgreSQL, multi-row INSERTs on SQLite, through
relance.imports.bulk); what is timed is relance.dunning.engine.run and
relance.dunning.dispatch.dispatch themselves. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import socket
import statistics
import sys
import tempfile
import time
import warnings
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_register import create_postgres_database, engine_name

BENCH_NAME = "Banc d'essai relances SAS"
# The measured day: a Tuesday, a business day in France (the sending window is open).
AS_OF = date(2026, 3, 10)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

CLIENTS = 100_000
INVOICES_PER_CLIENT = 10
TYPICAL_SHARE = 50  # one chase in 50 is due on a typical day: 2 %
DISPATCH_MESSAGES = 2_000

ALL_DUE_TARGET_S = 60.0
RSS_TARGET_MB = 1024.0
FLOOR_RATIO_TARGET = 2.0
TYPICAL_TARGET_S = 3.0
GROWTH_RATIO_TARGET = 1.3
DISPATCH_TARGET_PER_S = 100.0
REMOTE_DELAY_MS = 20  # a mail relay's answer to each message, across a network
REMOTE_MESSAGES = 200

CHUNK_CLIENTS = 5_000  # clients written per transaction while building
WORK_KINDS = ("message", "call", "late_fee_notice")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="Size of everything relative to the issue's (100,000 clients, 1,000,000 invoices, "
        "2,000 messages); time targets scale with it. 0.1 for a quick check.",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="Timed runs of each typical day (median)."
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Profile the all-due run and the dispatch with cProfile (their times then "
        "include the profiler's overhead).",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the benchmark organisation at the end."
    )
    return parser.parse_args(argv)


# --- Set-up --------------------------------------------------------------------------


class _Counter:
    """An SMTP handler that only counts what it accepts (in a counter shared with the bench)."""

    def __init__(self, count: Any, delay: Any) -> None:
        self.count = count
        self.delay = delay  # seconds before answering the final dot (a remote server)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        if self.delay.value:
            await asyncio.sleep(self.delay.value)
        with self.count.get_lock():
            self.count.value += 1
        return "250 Message accepted for delivery"


def _serve_smtp(port: int, count: Any, delay: Any, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Counter(count, delay), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@dataclass
class SmtpServer:
    """A local SMTP server (aiosmtpd) in a process of its own, so that its work is not
    counted in the dispatcher's process (nor competes with it for the GIL)."""

    port: int
    process: Any
    count: Any
    delay: Any  # seconds, shared with the server's process
    stop_event: Any

    @classmethod
    def start(cls) -> SmtpServer:
        import multiprocessing

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        context = multiprocessing.get_context("fork")  # before Django: nothing to inherit
        count, delay = context.Value("q", 0), context.Value("d", 0.0)
        ready, stop = context.Event(), context.Event()
        process = context.Process(
            target=_serve_smtp, args=(port, count, delay, ready, stop), daemon=True
        )
        process.start()
        if not ready.wait(30):
            raise SystemExit("the local SMTP server did not start")
        return cls(port, process, count, delay, stop)

    @property
    def received(self) -> int:
        return self.count.value

    def stop(self) -> None:
        self.stop_event.set()
        self.process.join(10)


def set_up_django(smtp_port: int) -> str | None:
    """Point relance at the benchmark database and SMTP server; return a temporary
    directory to delete."""
    temporary = None
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        create_postgres_database(url)
    if not os.environ.get("RELANCE_DATA_DIR"):
        temporary = tempfile.mkdtemp(prefix="relance-bench-dunning-")
        os.environ["RELANCE_DATA_DIR"] = temporary
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ["EMAIL_PORT"] = str(smtp_port)
    os.environ["DEBUG"] = "false"  # no query log: a million statements would fill memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    return temporary


# --- Memory -----------------------------------------------------------------------


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the process's high-water mark of resident memory (Linux: VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """The peak resident memory since the last reset (else since the process started)."""
    kb = _status_kb("VmHWM")
    if kb is None:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return (kb or 0) / 1024


# --- The register ----------------------------------------------------------------------


@dataclass
class Fixture:
    """Where each invoice of a client stands on the measured day.

    For an offset of the default ladder (+1, +4, +8…), an invoice due that many
    days before AS_OF has its step's first event on AS_OF, and its cursor on the
    event just before: the run fires exactly that step, nothing is skipped.
    """

    dues: list[date]
    cursors: list[tuple[date, int, int]]
    steps: list[str]

    @classmethod
    def for_organisation(cls, organisation: Any) -> Fixture:
        from relance.dunning.engine import Policies

        policies = Policies.load(organisation)
        assert policies.default_id is not None, "the organisation has no default policy"
        ladder = policies.ladders[policies.default_id]
        dues, cursors, steps = [], [], []
        for step in ladder.steps:
            # The seeds' ladder: steps before the due date and the escalation steps a person
            # approves (formal notice, hand-off) are not what a day's run and dispatch measure.
            if step.offset_days <= 0 or step.needs_approval or step.kind not in WORK_KINDS:
                continue
            due = AS_OF - timedelta(days=step.offset_days)
            events = ladder.events(due)
            today = [i for i, e in enumerate(events) if e.on == AS_OF]
            assert len(today) == 1 and today[0] > 0, "one event on the day, after another"
            dues.append(due)
            cursors.append(events[today[0] - 1].key)
            steps.append(f"{step.offset_days:+d} {'+'.join(step.channels)}")
        return cls(dues, cursors, steps)


@dataclass
class Register:
    clients: int = 0
    invoices: int = 0
    seconds: float = 0.0
    # (chase id, client id, position of the invoice at its client) of the typical day.
    sample: list[tuple[int, int, int]] = field(default_factory=list)


def fresh_organisation() -> Any:
    from relance.organisations.models import Organisation

    for old in Organisation.objects.filter(legal_name=BENCH_NAME):
        delete_organisation(old)
    return Organisation.objects.create(
        legal_name=BENCH_NAME,
        country="FR",
        currency="EUR",
        time_zone="Europe/Paris",
        locale="fr",
        email="relances@banc-essai.example",
        phone="+33140000000",
        address_line1="1 rue du Banc",
        postcode="75002",
        city="Paris",
        siren="732829320",
    )


def delete_organisation(organisation: Any) -> None:
    """Delete the benchmark organisation: the big tables in plain SQL (the ORM would
    load millions of rows to cascade), then the rest as the demo does."""
    from django.db import connection, transaction

    from relance import demo
    from relance.dunning.models import Attempt, Chase, Message, Reminder, Run
    from relance.ledger.models import Activity, Client, Contact, Invoice

    org = organisation.pk
    with transaction.atomic(), connection.cursor() as cursor:
        attempts, messages = Attempt._meta.db_table, Message._meta.db_table
        cursor.execute(
            f"DELETE FROM {attempts} WHERE message_id IN "
            f"(SELECT id FROM {messages} WHERE organisation_id = %s)",
            [org],
        )
        for model in (Message, Reminder, Run, Chase, Activity, Contact):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE organisation_id = %s", [org])
        cursor.execute(
            f"DELETE FROM {Invoice._meta.db_table} WHERE organisation_id = %s AND kind = 'invoice'",
            [org],
        )
        cursor.execute(f"DELETE FROM {Client._meta.db_table} WHERE organisation_id = %s", [org])
    demo.delete_organisation(organisation)


def _amounts() -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
    """97 invoice amounts to cycle through: net, VAT at 20 %, gross, balance (= gross)."""
    found = []
    for n in range(97):
        net = Decimal(150 + n * 37) + Decimal(n % 100) / 100
        vat = (net * Decimal("0.2")).quantize(Decimal("0.01"))
        found.append((net, vat, net + vat, net + vat))
    return found


_AMOUNTS = _amounts()
CLIENT_TAIL = ("", "2 avenue du Test", "69002", "Lyon", "FR", "fr", "Europe/Paris")

CLIENT_FIELDS = (
    "organisation_id",
    "kind",
    "name",
    "reference",
    "siren",
    "address_line1",
    "postcode",
    "city",
    "country",
    "language",
    "time_zone",
)
CONTACT_FIELDS = (
    "organisation_id",
    "client_id",
    "first_name",
    "last_name",
    "role",
    "email",
    "phone",
)
INVOICE_FIELDS = (
    "organisation_id",
    "client_id",
    "kind",
    "number",
    "status",
    "issue_date",
    "due_date",
    "currency",
    "total_net",
    "total_vat",
    "total_gross",
    "balance",
    "issued_at",
)
CHASE_FIELDS = (
    "organisation_id",
    "client_id",
    "invoice_id",
    "due_date",
    "cursor_on",
    "cursor_position",
    "cursor_occurrence",
    "next_action_on",
    "closed",
)


def build(
    organisation: Any, fixture: Fixture, first: int, count: int, *, due: bool, register: Register
) -> None:
    """Write clients ``first`` … ``first + count - 1``, each with a billing contact and
    INVOICES_PER_CLIENT open invoices and their chases.

    ``due``: every chase is due on AS_OF (one step each, see Fixture), and one in
    TYPICAL_SHARE joins the typical day's sample. Otherwise the invoices fall due
    4 to 33 days after AS_OF and their chases look again 3 days before that.
    """
    from django.db import transaction

    from relance.dunning.models import Chase
    from relance.imports import bulk
    from relance.ledger.models import Client, Contact, Invoice

    started = time.perf_counter()
    org = organisation.pk
    for start in range(first, first + count, CHUNK_CLIENTS):
        people = range(start, min(first + count, start + CHUNK_CLIENTS))
        with transaction.atomic():
            rows = [
                (org, "company", f"Client {i:06d} SAS", f"C{i:06d}", *CLIENT_TAIL) for i in people
            ]
            client_ids = bulk.insert(Client, CLIENT_FIELDS, rows, returning=True)
            rows = [
                (org, client_id, "Camille", f"Comptable {i}", "billing",
                 f"compta{i}@client{i}.example", "+33612345678")
                for client_id, i in zip(client_ids, people, strict=True)
            ]  # fmt: skip
            bulk.insert(Contact, CONTACT_FIELDS, rows)
            invoices, chases, places = [], [], []
            for client_id, i in zip(client_ids, people, strict=True):
                for k in range(INVOICES_PER_CLIENT):
                    n = i * INVOICES_PER_CLIENT + k
                    if due:
                        which = k % len(fixture.dues)
                        due_date = fixture.dues[which]
                        cursor: tuple[date | None, int, int] = fixture.cursors[which]
                        next_on = AS_OF
                    else:
                        due_date = AS_OF + timedelta(days=4 + n % 30)
                        cursor = (None, -1, -1)
                        next_on = due_date - timedelta(days=3)
                    issued = due_date - timedelta(days=30)
                    issued_at = datetime.combine(issued, clock(9), tzinfo=UTC)
                    invoices.append(
                        (org, client_id, "invoice", f"BD{n:08d}", "issued", issued, due_date,
                         "EUR", *_AMOUNTS[n % len(_AMOUNTS)], issued_at)
                    )  # fmt: skip
                    chases.append((org, client_id, None, due_date, *cursor, next_on, False))
                    places.append((client_id, k, n))
            invoice_ids = bulk.insert(Invoice, INVOICE_FIELDS, invoices, returning=True)
            chases = [
                (*row[:2], invoice_id, *row[3:])
                for row, invoice_id in zip(chases, invoice_ids, strict=True)
            ]
            chase_ids = bulk.insert(Chase, CHASE_FIELDS, chases, returning=True)
        if due:
            for chase_id, (client_id, k, n) in zip(chase_ids, places, strict=True):
                block = n // TYPICAL_SHARE  # one chase in each block, at a varying place
                if n % TYPICAL_SHARE == (block * 13) % TYPICAL_SHARE:
                    register.sample.append((chase_id, client_id, k))
        register.clients += len(people)
        register.invoices += len(invoices)
    register.seconds += time.perf_counter() - started


def analyse() -> None:
    """PostgreSQL: vacuum and refresh the planner's statistics, as autovacuum would after
    a bulk load or a day that rewrote every chase. SQLite is left as relance leaves it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


# --- The floor -------------------------------------------------------------------------


def due_rows_query(organisation: Any) -> tuple[str, Sequence[Any]]:
    """The SQL of the rows the run reads (engine._FIELDS), for every due chase at once."""
    from relance.dunning import engine
    from relance.dunning.models import Chase

    due = Chase.objects.filter(organisation=organisation, next_action_on__lte=AS_OF, closed=False)
    rows = due.order_by("client_id", "pk").values_list(*engine._FIELDS)
    return rows.query.sql_with_params()


def floor_select(organisation: Any) -> int:
    """Fetch the run's rows in full through a DB-API cursor, 10,000 at a time (the
    run holds one group of clients at a time too); returns how many."""
    from django.db import connection

    sql, params = due_rows_query(organisation)
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(10_000):
            count += len(rows)
    return count


def _scratch_table(cursor: Any, model: Any) -> tuple[str, list[str]]:
    """A table with the model table's columns, types, nullability and primary key, and
    nothing else (no foreign key, no other index); returns its name and its columns."""
    from django.db import connection

    source = model._meta.db_table
    scratch = f"bench_floor_{model._meta.model_name}"
    cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
    if connection.vendor == "postgresql":
        cursor.execute(
            f"CREATE TABLE {scratch} (LIKE {source} INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )
        cursor.execute(f"ALTER TABLE {scratch} ADD PRIMARY KEY (id)")
    else:
        cursor.execute(f"PRAGMA table_info({source})")
        columns = []
        for _cid, name, kind, notnull, _default, pk in cursor.fetchall():
            if pk:
                columns.append(f'"{name}" integer NOT NULL PRIMARY KEY AUTOINCREMENT')
            else:
                columns.append(f'"{name}" {kind}{" NOT NULL" if notnull else ""}')
        cursor.execute(f"CREATE TABLE {scratch} ({', '.join(columns)})")
    names = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    return scratch, names


def recorded_rows(model: Any, names: list[str], organisation: Any) -> list[tuple]:
    """The rows the run recorded on AS_OF (JSON as text, as it travels to the database)."""
    from django.db import connection, models

    json = {f.column for f in model._meta.concrete_fields if isinstance(f, models.JSONField)}
    cast = "::text" if connection.vendor == "postgresql" else ""
    columns = ", ".join(f"{n}{cast}" if n in json else n for n in names)
    day = "fired_on" if model._meta.model_name == "reminder" else "day"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {model._meta.db_table} "
            f"WHERE organisation_id = %s AND {day} = %s ORDER BY id",
            [organisation.pk, AS_OF],
        )
        return cursor.fetchall()


def _insert_scratch(batches: list[tuple[str, list[str], list[tuple]]]) -> Took:
    """Insert each (scratch table, columns, rows) in one transaction, timed: COPY on
    PostgreSQL, executemany on SQLite; the tables are dropped after."""
    from django.db import connection, transaction

    with timed() as took, transaction.atomic(), connection.cursor() as cursor:
        for scratch, names, rows in batches:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {scratch} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(names))
                cursor.cursor.executemany(
                    f"INSERT INTO {scratch} ({', '.join(names)}) VALUES ({marks})", rows
                )
    with connection.cursor() as cursor:
        for scratch, _names, _rows in batches:
            cursor.execute(f"DROP TABLE {scratch}")
    took.rows = sum(len(rows) for _s, _n, rows in batches)
    return took


def floor_chases(organisation: Any) -> Took:
    """Not the issue's floor, shown beside it: as many rows as the chases the run moved
    (read back) into a scratch table of the chase's shape. The run stores each chase's
    new cursor and next date (the issue asks for that date, indexed): on PostgreSQL
    that is a new row version each."""
    from django.db import connection

    from relance.dunning.models import Chase

    with connection.cursor() as cursor:
        scratch, names = _scratch_table(cursor, Chase)
        cursor.execute(
            f"SELECT {', '.join(names)} FROM {Chase._meta.db_table} "
            "WHERE organisation_id = %s AND cursor_on = %s ORDER BY id",
            [organisation.pk, AS_OF],
        )
        rows = cursor.fetchall()
    return _insert_scratch([(scratch, names, rows)])


def floor_insert(organisation: Any) -> Took:
    """Insert as many rows as the run recorded (the same reminders and messages) into
    scratch tables of the same shape, in one transaction: COPY on PostgreSQL,
    executemany on SQLite. Returns the time (and the number of rows)."""
    from django.db import connection

    from relance.dunning.models import Message, Reminder

    batches = []
    with connection.cursor() as cursor:
        for model in (Reminder, Message):
            scratch, names = _scratch_table(cursor, model)
            batches.append((scratch, names, recorded_rows(model, names, organisation)))
    return _insert_scratch(batches)


# --- Measures --------------------------------------------------------------------------


@dataclass
class Took:
    """Wall time, and the CPU time of this process (on PostgreSQL the server's work
    is in the difference; on a busy machine, so is the wait for a CPU)."""

    wall: float = 0.0
    cpu: float = 0.0
    rows: int = 0

    def __str__(self) -> str:
        return f"{self.wall:.2f} s (CPU of this process {self.cpu:.2f} s)"


@contextmanager
def timed() -> Iterator[Took]:
    took = Took()
    wall, cpu = time.perf_counter(), time.process_time()
    yield took
    took.wall, took.cpu = time.perf_counter() - wall, time.process_time() - cpu


def calibration_ms() -> float:
    """The machine's speed now: a fixed pure-Python loop (as in bench_invoicing.py)."""
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    return (time.perf_counter() - started) * 1000


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, load average {load}; Python {sys.version.split()[0]}: "
        f"a 3,000,000-step loop takes {calibration_ms():.0f} ms"
    )


def profiled(enabled: bool, work: Callable[[], Any], title: str) -> Any:
    if not enabled:
        return work()
    profiler = cProfile.Profile()
    value = profiler.runcall(work)
    print(f"\n--- profile: {title} (cProfile) ---")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return value


def count_recorded(organisation: Any) -> tuple[int, int]:
    from relance.dunning.models import Message, Reminder

    reminders = Reminder.objects.filter(organisation=organisation, fired_on=AS_OF).count()
    messages = Message.objects.filter(organisation=organisation, day=AS_OF).count()
    return reminders, messages


@dataclass
class AllDue:
    run: Took
    report: Any
    rss_before: float
    rss_peak: float
    peak_reset: bool
    reminders: int
    messages: int
    select: Took
    selected: int
    insert: Took
    chases: Took

    @property
    def floor(self) -> float:
        return self.select.wall + self.insert.wall


def measure_all_due(organisation: Any, profile: bool) -> AllDue:
    """One run on every chase (not repeated: it moves every chase), with its floor."""
    import gc

    from relance.dunning import engine
    from relance.rules.terms import is_business_day

    floor_select(organisation)  # warm-up: the floor and the run both read a warm cache
    # Warm-up: the holiday tables are imported once per process (0.3-0.4 s, a worker
    # pays it on its first run), not per day: it is no part of a run's cost per row.
    is_business_day(AS_OF, organisation.country or "FR")
    with timed() as select:
        selected = floor_select(organisation)
    gc.collect()
    rss_before = rss_mb()
    peak_reset = reset_peak_rss()
    with timed() as run:
        report = profiled(profile, lambda: engine.run(organisation, AS_OF), "all-due run")
    rss_peak = peak_rss_mb()
    reminders, messages = count_recorded(organisation)
    insert = floor_insert(organisation)
    chases = floor_chases(organisation)
    return AllDue(
        run, report, rss_before, rss_peak, peak_reset, reminders, messages,
        select, selected, insert, chases,
    )  # fmt: skip


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reset_sample(organisation: Any, fixture: Fixture, sample: list[tuple[int, int, int]]) -> None:
    """Put the sample's chases back where the fixture had them (due on AS_OF, cursor on
    the event before), and forget what a run recorded for them that day."""
    from django.db import connection, transaction

    from relance.dunning.models import Chase, Message, Reminder, Run

    chase, reminder, message = (m._meta.db_table for m in (Chase, Reminder, Message))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {chase} SET cursor_on = %s, cursor_position = %s, cursor_occurrence = %s, "
            "next_action_on = %s, closed = %s WHERE id = %s",
            [
                (*fixture.cursors[k % len(fixture.dues)], AS_OF, False, chase_id)
                for chase_id, _client, k in sample
            ],
        )
        for part in _chunks([chase_id for chase_id, _client, _k in sample]):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"DELETE FROM {reminder} WHERE chase_id IN ({marks})", list(part))
        clients = sorted({client for _chase, client, _k in sample})
        for part in _chunks(clients):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"DELETE FROM {message} WHERE day = %s AND client_id IN ({marks})",
                [AS_OF, *part],
            )
        Run.objects.filter(organisation=organisation, day=AS_OF).delete()


@dataclass
class Typical:
    runs: list[Took]
    messages: int

    @property
    def median(self) -> float:
        return statistics.median(t.wall for t in self.runs)

    def __str__(self) -> str:
        walls = ", ".join(f"{t.wall:.3f}" for t in self.runs)
        cpus = ", ".join(f"{t.cpu:.3f}" for t in self.runs)
        return f"median {self.median:.3f} s (runs {walls} s; CPU of this process {cpus} s)"


def measure_typical(
    organisation: Any, fixture: Fixture, sample: list[tuple[int, int, int]], repeat: int
) -> Typical:
    """The sample's chases due, every other chase not: ``repeat`` runs, each after
    putting the sample back."""
    from relance.dunning import engine

    analyse()  # vacuumed, as autovacuum leaves the tables between two days
    runs, messages = [], 0
    for _ in range(max(1, repeat)):
        reset_sample(organisation, fixture, sample)
        with timed() as took:
            report = engine.run(organisation, AS_OF)
        runs.append(took)
        messages = report.messages
        if report.fired != len(sample):
            raise SystemExit(f"typical day: {report.fired} fired, expected {len(sample)}")
    return Typical(runs, messages)


@dataclass
class Dispatched:
    took: Took
    queued: int
    report: Any
    received: int
    invoices_per_message: float

    @property
    def per_second(self) -> float:
        return self.report.sent / self.took.wall if self.took.wall else 0.0


def measure_dispatch(
    organisation: Any,
    sample: list[tuple[int, int, int]],
    wanted: int,
    smtp: SmtpServer,
    profile: bool,
) -> Dispatched:
    """Leave exactly ``wanted`` email messages queued (one per client, from the all-due
    run: each lists the client's invoices whose step emails that day), cancel the
    rest, and deliver them to the local SMTP server."""
    from dataclasses import fields

    from relance.dunning import dispatch
    from relance.dunning.models import Message, MessageStatus, Reminder, ReminderStatus

    skip = {client for _chase, client, _k in sample}  # their messages list one invoice
    queued = Message.objects.filter(
        organisation=organisation, day=AS_OF, channel="email", status=MessageStatus.QUEUED
    ).order_by("pk")
    chosen: list[tuple[int, int]] = []
    for pk, client_id in queued.values_list("pk", "client_id").iterator(chunk_size=5000):
        if client_id not in skip:
            chosen.append((pk, client_id))
            if len(chosen) == wanted:
                break
    Message.objects.filter(organisation=organisation, status=MessageStatus.QUEUED).update(
        status=MessageStatus.CANCELLED
    )
    for part in _chunks(chosen):
        Message.objects.filter(pk__in=[pk for pk, _c in part]).update(status=MessageStatus.QUEUED)
    listed = 0
    for part in _chunks([client for _pk, client in chosen]):
        listed += (
            Reminder.objects.filter(client_id__in=part, fired_on=AS_OF, status=ReminderStatus.FIRED)
            .filter(channels__contains="email")
            .count()
        )
    now = datetime.combine(AS_OF, clock(10), tzinfo=PARIS)  # inside the sending window
    total = dispatch.DispatchReport()
    before = smtp.received

    def deliver() -> None:
        # Batch after batch (dispatch takes 500 at a time), until nothing is left.
        while True:
            report = dispatch.dispatch(now, organisation_id=organisation.pk)
            for f in fields(report):
                setattr(total, f.name, getattr(total, f.name) + getattr(report, f.name))
            if not (report.sent or report.failed or report.cancelled or report.uncertain):
                break

    with timed() as took:
        profiled(profile, deliver, "dispatch")
    received = smtp.received - before
    return Dispatched(took, len(chosen), total, received, listed / max(1, len(chosen)))


@dataclass
class Remote:
    delay_ms: int
    senders: int
    took: Took
    sent: int
    received: int

    @property
    def per_second(self) -> float:
        return self.sent / self.took.wall if self.took.wall else 0.0


def measure_remote(
    organisation: Any, sample: list[tuple[int, int, int]], count: int, smtp: SmtpServer
) -> list[Remote]:
    """A server that takes REMOTE_DELAY_MS to answer each message (a relay across a
    network): ``count`` more of the day's emails with one sender, then as many with the
    default number. Information: the figure the issue names is the local one above."""
    from django.conf import settings

    from relance.dunning import dispatch
    from relance.dunning.models import Message, MessageStatus

    skip = {client for _chase, client, _k in sample}
    spare = [
        pk
        for pk, client_id in Message.objects.filter(
            organisation=organisation, day=AS_OF, channel="email", status=MessageStatus.CANCELLED
        )
        .order_by("pk")
        .values_list("pk", "client_id")[: 2 * count + len(skip)]
        if client_id not in skip
    ]
    now = datetime.combine(AS_OF, clock(10), tzinfo=PARIS)
    smtp.delay.value = REMOTE_DELAY_MS / 1000
    measured = []
    try:
        for senders, part in (
            (1, spare[:count]),
            (settings.RELANCE_DISPATCH_SENDERS, spare[count : 2 * count]),
        ):
            for chunk in _chunks(part):
                Message.objects.filter(pk__in=list(chunk)).update(status=MessageStatus.QUEUED)
            before = smtp.received
            with timed() as took:
                report = dispatch.dispatch(now, organisation_id=organisation.pk, senders=senders)
            measured.append(
                Remote(REMOTE_DELAY_MS, senders, took, report.sent, smtp.received - before)
            )
    finally:
        smtp.delay.value = 0.0
    return measured


# --- Report ----------------------------------------------------------------------------


@dataclass
class Line:
    figure: str
    value: float
    unit: str
    target: float | None = None
    below: bool = True  # the target is a maximum (else a minimum)

    @property
    def ratio(self) -> float | None:
        """Below 1 is within target."""
        if self.target is None:
            return None
        if not self.below and not self.value:
            return float("inf")  # nothing measured (e.g. nothing sent): as far off as can be
        return self.value / self.target if self.below else self.target / self.value

    @property
    def ok(self) -> bool:
        return self.ratio is None or self.ratio <= 1


def print_table(lines: list[Line], scale: float) -> None:
    print()
    note = "" if scale == 1 else f" (time targets scaled x{scale:g})"
    print(f"Summary{note}:")
    print(f"  {'figure':<46} {'measured':>14} {'target':>14} {'ratio':>7}")
    for line in lines:
        value = f"{line.value:,.2f} {line.unit}"
        if line.target is None:
            target, ratio = "", ""
        else:
            sign = "≤" if line.below else "≥"
            target = f"{sign} {line.target:,.2f} {line.unit}"
            ratio = f"{line.ratio:.2f}"
        flag = "" if line.ok else "  MISSED"
        print(f"  {line.figure:<46} {value:>14} {target:>14} {ratio:>7}{flag}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    smtp = SmtpServer.start()
    temporary = set_up_django(smtp.port)
    try:
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        scale = args.scale
        clients = max(1, round(CLIENTS * scale))
        wanted = max(1, round(DISPATCH_MESSAGES * scale))
        print(f"Database: {engine_name()}  ({connection.settings_dict['NAME']})")
        print(f"Day: {AS_OF:%A %Y-%m-%d}; SMTP server 127.0.0.1:{smtp.port}")
        print(f"Machine: {machine()}")

        organisation = fresh_organisation()
        fixture = Fixture.for_organisation(organisation)
        register = Register()
        build(organisation, fixture, 0, clients, due=True, register=register)
        analyse()
        first_invoices = register.invoices
        print(
            f"Register: {register.clients:,} clients, {register.invoices:,} open invoices and "
            f"chases, all due (steps {', '.join(fixture.steps)}), built in "
            f"{register.seconds:.1f} s"
        )

        print("All due: one run (not repeated: it moves every chase) …", flush=True)
        due = measure_all_due(organisation, args.profile)
        report = due.report
        print(
            f"  run {due.run}: looked at {report.looked:,}, fired {report.fired:,}, skipped "
            f"{report.skipped:,}; {report.messages:,} messages "
            f"({', '.join(f'{k} {v:,}' for k, v in sorted(report.by_channel.items()))} "
            f"invoices listed); in the database {due.reminders:,} reminders + "
            f"{due.messages:,} messages"
        )
        print(f"  floor, SELECT of the {due.selected:,} rows the run reads: {due.select}")
        print(f"  floor, INSERT of the {due.insert.rows:,} rows it recorded: {due.insert}")
        print(
            f"  beside the floor, INSERT of as many rows as the {due.chases.rows:,} chases it "
            f"moved: {due.chases}; run / (floor + those) "
            f"{due.run.wall / (due.floor + due.chases.wall):.2f}x"
        )
        reset = "" if due.peak_reset else " (VmHWM could not be reset: the process's peak)"
        print(
            f"  resident memory: {due.rss_before:.0f} MB before the run, peak "
            f"{due.rss_peak:.0f} MB during it{reset}"
        )
        ok = (
            report.fired == first_invoices
            and due.reminders == report.fired + report.skipped
            and due.messages == report.messages
            and due.selected == first_invoices
            and due.insert.rows == due.reminders + due.messages
        )

        print(f"Typical day: {len(register.sample):,} chases due, {args.repeat} runs …", flush=True)
        small = measure_typical(organisation, fixture, register.sample, args.repeat)
        print(f"  register of {first_invoices:,}: {small}; {small.messages:,} messages")
        build(organisation, fixture, clients, clients, due=False, register=register)
        analyse()
        print(
            f"Register grown to {register.clients:,} clients and {register.invoices:,} invoices "
            f"(the new chases not due), {register.seconds:.1f} s of building in all"
        )
        large = measure_typical(organisation, fixture, register.sample, args.repeat)
        print(f"  register of {register.invoices:,}: {large}; {large.messages:,} messages")

        from django.conf import settings

        senders = settings.RELANCE_DISPATCH_SENDERS
        print(f"Dispatch: {wanted:,} email messages, {senders} senders …", flush=True)
        sent = measure_dispatch(organisation, register.sample, wanted, smtp, args.profile)
        r = sent.report
        print(
            f"  {sent.took}: sent {r.sent:,}, failed {r.failed}, cancelled {r.cancelled}, "
            f"uncertain {r.uncertain}, deferred {r.deferred}; the SMTP server received "
            f"{sent.received:,}; {sent.invoices_per_message:.1f} invoices per message"
        )
        ok = ok and r.sent == sent.queued == sent.received
        # Not scaled: enough batches (dispatch.READ_AHEAD each) for every sender.
        remote = measure_remote(organisation, register.sample, REMOTE_MESSAGES, smtp)
        for one in remote:
            print(
                f"  server answering in {one.delay_ms} ms, {one.senders} sender(s): {one.took}; "
                f"sent {one.sent:,}, received {one.received:,}: {one.per_second:.0f} msg/s"
            )
            ok = ok and one.sent == one.received > 0
        print(f"Machine at the end: {machine()}")

        lines = [
            Line("build (bulk), not a target", register.seconds, "s"),
            Line(f"all due: run on {first_invoices:,} chases", due.run.wall, "s",
                 ALL_DUE_TARGET_S * scale),
            Line("all due: peak resident memory", due.rss_peak, "MB", RSS_TARGET_MB),
            Line("all due: floor (SELECT + INSERT)", due.floor, "s"),
            Line("all due: run / floor", due.run.wall / due.floor, "x", FLOOR_RATIO_TARGET),
            Line(f"typical day ({len(register.sample):,} due of {first_invoices:,})",
                 small.median, "s", TYPICAL_TARGET_S * scale),
            Line(f"same day, register of {register.invoices:,}", large.median, "s"),
            Line("twice as large / as large", large.median / small.median, "x",
                 GROWTH_RATIO_TARGET),
            Line(f"dispatch of {sent.queued:,} emails to SMTP", sent.per_second, "msg/s",
                 DISPATCH_TARGET_PER_S, below=False),
            *(Line(f"  server answering in {one.delay_ms} ms, {one.senders} sender(s)",
                   one.per_second, "msg/s") for one in remote),
        ]  # fmt: skip
        print_table(lines, scale)
        if args.profile:
            print("  (profiled: the all-due run and dispatch times include cProfile's overhead)")
        if not ok:
            print("Unexpected counts (fired, recorded, selected, sent or received): see above.")
        if not args.keep:
            delete_organisation(organisation)
        return 0 if ok and all(line.ok for line in lines) else 1
    finally:
        smtp.stop()
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
