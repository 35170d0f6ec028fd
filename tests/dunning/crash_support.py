"""Helpers for the tests that run ``relance worker`` as real processes (test_crash,
test_parallel_workers): a database of their own, built and read back by this file run as a
script in a subprocess, with the same environment as the workers (DATABASE_URL or
RELANCE_DATA_DIR, EMAIL_HOST, EMAIL_PORT).

    python crash_support.py build COUNT DUE AS_OF   migrate, one organisation, COUNT clients
                                                     each owing one invoice due DUE, and the
                                                     daily run of AS_OF ("-": none); prints
                                                     what it queued
    python crash_support.py groups COUNT SIZE DUE AS_OF   the same register, then the run
                                                     of AS_OF in groups of SIZE chases; prints
                                                     what it reported and recorded
    python crash_support.py senders COUNT DUE AS_OF NOW SENDERS   the register and run of
                                                     ``build``, then one dispatch pass at NOW
                                                     with SENDERS senders, two messages a
                                                     batch; prints which threads sent what
    python crash_support.py report                  every message: status and Message-ID
    python crash_support.py forkserver LOG NOW      forks ``worker`` processes on demand

Both print one JSON object on their last line of output.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

RELANCE = str(Path(sys.executable).parent / "relance")
# What a test's own environment must not leak into a worker (see tests/test_cli.py).
CLEARED = (
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "DEBUG",
    "ALLOWED_HOSTS",
    "PYTHONUNBUFFERED",
    "DJANGO_SETTINGS_MODULE",
    "EMAIL_BACKEND",
)


# -- the test process's side: a counting SMTP server, processes, databases ------------------


class CountingInbox:
    """An aiosmtpd handler counting what it accepted by Message-ID. ``delay`` seconds before
    answering the final dot widen the window in which a killed worker leaves a message
    "sending" after the server took it."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.by_id: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.by_id[str(message["Message-ID"]).strip()] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.by_id.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(data_dir: Path, database_url: str | None, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["RELANCE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    env["EMAIL_HOST"] = "127.0.0.1"
    env["EMAIL_PORT"] = str(smtp_port)
    env["EMAIL_TIMEOUT"] = "10"
    env["RELANCE_SMS_BACKEND"] = "locmem"
    env["LOG_LEVEL"] = "ERROR"
    return env


