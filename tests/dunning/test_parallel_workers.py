"""Two workers at once on PostgreSQL: no message sent twice, no reminder recorded twice.

Threads (each with its own connection, released together by tests/racing.py) race the
dispatcher and the daily run; then two real worker processes deliver one queue side by side.
"""

import os
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import crash_support as support
import pytest
from aiosmtpd.controller import Controller
from django.db import connection, transaction

from racing import race
from relance.dunning import dispatch, engine
from relance.dunning.models import Attempt, Chase, Message, MessageStatus, Reminder, ReminderStatus
from relance.ledger.models import Client, Contact, ContactRole

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="workers racing for the same rows need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

DUE = date(2026, 2, 4)
PARIS = ZoneInfo("Europe/Paris")
CLIENTS = 30


@pytest.fixture
def owing(org, make_invoice):
    """CLIENTS clients, each with a billing contact and one invoice due DUE."""
    clients = []
    for n in range(CLIENTS):
        client = Client.objects.create(organisation=org, name=f"Client {n:02d}")
        Contact.objects.create(
            organisation=org,
            client=client,
            first_name="Claire",
            last_name=f"Martin {n}",
            role=ContactRole.BILLING,
            email=f"factures{n}@client.example",
            phone=f"+336123456{n:02d}",
        )
        make_invoice(client, str(Decimal(100 + n)), issue_date=date(2026, 1, 5), due=DUE)
        clients.append(client)
    return clients


@pytest.fixture
def sms_outbox(settings):
    from relance.dunning.transports import sms

    settings.RELANCE_SMS = {"BACKEND": "locmem"}
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def test_two_dispatchers_send_each_message_once(org, owing, smtp_server, sms_outbox):
    engine.run(org, DUE + timedelta(days=1))  # friendly email and SMS to every client
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 2 * CLIENTS
    now = datetime(2026, 2, 5, 10, tzinfo=PARIS)

    reports, errors = race(
        [lambda name=name: dispatch.dispatch(now, worker=name) for name in ("a", "b", "c")]
    )

    assert errors == []
    assert sum(r.sent for r in reports) == 2 * CLIENTS
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == CLIENTS and len(set(ids)) == CLIENTS
    assert len(sms_outbox) == CLIENTS
    assert len({tuple(sms.to) for sms in sms_outbox}) == CLIENTS
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert Attempt.objects.count() == 2 * CLIENTS


def test_two_runs_of_the_same_day_record_each_reminder_once(org, owing, monkeypatch):
    # Small groups, so the two runs interleave their transactions.
    monkeypatch.setattr(engine, "CHASES_PER_BATCH", 4)
    engine.run(org, DUE - timedelta(days=3))  # the courtesy reminders, before the race
    day = DUE + timedelta(days=9)  # +9: the late-fee notice, +1 and +4 skipped

    reports, errors = race([lambda: engine.run(org, day)] * 2)

    assert errors == [] and len(reports) == 2
    fired = Reminder.objects.filter(fired_on=day, status=ReminderStatus.FIRED)
    skipped = Reminder.objects.filter(fired_on=day, status=ReminderStatus.SKIPPED)
    assert fired.count() == CLIENTS and skipped.count() == 2 * CLIENTS
    assert sorted(fired.values_list("client_id", flat=True)) == sorted(c.pk for c in owing)
    messages = Message.objects.filter(day=day)
    assert messages.count() == CLIENTS
    assert set(messages.values_list("channel", "template")) == {("email", "late_fee_notice")}
    # Chases moved once, to the firm reminder of +11.
    assert set(Chase.objects.values_list("next_action_on", flat=True)) == {DUE + timedelta(11)}


# -- real processes ------------------------------------------------------------------------


@pytest.mark.slow
def test_two_worker_processes_run_the_day_once_and_send_each_message_once(tmp_path):
    url = os.environ["DATABASE_URL"]
    db = support.PostgresDatabase(url, f"relance_parallel_{os.getpid()}")
    inbox = support.CountingInbox()
    port = support.free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    count = 100
    now = datetime(2026, 3, 10, 10, tzinfo=PARIS)  # after the run's hour, in the window
    try:
        env = support.environment(tmp_path / "data", db.create(), port)
        # Nothing decided yet: both workers' schedulers reach for the day's run.
        built = support.script(env, "build", str(count), "2026-03-13", "-")
        assert built["queued"] == 0
        log = tmp_path / "workers.log"
        server = support.ForkServer(env, now, log)
        workers = [support.Forked(server), support.Cli(env, now, log)]
        try:
            support.wait_until(
                lambda: inbox.total >= count, time.monotonic() + 300, f"{count} messages"
            )
            support.wait_until(
                lambda: (
                    set(s for s, _ in support.script(env, "report")["messages"].values())
                    == {"sent"}
                ),
                time.monotonic() + 120,
                "every message to be marked sent",
            )
        finally:
            for worker in workers:
                if worker.alive():
                    worker.kill()
            server.close()
        report = support.script(env, "report")
    finally:
        controller.stop()
        db.drop()
    assert report["reminders"] == count
    assert report["runs"] == ["2026-03-10"]
    assert len(report["messages"]) == count
    assert {n for n in inbox.by_id.values()} == {1}
    assert set(inbox.by_id) == {mid for _, mid in report["messages"].values()}


