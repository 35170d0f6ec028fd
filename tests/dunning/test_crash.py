"""The crash test: ``relance worker`` processes delivering the outbox are killed with SIGKILL
at random points, 50 times, and restarted. A real SMTP server (aiosmtpd, in this process)
counts what it accepted by Message-ID. Afterwards every planned message was received exactly
once, or is marked uncertain for a person to check; none was received twice.

The database is a file of its own (SQLite in tmp_path; PostgreSQL in a database of its own
when DATABASE_URL points at a PostgreSQL server), built and read back by crash_support.py
run as a script, as the workers see it.
"""

import os
import random
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import crash_support as support
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

pytestmark = pytest.mark.slow

COUNT = 200  # messages queued by the run
KILLS = 50
WORKERS = 2  # side by side, each killed and restarted on its own
CLI_LIVES = 4  # the first lives are real `relance worker` processes (slow to start)
DUE = date(2026, 3, 13)  # a Friday
AS_OF = date(2026, 3, 10)  # the courtesy reminder, 3 days before: one email per client
NOW = datetime(2026, 3, 10, 10, tzinfo=ZoneInfo("Europe/Paris"))  # in the sending window
# Past dispatch.STALE_AFTER (10 minutes): what a dead worker left "sending" is recovered.
LATER = NOW + timedelta(minutes=11)


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """The DATABASE_URL the subprocesses use (None: SQLite in their data directory)."""
    if request.param == "sqlite":
        yield None
        return
    url = _postgres_url()
    if url is None:
        pytest.skip("PostgreSQL: set DATABASE_URL to a PostgreSQL server to run this one")
    db = support.PostgresDatabase(url, f"relance_crash_{os.getpid()}")
    yield db.create()
    db.drop()


@pytest.fixture
def smtp():
    # A small delay before answering the final dot: many kills land while the server has
    # the message and the worker has not heard back (the "uncertain" case).
    inbox = support.CountingInbox(delay=0.05)
    port = support.free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_a_run_in_groups_records_everything_once(tmp_path, database):
    """The run of a real process (not inside a test's transaction), in groups of clients:
    on PostgreSQL a writer thread records each group while the run decides the next."""
    env = support.environment(tmp_path / "data", database, support.free_port())
    done = support.script(env, "groups", "30", "4", DUE.isoformat(), AS_OF.isoformat())
    assert done["behind"] == (["MainThread"] if database else [])
    assert done["groups"] == [4] * 7 + [2]
    assert (done["looked"], done["fired"], done["messages"]) == (30, 30, 30)
    assert done["reminders"] == 30 and done["clients"] == 30
    assert done["next_dates"] == ["2026-03-14"]  # +1, the friendly email and SMS
    assert done["rerun_fired"] == 0


def test_senders_of_one_pass_send_each_message_once(tmp_path, database):
    """A dispatch pass of a real process (a database file on SQLite, not a test's
    transaction): several senders, each on its own connections, share the queue."""
    inbox = support.CountingInbox(delay=0.02)  # a sender waits: the others take batches
    port = support.free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = support.environment(tmp_path / "data", database, port)
        done = support.script(
            env, "senders", "40", DUE.isoformat(), AS_OF.isoformat(), NOW.isoformat(), "3"
        )
    finally:
        controller.stop()
    assert (done["sent"], done["failed"], done["uncertain"]) == (40, 0, 0)
    assert done["statuses"] == {"sent": 40} and done["attempts"] == 40
    assert sorted(done["threads"]) == ["sender-0", "sender-1", "sender-2"]
    assert sum(done["threads"].values()) == 40  # each message in one sender's batch
    assert inbox.total == 40 and set(inbox.by_id.values()) == {1}
    assert sorted(inbox.by_id) == done["ids"]
    assert done["again"] == 0


def test_killed_workers_never_send_twice(tmp_path, database, smtp):
    inbox, port = smtp
    env = support.environment(tmp_path / "data", database, port)
    built = support.script(env, "build", str(COUNT), DUE.isoformat(), AS_OF.isoformat())
    assert built["queued"] == COUNT

    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    log = tmp_path / "workers.log"
    server = support.ForkServer(env, NOW, log)
    deadline = time.monotonic() + 900
    # Per slot: [worker, mails received when it started, when to kill it, killed while sending].
    slots: list[list | None] = [None] * WORKERS
    lives = kills = killed_while_sending = 0
    try:
        while kills < KILLS:
            assert time.monotonic() < deadline, f"the kill loop did not finish (seed {seed})"
            for i, slot in enumerate(slots):
                if slot is None and lives < KILLS:
                    # The first lives are `relance worker` itself, the others forked.
                    life = (
                        support.Cli(env, NOW, log) if lives < CLI_LIVES else support.Forked(server)
                    )
                    lives += 1
                    # Most lives die a moment after mail starts flowing (mid-send); the others
                    # at any moment of their first second (recovering, claiming, rendering…).
                    anytime = rng.random() < 0.3
                    kill_at = time.monotonic() + (rng.uniform(0, 1) if anytime else 60)
                    slots[i] = [life, inbox.total, kill_at, anytime]
                    continue
                if slot is None:
                    continue
                life, received_at_start, kill_at, decided = slot
                assert life.alive(), f"a worker exited on its own (seed {seed}): {log}"
                if not decided and inbox.total > received_at_start:
                    slot[2] = time.monotonic() + rng.uniform(0, 0.25)
                    slot[3] = True
                elif time.monotonic() >= kill_at:
                    life.kill()
                    kills += 1
                    killed_while_sending += inbox.total > received_at_start
                    slots[i] = None
            time.sleep(0.01)  # polling the processes and the server
    finally:
        for slot in slots:
            if slot is not None and slot[0].alive():
                slot[0].kill()
        server.close()

    received_by_killed = inbox.total
    # Restarted, its clock past STALE_AFTER: the worker marks what the dead workers left
    # "sending" as uncertain, and delivers what is still queued.
    worker = support.worker(env, LATER, "--once", log=log)
    assert worker.wait(timeout=300) == 0, log.read_text()[-3000:]

    messages = support.script(env, "report")["messages"]
    statuses = {status for status, _ in messages.values()}
    context = f"seed {seed}, {kills} kills, {killed_while_sending} while sending"
    assert len(messages) == COUNT
    assert statuses <= {"sent", "uncertain"}, (statuses, context)
    never_twice = {mid: n for mid, n in inbox.by_id.items() if n > 1}
    assert never_twice == {}, context
    ours = {mid for _, mid in messages.values() if mid}
    assert set(inbox.by_id) <= ours, context
    for pk, (status, message_id) in messages.items():
        received = inbox.by_id.get(message_id, 0) if message_id else 0
        if status == "sent":
            assert received == 1, (pk, message_id, context)
        else:  # uncertain: received once or not at all, a person checks
            assert received <= 1, (pk, context)
    uncertain = [pk for pk, (status, _) in messages.items() if status == "uncertain"]
    # One worker dies with at most one message in hand per sender (the workers run with the
    # default number of senders, the one this process's settings read).
    assert len(uncertain) <= kills * settings.RELANCE_DISPATCH_SENDERS, context
    # The test did what it says: most kills hit workers busy sending, and they had sent mail.
    assert killed_while_sending >= KILLS // 3, context
    assert 0 < received_by_killed < COUNT, context
    received_uncertain = sum(1 for pk in uncertain if inbox.by_id.get(messages[pk][1]))
    print(
        f"{context}; received before the restart {received_by_killed}, uncertain "
        f"{len(uncertain)} ({received_uncertain} of them received), total {inbox.total}"
    )