def script(env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    """Run this file as a script with ``args``; its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, *args],
        env={**env, "DJANGO_SETTINGS_MODULE": "relance.settings"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"crash_support {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(env: dict[str, str], now: datetime, *extra: str, log: Path) -> subprocess.Popen:
    """``relance worker`` at a fixed moment, its output appended to ``log``."""
    with log.open("a") as output:
        return subprocess.Popen(
            [RELANCE, "worker", "--now", now.isoformat(), *extra],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def wait_until(condition, deadline: float, what: str) -> None:
    """Poll ``condition`` until it holds or the deadline passes (never a bare sleep)."""
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Cli:
    """``relance worker`` as a user starts it: a new interpreter (several seconds to start)."""

    def __init__(self, env: dict[str, str], now: datetime, log: Path) -> None:
        self.process = worker(env, now, "--interval", "1", log=log)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        kill(self.process)


class Forked:
    """The same ``worker`` command in a process forked from a warm interpreter (see
    ``ForkServer``): it starts in milliseconds, so 50 kills take a minute, not ten."""

    def __init__(self, server: ForkServer) -> None:
        self.pid = server.start()

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        wait_until(lambda: not self.alive(), time.monotonic() + 30, f"process {self.pid} to die")


class ForkServer:
    """This file run as ``forkserver``: Django set up and the worker's modules imported once;
    each ``start`` forks a process that runs ``call_command("worker", now=…, interval=1)``
    with its own database and SMTP connections."""

    def __init__(self, env: dict[str, str], now: datetime, log: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "forkserver", str(log), now.isoformat()],
            env={**env, "DJANGO_SETTINGS_MODULE": "relance.settings"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready", "the fork server did not start"

    def start(self) -> int:
        self.process.stdin.write("start\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


class PostgresDatabase:
    """A database of its own on the PostgreSQL server of ``url`` (dropped afterwards)."""

    def __init__(self, url: str, name: str) -> None:
        from urllib.parse import urlsplit, urlunsplit

        self.name = name
        parts = urlsplit(url)
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path=f"/{name}"))

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def create(self) -> str:
        self.drop()
        self._execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def drop(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# -- the subprocess's side: build and read the database -------------------------------------


def build(count: int, due: date, as_of: date | None) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from relance.dunning import engine
    from relance.dunning.models import Message
    from relance.ledger import issuing
    from relance.ledger.models import Client, Contact, ContactRole
    from relance.organisations.models import Organisation

    org = Organisation.objects.create(
        legal_name="Atelier Durand SAS",
        legal_form="SAS",
        share_capital=Decimal("10000"),
        siren="732829320",
        vat_number="FR44732829320",
        rcs_city="Paris",
        address_line1="12 rue de la Paix",
        postcode="75002",
        city="Paris",
        country="FR",
        currency="EUR",
        time_zone="Europe/Paris",
        email="compta@atelier-durand.fr",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
    )
    issued = date(due.year, due.month, 1) if due.day > 1 else due
    for n in range(count):
        client = Client.objects.create(
            organisation=org,
            name=f"Client {n:04d}",
            address_line1="3 quai Rambaud",
            postcode="69002",
            city="Lyon",
        )
        Contact.objects.create(
            organisation=org,
            client=client,
            first_name="Claire",
            last_name=f"Martin {n}",
            role=ContactRole.BILLING,
            email=f"factures{n}@client.example",
        )
        draft = issuing.create_draft(
            client=client,
            lines=[("Prestation", Decimal(1), Decimal("100.00") + n, Decimal("20"))],
            issue_date=issued,
            due_date=due,
            currency="EUR",
        )
        issuing.issue(draft, as_of=issued)
    # No day to run: the workers' scheduler will run it.
    messages = engine.run(org, as_of).messages if as_of else 0
    return {
        "organisation": org.pk,
        "messages": messages,
        "queued": Message.objects.filter(status="queued").count(),
    }


def groups(count: int, size: int, due: date, as_of: date) -> dict:
    from relance.dunning import engine
    from relance.dunning.models import Chase, Message, Reminder
    from relance.organisations.models import Organisation

    build(count, due, None)
    org = Organisation.objects.get()
    engine.CHASES_PER_BATCH = size
    behind = []
    record_behind = engine._record_behind

    def spy(*args):
        behind.append(threading.current_thread().name)
        return record_behind(*args)

    engine._record_behind = spy
    sizes = []
    batches = engine._batches
    engine._batches = lambda due: (sizes.append(len(ids)) or ids for ids in batches(due))
    run = engine.run(org, as_of)
    days = Chase.objects.values_list("next_action_on", flat=True)
    return {
        "behind": list(behind),
        "groups": list(sizes),
        "looked": run.looked,
        "fired": run.fired,
        "messages": run.messages,
        "reminders": Reminder.objects.filter(fired_on=as_of).count(),
        "clients": Message.objects.filter(day=as_of).values("client_id").distinct().count(),
        "next_dates": sorted({str(day) for day in days}),
        "rerun_fired": engine.run(org, as_of).fired,
    }


def senders(count: int, due: date, as_of: date, now: datetime, senders: int) -> dict:
    from relance.dunning import dispatch
    from relance.dunning.models import Attempt, Message

    build(count, due, as_of)
    dispatch.READ_AHEAD = 2
    threads: Counter[str] = Counter()
    batch = dispatch._dispatch_batch

    def spy(pks, *args):
        threads[threading.current_thread().name] += len(pks)
        return batch(pks, *args)

    dispatch._dispatch_batch = spy
    done = dispatch.dispatch(now, senders=senders)
    return {
        "sent": done.sent,
        "failed": done.failed,
        "uncertain": done.uncertain,
        "threads": dict(threads),
        "statuses": dict(Counter(Message.objects.values_list("status", flat=True))),
        "attempts": Attempt.objects.count(),
        "ids": sorted(Message.objects.values_list("message_id", flat=True)),
        "again": dispatch.dispatch(now, senders=senders).sent,
    }


def report() -> dict:
    from relance.dunning.models import Message, Reminder, Run

    messages = {
        str(pk): [status, message_id]
        for pk, status, message_id in Message.objects.values_list("pk", "status", "message_id")
    }
    return {
        "messages": messages,
        "reminders": Reminder.objects.count(),
        "runs": list(Run.objects.values_list("day", flat=True).order_by("day").distinct()),
    }


def forkserver(log: str, now: str) -> None:
    from django.core.management import call_command
    from django.db import connections

    # Everything a pass imports, imported once (the children inherit it).
    import relance.worker  # noqa: F401
    from relance.dunning import context, dispatch, scheduler, templating  # noqa: F401
    from relance.dunning.transports import email  # noqa: F401
    from relance.invoicing import recurring, sending  # noqa: F401

    connections.close_all()  # no connection may be shared with a child
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the killed children
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "start":
            break
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
                os.dup2(output, 1)
                os.dup2(output, 2)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                call_command("worker", now=now, interval=1)
                status = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                os._exit(status)
        print(pid, flush=True)


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    import django

    django.setup()
    command, *args = argv
    if command == "build":
        count, due, as_of = args
        run_on = date.fromisoformat(as_of) if as_of != "-" else None
        answer = build(int(count), date.fromisoformat(due), run_on)
    elif command == "forkserver":
        forkserver(*args)
        return
    elif command == "groups":
        count, size, due, as_of = args
        answer = groups(int(count), int(size), date.fromisoformat(due), date.fromisoformat(as_of))
    elif command == "senders":
        count, due, as_of, now, many = args
        answer = senders(
            int(count), date.fromisoformat(due), date.fromisoformat(as_of),
            datetime.fromisoformat(now), int(many),
        )  # fmt: skip
    elif command == "report":
        answer = report()
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(answer, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