# -- one run, recording behind its reading ----------------------------------------------------


def test_a_run_records_each_group_behind_its_reading(org, owing, monkeypatch):
    """On PostgreSQL a run decides a group of clients while a writer thread, on a
    connection of its own, records the previous one: everything is recorded once."""
    monkeypatch.setattr(engine, "CHASES_PER_BATCH", 4)  # 8 groups
    groups = []
    batches = engine._batches
    monkeypatch.setattr(
        engine, "_batches", lambda due: (groups.append(ids) or ids for ids in batches(due))
    )
    behind = []
    record_behind = engine._record_behind
    monkeypatch.setattr(engine, "_record_behind", lambda *a: behind.append(1) or record_behind(*a))
    day = DUE + timedelta(days=1)

    report = engine.run(org, day)

    assert behind == [1]
    assert [len(ids) for ids in groups] == [4] * 7 + [2]
    assert (report.looked, report.fired, report.messages) == (CLIENTS, CLIENTS, 2 * CLIENTS)
    assert report.by_channel == {"email": CLIENTS, "sms": CLIENTS}
    assert Reminder.objects.filter(fired_on=day).count() == CLIENTS
    messages = Message.objects.filter(day=day)
    assert sorted(messages.values_list("client_id", "channel")) == sorted(
        (c.pk, channel) for c in owing for channel in ("email", "sms")
    )
    assert set(Chase.objects.values_list("next_action_on", flat=True)) == {DUE + timedelta(4)}
    assert engine.run(org, day).fired == 0  # a rerun records nothing


def test_a_group_that_cannot_be_recorded_stops_the_run(org, owing, monkeypatch):
    """The writer's error reaches the run's caller; the groups before it stay recorded,
    the others are still due for the next run."""
    monkeypatch.setattr(engine, "CHASES_PER_BATCH", 4)
    write = engine._Recorder.write
    written = []

    def failing(self, batch):
        if len(written) == 2:
            raise RuntimeError("disk full")
        written.append(batch)
        return write(self, batch)

    monkeypatch.setattr(engine._Recorder, "write", failing)
    day = DUE + timedelta(days=1)

    with pytest.raises(RuntimeError, match="disk full"):
        engine.run(org, day)

    recorded = Reminder.objects.filter(fired_on=day)
    assert recorded.count() == sum(len(b.fired_plans) for b in written) == 8
    moved = Chase.objects.filter(next_action_on=DUE + timedelta(4))
    assert set(moved.values_list("pk", flat=True)) == set(
        recorded.values_list("chase_id", flat=True)
    )
    monkeypatch.setattr(engine._Recorder, "write", write)
    assert engine.run(org, day).fired == CLIENTS - 8  # the next run does the rest


# -- a chase changed between the reading and the recording of its group --------------------


@pytest.mark.parametrize("mode", ["writer thread", "one transaction"])
def test_a_payment_reversed_while_the_run_decides_is_chased(org, owing, monkeypatch, mode):
    """The run reads a group, then records what it decided. A payment reversed in between
    (by another connection) reopens the invoice's chase: the run must not close it from
    what it read (the invoice paid), but decide it again — here, chase it."""
    from relance.ledger import settlement
    from relance.ledger.models import Invoice

    monkeypatch.setattr(engine, "CHASES_PER_BATCH", 4)  # client 0 in the first group
    day = DUE + timedelta(days=1)
    invoice = Invoice.objects.get(client=owing[0])
    payment = settlement.record_payment(
        client=owing[0], amount=invoice.balance, currency="EUR", date=DUE,
        shares=[settlement.Share(invoice, invoice.balance)], thank=False,
    )  # fmt: skip
    chase = Chase.objects.get(invoice=invoice)
    assert not chase.closed and chase.next_action_on <= day  # the run closes it

    write = engine._Recorder.write
    reversed_ = []

    def reversal_between(self, batch):
        if not reversed_ and chase.pk in batch.ids:

            def reverse():
                try:
                    settlement.reverse_payment(payment, date=day, reason="Prélèvement rejeté")
                    reversed_.append(True)
                finally:
                    connection.close()

            other = threading.Thread(target=reverse)  # its own connection, committed
            other.start()
            other.join(timeout=30)
            assert reversed_, "the reversal did not commit"
        return write(self, batch)

    monkeypatch.setattr(engine._Recorder, "write", reversal_between)
    if mode == "writer thread":
        report = engine.run(org, day)
    else:
        with transaction.atomic():  # as in a caller's transaction: groups in savepoints
            report = engine.run(org, day)

    chase.refresh_from_db()
    assert reversed_ and not chase.closed
    assert report.closed == 0 and report.fired == CLIENTS
    assert Reminder.objects.filter(chase=chase, fired_on=day, status=ReminderStatus.FIRED).exists()
    assert Message.objects.filter(client=owing[0], day=day, channel="email").exists()
    assert chase.next_action_on == DUE + timedelta(days=4)  # the next step: the call
