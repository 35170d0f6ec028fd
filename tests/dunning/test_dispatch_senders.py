"""Several senders in one dispatch pass: each takes batches from the same queue, over its
own database and SMTP connections, so that the mail server's (or the database's) round
trips are waited on side by side. Claims keep them off each other's messages."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from relance.dunning import dispatch
from relance.dunning.models import Attempt, Message, MessageStatus
from relance.ledger.models import Activity, ActivityKind, Client, Contact, ContactRole

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the senders' connections see the rows
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite's in-memory test database sends with one sender (its shared cache's "
        "locks fail at once); test_crash.py runs several on a database file",
    ),
]

DAY = date(2026, 2, 5)  # +1 after the due date: the friendly email
NOW = datetime(2026, 2, 5, 9, 30, tzinfo=UTC)  # 10:30 in Paris, a Thursday
CLIENTS = 12


class _Overlapping:
    """An SMTP server that holds each message until ``together`` of them are being
    handed over at once (or a few seconds have passed), and notes how many it saw at
    once and over which connections."""

    def __init__(self, together: int) -> None:
        self.together = together
        self.inside = 0
        self.most = 0
        self.peers: list[tuple] = []
        self.ids: list[str] = []
        self.met: asyncio.Event | None = None

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.met = self.met or asyncio.Event()
        self.inside += 1
        self.most = max(self.most, self.inside)
        if self.inside >= self.together:
            self.met.set()
        try:
            await asyncio.wait_for(self.met.wait(), timeout=5)
        except TimeoutError:
            pass  # one sender only: the test's assertions say so
        finally:
            self.inside -= 1
        self.peers.append(session.peer)
        self.ids.append(message_from_bytes(envelope.content, policy=policy.default)["Message-ID"])
        return "250 Message accepted for delivery"


@pytest.fixture
def owing(org, make_invoice, monkeypatch):
    """CLIENTS clients with one invoice each, due the day before DAY, and a billing
    contact without a phone (the day's SMS is cancelled at send time); two messages a
    batch."""
    monkeypatch.setattr(dispatch, "READ_AHEAD", 2)
    for n in range(CLIENTS):
        client = Client.objects.create(organisation=org, name=f"Client {n:02d}", language="fr")
        Contact.objects.create(
            organisation=org, client=client, first_name="Claire", last_name=f"N{n}",
            role=ContactRole.BILLING, email=f"factures{n}@client.example",
        )  # fmt: skip
        make_invoice(client, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))


def test_senders_share_the_queue_and_send_each_message_once(owing, run_day, serve_smtp):
    server = _Overlapping(together=2)
    serve_smtp(server)
    run_day(DAY)
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 2 * CLIENTS

    report = dispatch.dispatch(NOW, senders=3)

    assert (report.sent, report.cancelled, report.failed, report.uncertain) == (
        CLIENTS, CLIENTS, 0, 0
    )  # fmt: skip
    assert len(server.ids) == CLIENTS and len(set(server.ids)) == CLIENTS
    assert 2 <= server.most <= 3  # handed over side by side, never more than the senders
    assert len(set(server.peers)) == 3  # one SMTP connection per sender, kept for its batches
    emails = Message.objects.filter(channel="email")
    assert set(emails.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert set(emails.values_list("message_id", flat=True)) == set(server.ids)
    assert Attempt.objects.count() == CLIENTS
    assert Activity.objects.filter(kind=ActivityKind.SENT).count() == CLIENTS
    assert dispatch.dispatch(NOW, senders=3).sent == 0  # nothing left, nothing sent again


def test_a_sender_that_fails_stops_the_pass_and_leaves_the_rest_queued(
    owing, run_day, serve_smtp, monkeypatch
):
    """An error outside a message (here the register cannot be read for a batch)
    reaches the caller; what was sent is recorded once, the rest waits, queued."""
    server = _Overlapping(together=1)
    serve_smtp(server)
    run_day(DAY)
    read = dispatch.Ahead.read
    calls = []
    lock = threading.Lock()

    def failing(messages):
        with lock:
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("connection to the database lost")
        return read(messages)

    monkeypatch.setattr(dispatch.Ahead, "read", staticmethod(failing))

    with pytest.raises(RuntimeError, match="database lost"):
        dispatch.dispatch(NOW, senders=2)

    emails = Message.objects.filter(channel="email")
    sent = emails.filter(status=MessageStatus.SENT)
    assert 1 <= sent.count() < CLIENTS
    assert not Message.objects.filter(status=MessageStatus.SENDING).exists()
    assert emails.filter(status=MessageStatus.QUEUED).count() == CLIENTS - sent.count()
    assert sorted(server.ids) == sorted(sent.values_list("message_id", flat=True))

    monkeypatch.setattr(dispatch.Ahead, "read", read)
    before = len(server.ids)
    assert dispatch.dispatch(NOW, senders=2).sent == CLIENTS - before
    assert len(server.ids) == CLIENTS and len(set(server.ids)) == CLIENTS
    assert Attempt.objects.count() == CLIENTS
