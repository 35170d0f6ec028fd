"""What a person does with the reminders: each action changes what it says,
writes the client's timeline, refuses bad input with nothing saved, and a
second click changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from relance.dunning import actions, dispatch
from relance.dunning.actions import ActionError
from relance.dunning.models import (
    Channel,
    ChannelState,
    Chase,
    Message,
    MessageStatus,
    Pause,
    PauseKind,
    PauseOutcome,
    Step,
)
from relance.ledger.models import Activity, ActivityKind, Contact, NonPaymentReason

DUE = date(2026, 2, 4)  # a Wednesday
ISSUED = date(2026, 1, 5)


@pytest.fixture
def invoice(chased, make_invoice):
    return make_invoice(chased, "1200.00", issue_date=ISSUED, due=DUE)


@pytest.fixture
def call_task(invoice, run_day):
    """The Standard B2B call at +4 (the run collapses to it after missed days)."""
    run_day(DUE + timedelta(days=4))
    return Message.objects.get(channel=Channel.CALL)


def activities(client, kind=None):
    rows = Activity.objects.filter(client=client)
    return list(rows.filter(kind=kind) if kind else rows)


# -- pauses --------------------------------------------------------------------------


def test_a_promise_pauses_the_client_and_says_so(chased, invoice, alice):
    today = date(2026, 2, 10)
    pause = actions.pause(
        chased, kind=PauseKind.PROMISE, today=today, until=date(2026, 2, 20),
        amount="600", author=alice,
    )  # fmt: skip
    assert pause.is_active and pause.amount == Decimal("600.00") and pause.currency == "EUR"
    assert pause.resume_on() == date(2026, 2, 21)  # the day after the promised date
    (entry,) = activities(chased, ActivityKind.STATUS)
    assert "Promise to pay €600.00 by Feb 20, 2026" in entry.text
    assert entry.author == alice


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "promise"}, "Give the date the client promised to pay by."),
        ({"kind": "promise", "until": date(2026, 2, 9)}, "The date is in the past"),
        ({"kind": "promise", "until": date(2026, 2, 20), "amount": "-5"}, "more than zero"),
        ({"kind": "promise", "until": date(2026, 2, 20), "amount": "abc"}, "not a number"),
        ({"kind": "dispute", "reason": "   "}, "Say what the client disputes."),
        ({"kind": "snooze"}, "Give the day the reminders should resume."),
        ({"kind": "snooze", "until": date(2026, 2, 10)}, "a later day than today"),
        ({"kind": "contact"}, "Choose what holds the reminders"),
        ({"kind": "holiday"}, "Choose what holds the reminders"),
        ({"kind": "snooze", "until": date(2026, 3, 1), "amount": "10"}, "Only a promise"),
    ],
)
def test_bad_pauses_are_refused_and_nothing_is_saved(chased, invoice, kwargs, message):
    with pytest.raises(ActionError, match=message):
        actions.pause(chased, today=date(2026, 2, 10), **kwargs)
    assert not Pause.objects.exists()
    assert not activities(chased, ActivityKind.STATUS)


def test_a_pause_on_another_clients_invoice_is_refused(org, chased, invoice, make_invoice):
    from relance.ledger.models import Client

    other = Client.objects.create(organisation=org, name="Other")
    with pytest.raises(ActionError, match="not one of the client's"):
        actions.pause(other, kind="snooze", today=date(2026, 2, 10), invoice=invoice,
                      until=date(2026, 3, 1))  # fmt: skip
    assert not Pause.objects.exists()


def test_a_dispute_records_the_reason_for_non_payment_once(chased, invoice, alice):
    actions.pause(chased, kind="dispute", today=date(2026, 2, 10), reason="Wrong quantity",
                  invoice=invoice, owner=alice)  # fmt: skip
    chased.refresh_from_db()
    assert chased.nonpayment_reason == NonPaymentReason.DISPUTE
    # A reason already recorded is the person's: a later dispute does not overwrite it.
    actions.set_nonpayment_reason(chased, "bank", "Card blocked", author=alice)
    actions.pause(chased, kind="dispute", today=date(2026, 2, 11), reason="Second point")
    chased.refresh_from_db()
    assert chased.nonpayment_reason == "bank"


def test_the_owner_must_belong_to_the_organisation(chased, invoice, charlie):
    with pytest.raises(ActionError, match="member of the organisation"):
        actions.pause(chased, kind="dispute", today=date(2026, 2, 10), reason="x", owner=charlie)
    assert not Pause.objects.exists()


def test_lifting_a_pause_wakes_the_ladder_and_cannot_happen_twice(chased, invoice, run_day, alice):
    run_day(DUE + timedelta(days=1))  # friendly email + SMS
    chase = Chase.objects.get(invoice=invoice)
    pause = actions.pause(chased, kind="dispute", today=DUE + timedelta(days=2), reason="Price")
    chase.refresh_from_db()
    later = chase.next_action_on
    assert later > DUE + timedelta(days=3)
    actions.lift(pause, today=DUE + timedelta(days=3), author=alice)
    pause.refresh_from_db()
    assert pause.ended_on == DUE + timedelta(days=3) and pause.outcome == PauseOutcome.LIFTED
    chase.refresh_from_db()
    assert chase.next_action_on == DUE + timedelta(days=3)
    assert any("lifted" in a.text for a in activities(chased, ActivityKind.STATUS))
    with pytest.raises(ActionError, match="already ended"):
        actions.lift(pause, today=DUE + timedelta(days=4))


# -- calls ----------------------------------------------------------------------------


def test_logging_a_promise_closes_the_call_and_pauses(chased, call_task, alice):
    today = DUE + timedelta(days=4)
    actions.log_call(
        call_task, outcome="promise", today=today, author=alice, note="Claire will pay Friday",
        promise_until=today + timedelta(days=3), promise_amount="1200",
    )  # fmt: skip
    call_task.refresh_from_db()
    assert call_task.status == MessageStatus.DONE and call_task.outcome == "promise"
    assert call_task.handled_by == alice and call_task.note == "Claire will pay Friday"
    pause = Pause.objects.get()
    assert pause.kind == PauseKind.PROMISE and pause.until == today + timedelta(days=3)
    (call,) = activities(chased, ActivityKind.CALL)
    assert call.call_outcome == "promise" and "Claire will pay Friday" in call.text


def test_a_promise_without_a_date_leaves_the_call_to_do(chased, call_task):
    with pytest.raises(ActionError, match="promised to pay by"):
        actions.log_call(call_task, outcome="promise", today=DUE + timedelta(days=4))
    call_task.refresh_from_db()
    assert call_task.status == MessageStatus.TO_DO and call_task.outcome == ""
    assert not Pause.objects.exists() and not activities(chased, ActivityKind.CALL)


def test_a_dispute_on_the_phone_needs_its_reason(chased, call_task):
    today = DUE + timedelta(days=4)
    with pytest.raises(ActionError, match="disputes"):
        actions.log_call(call_task, outcome="dispute", today=today)
    actions.log_call(call_task, outcome="dispute", today=today, dispute_reason="Not delivered")
    assert Pause.objects.get().reason == "Not delivered"


def test_a_wrong_number_marks_the_contact_and_pauses_for_a_person(chased, call_task):
    actions.log_call(call_task, outcome="wrong_number", today=DUE + timedelta(days=4))
    contact = Contact.objects.get(client=chased)
    assert contact.bounced_at is not None and "Wrong number" in contact.bounce_reason
    pause = Pause.objects.get()
    assert pause.kind == PauseKind.CONTACT_PROBLEM and "+33612345678" in pause.reason


def test_a_call_is_logged_once(chased, call_task):
    actions.log_call(call_task, outcome="no_answer", today=DUE + timedelta(days=4))
    with pytest.raises(ActionError, match="already been logged"):
        actions.log_call(call_task, outcome="reached", today=DUE + timedelta(days=4))
    call_task.refresh_from_db()
    assert call_task.outcome == "no_answer"
    assert len(activities(chased, ActivityKind.CALL)) == 1


def test_only_calls_have_outcomes(chased, invoice, run_day):
    run_day(DUE + timedelta(days=1))
    email = Message.objects.get(channel="email")
    with pytest.raises(ActionError, match="Only a call"):
        actions.log_call(email, outcome="reached", today=DUE + timedelta(days=1))


# -- approval ---------------------------------------------------------------------------


@pytest.fixture
def waiting(org, invoice, run_day):
    """The +1 friendly step needs approval: its email and SMS wait for a person."""
    Step.objects.filter(policy__organisation=org, policy__is_default=True, offset_days=1).update(
        needs_approval=True
    )
    run_day(DUE + timedelta(days=1))
    return Message.objects.get(channel="email")


def test_approve_queues_it_once_and_keeps_its_time(chased, waiting, alice):
    assert waiting.status == MessageStatus.AWAITING_APPROVAL
    not_before = waiting.not_before
    now = datetime(2026, 2, 5, 7, 0, tzinfo=UTC)
    assert actions.approve(waiting, author=alice, now=now) is True
    assert actions.approve(waiting, author=alice, now=now) is False  # the second does nothing
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.QUEUED and waiting.not_before == not_before
    notes = [a.text for a in activities(chased, ActivityKind.NOTE)]
    assert len(notes) == 1 and "approved" in notes[0]


def test_reject_cancels_and_a_rejected_message_cannot_be_approved(chased, waiting, alice):
    assert actions.reject(waiting, author=alice, reason="They paid by cheque") is True
    assert actions.approve(waiting, author=alice, now=datetime.now(UTC)) is False
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.CANCELLED and waiting.note == "They paid by cheque"
    assert "They paid by cheque" in activities(chased, ActivityKind.NOTE)[0].text


# -- letters ----------------------------------------------------------------------------


def test_a_printed_letter_is_done(org, chased, invoice, run_day, alice):
    Step.objects.filter(policy__organisation=org, policy__is_default=True, offset_days=1).update(
        channels=["letter"]
    )
    run_day(DUE + timedelta(days=1))
    dispatch.dispatch(datetime(2026, 2, 5, 9, 0, tzinfo=UTC))
    letter = Message.objects.get(channel="letter")
    assert letter.status == MessageStatus.TO_DO and letter.pdf
    now = datetime(2026, 2, 5, 14, 0, tzinfo=UTC)
    assert actions.mark_printed(letter, author=alice, now=now) is True
    assert actions.mark_printed(letter, author=alice, now=now) is False
    letter.refresh_from_db()
    assert letter.status == MessageStatus.DONE and letter.sent_at == now
    email = Message.objects.filter(channel="email").first()
    if email is not None:
        with pytest.raises(ActionError):
            actions.mark_printed(email, author=alice, now=now)


# -- failed and uncertain ----------------------------------------------------------------


@pytest.fixture
def interrupted(invoice, run_day):
    """An email a worker claimed and then died sending: recovered as uncertain."""
    run_day(DUE + timedelta(days=1))
    email = Message.objects.get(channel="email")
    claimed = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)
    Message.objects.filter(pk=email.pk).update(
        status=MessageStatus.SENDING, claimed_at=claimed, attempts=1, message_id="<m1@x>"
    )
    assert dispatch.recover(claimed + timedelta(hours=1)) == 1
    email.refresh_from_db()
    return email


def test_a_person_says_the_client_got_it(chased, interrupted, alice):
    assert interrupted.status == MessageStatus.UNCERTAIN
    assert actions.resolve_uncertain(interrupted, delivered=True, author=alice) is True
    interrupted.refresh_from_db()
    assert interrupted.status == MessageStatus.SENT and interrupted.sent_at is not None
    assert actions.resolve_uncertain(interrupted, delivered=False, author=alice) is False
    assert "checked that the client got it" in activities(chased, ActivityKind.NOTE)[0].text


def test_send_again_is_an_explicit_decision_that_is_delivered_once(
    chased, interrupted, alice, smtp_server
):
    now = datetime(2026, 2, 5, 9, 30, tzinfo=UTC)
    assert actions.resolve_uncertain(interrupted, delivered=False, author=alice, now=now)
    interrupted.refresh_from_db()
    assert interrupted.status == MessageStatus.QUEUED and interrupted.attempts == 0
    assert "asked to send it again" in activities(chased, ActivityKind.NOTE)[0].text
    dispatch.dispatch(datetime(2026, 2, 5, 10, 0, tzinfo=UTC))
    dispatch.dispatch(datetime(2026, 2, 5, 10, 5, tzinfo=UTC))
    interrupted.refresh_from_db()
    assert interrupted.status == MessageStatus.SENT
    (received,) = smtp_server.messages
    assert received["Message-ID"] == "<m1@x>"  # the same id: the client's mail sees one message


def test_a_failed_message_is_sent_again_after_the_contact_is_fixed(
    chased, invoice, run_day, alice, smtp_server
):
    run_day(DUE + timedelta(days=1))
    smtp_server.reject_with = "550 5.1.1 No such user"
    dispatch.dispatch(datetime(2026, 2, 5, 9, 0, tzinfo=UTC))
    email = Message.objects.get(channel="email")
    assert email.status == MessageStatus.FAILED
    # The person fixes the address, lifts the contact pause and asks to send again.
    Contact.objects.filter(client=chased).update(
        email="claire@acme.example", bounced_at=None, bounce_reason=""
    )
    for pause in Pause.objects.filter(kind=PauseKind.CONTACT_PROBLEM):
        actions.lift(pause, today=DUE + timedelta(days=1), author=alice)
    smtp_server.reject_with = None
    now = datetime(2026, 2, 5, 9, 30, tzinfo=UTC)
    assert actions.resolve_uncertain(email, delivered=False, author=alice, now=now)
    dispatch.dispatch(datetime(2026, 2, 5, 10, 0, tzinfo=UTC))
    email.refresh_from_db()
    assert email.status == MessageStatus.SENT
    assert [m["To"] for m in smtp_server.messages] == ["claire@acme.example"]


def test_cancel_drops_a_task_once(chased, call_task, alice):
    assert actions.cancel(call_task, author=alice, reason="Paid at the counter") is True
    assert actions.cancel(call_task, author=alice) is False
    call_task.refresh_from_db()
    assert call_task.status == MessageStatus.CANCELLED


# -- the client and the organisation -----------------------------------------------------


def test_reason_for_non_payment_is_set_and_cleared(chased, alice):
    actions.set_nonpayment_reason(chased, "financial", "Waiting for a grant", author=alice)
    chased.refresh_from_db()
    assert (chased.nonpayment_reason, chased.nonpayment_detail) == (
        "financial",
        "Waiting for a grant",
    )
    actions.set_nonpayment_reason(chased, "", "", author=alice)
    chased.refresh_from_db()
    assert chased.nonpayment_reason == ""
    texts = [a.text for a in activities(chased, ActivityKind.STATUS)]
    assert any("Financial difficulty" in t for t in texts) and any("cleared" in t for t in texts)


def test_an_unknown_reason_is_refused(chased, alice):
    with pytest.raises(ActionError, match="from the list"):
        actions.set_nonpayment_reason(chased, "lazy", "", author=alice)
    chased.refresh_from_db()
    assert chased.nonpayment_reason == "" and not activities(chased)


def test_enable_a_channel_again(org, alice):
    ChannelState.objects.create(
        organisation=org, channel="sms", disabled_at=datetime.now(UTC), reason="401 bad token"
    )
    assert actions.enable_channel(org, "sms", author=alice) is True
    assert not ChannelState.objects.exists()
    assert actions.enable_channel(org, "sms", author=alice) is False
