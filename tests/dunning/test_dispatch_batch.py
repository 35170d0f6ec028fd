"""Dispatch in batches: the register read once for a batch, one SMTP connection per pass,
and still each message claimed by compare-and-set just before it is sent."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relance.dunning import dispatch
from relance.dunning.models import Message, MessageStatus
from relance.dunning.transports import Outgoing
from relance.dunning.transports.email import EmailTransport

DAY = date(2026, 2, 5)  # +1 after the due date: the friendly email (and SMS)
NOW = datetime(2026, 2, 5, 9, 30, tzinfo=UTC)


class _Sessions:
    """An aiosmtpd handler that notes from which client connection each message came."""

    def __init__(self) -> None:
        self.peers: list[tuple] = []
        self.transports: list = []

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        self.transports.append(server.transport)
        return "250 Message accepted for delivery"


@pytest.fixture
def sessions(serve_smtp):
    handler = _Sessions()
    return handler, serve_smtp(handler)


def _clients(org, make_invoice, count: int) -> None:
    from relance.ledger.models import Client, Contact, ContactRole

    for n in range(count):
        client = Client.objects.create(
            organisation=org, name=f"Client {n}", siren="552100554", language="fr"
        )
        Contact.objects.create(
            organisation=org, client=client, first_name="Claire", last_name=f"N{n}",
            role=ContactRole.BILLING, email=f"factures{n}@client.example",
        )  # fmt: skip
        make_invoice(client, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))


def test_a_pass_sends_every_email_over_one_connection(org, make_invoice, run_day, sessions):
    handler, _controller = sessions
    _clients(org, make_invoice, 3)
    run_day(DAY)

    report = dispatch.dispatch(NOW)

    assert report.sent == 3
    assert len(handler.peers) == 3
    assert len(set(handler.peers)) == 1  # one connection, not one per message
    assert set(Message.objects.filter(channel="email").values_list("status", flat=True)) == {
        MessageStatus.SENT
    }


def test_a_kept_connection_dropped_by_the_server_is_opened_again(sessions):
    handler, controller = sessions
    message = Outgoing(
        channel="email", to=("factures@client.example",), subject="Rappel", text="Bonjour",
        sender="compta@atelier.example", message_id="<one@atelier.example>",
    )  # fmt: skip
    transport = EmailTransport()
    with transport.keep_open():
        transport.send(message)
        # The server hangs up while the connection is idle (a timeout, a restart).
        closed = threading.Event()

        def hang_up() -> None:
            handler.transports[0].close()
            controller.loop.call_soon(closed.set)  # after the socket is closed

        controller.loop.call_soon_threadsafe(hang_up)
        assert closed.wait(10)
        transport.send(message)

    assert len(handler.peers) == 2  # each delivered once
    assert handler.peers[0] != handler.peers[1]  # the second over a new connection


def test_a_message_changed_after_it_was_read_waits_for_the_next_pass(
    org, chased, make_invoice, run_day, smtp_server, monkeypatch
):
    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    run_day(DAY)
    email = Message.objects.get(channel="email")
    read = dispatch.Ahead.read

    def read_then_a_second_run_raises_the_tone(messages):
        ahead = read(messages)
        Message.objects.filter(pk=email.pk).update(tone="firm", template="firm")
        return ahead

    monkeypatch.setattr(
        dispatch.Ahead, "read", staticmethod(read_then_a_second_run_raises_the_tone)
    )
    first = dispatch.dispatch(NOW)
    monkeypatch.undo()

    assert first.sent == 1  # the SMS only: the email changed since it was read
    email.refresh_from_db()
    assert email.status == MessageStatus.QUEUED and email.attempts == 0
    assert smtp_server.messages == []

    second = dispatch.dispatch(NOW)

    assert second.sent == 1
    email.refresh_from_db()
    assert email.status == MessageStatus.SENT and email.template == "firm"
    assert len(smtp_server.messages) == 1


def _queries(org, make_invoice, run_day, count: int) -> int:
    _clients(org, make_invoice, count)
    run_day(DAY)
    with CaptureQueriesContext(connection) as queries:
        report = dispatch.dispatch(NOW)
    assert report.sent == count
    Message.objects.all().delete()
    return len(queries)


def test_the_queries_of_a_pass_do_not_grow_with_its_invoices(
    org, make_invoice, run_day, smtp_server
):
    two = _queries(org, make_invoice, run_day, 2)
    eight = _queries(org, make_invoice, run_day, 8)

    # Per client: the email's claim, content, then sent + attempt + timeline in a
    # savepoint (7), the SMS's claim and cancellation (no mobile: 2). The register,
    # settings and fees are read per batch, not per message.
    assert (eight - two) / 6 <= 9


class _Refusing(_Sessions):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user"


def test_a_bounce_in_a_batch_stops_the_clients_next_message(
    org, chased, make_invoice, run_day, serve_smtp
):
    """The email bounces: the client is paused (a task for a person), so its SMS read
    in the same batch is not sent either, as when each message read the register."""
    from relance.dunning.models import Pause

    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    run_day(DAY)
    serve_smtp(_Refusing())

    report = dispatch.dispatch(NOW)

    assert report.failed == 1 and report.sent == 0
    assert Pause.objects.filter(client=chased, ended_on__isnull=True).exists()
    statuses = dict(Message.objects.values_list("channel", "status"))
    assert statuses == {"email": MessageStatus.FAILED, "sms": MessageStatus.CANCELLED}
