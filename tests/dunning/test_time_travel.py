"""Time travel through the default "Standard B2B" ladder: the daily run (engine.run), the outbox
(dispatch.dispatch) against a real SMTP server, and the scheduler (scheduler.tick) at the
organisation's hour. Every date is passed in; nothing reads the clock.

Standard B2B: courtesy email at -3; friendly email + SMS at +1; call at +4; late-fee notice
(firm email) at +8; firm email from +11 and a firm call from +14, each every 7 days.
The invoice of most tests is due Wednesday 4 February 2026 (issued 5 January).
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from relance import formats
from relance.dunning import dispatch, scheduler
from relance.dunning.models import (
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
)
from relance.ledger import issuing, settlement
from relance.ledger.models import Activity
from relance.rules.terms import is_business_day

PARIS = ZoneInfo("Europe/Paris")
DUE = date(2026, 2, 4)


def day(offset: int) -> date:
    """The day ``offset`` days from the main invoice's due date."""
    return DUE + timedelta(days=offset)


def at(when: date, hour: int = 10, tz: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(when, time(hour), tzinfo=tz)


def eur(amount: str, currency: str = "EUR") -> str:
    """An amount as a French reminder prints it."""
    with translation.override("fr"):
        return formats.money(Decimal(amount), currency)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def sms_outbox(settings):
    from relance.dunning.transports import sms

    settings.RELANCE_SMS = {"BACKEND": "locmem"}
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def invoice(chased, make_invoice):
    return make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=DUE)


@pytest.fixture
def deliver(smtp_server, sms_outbox):
    """deliver(day): the dispatcher's pass at 10:00 in Paris on that day, or on the next
    business day when the organisation sends on business days only (the default)."""

    def run(when: date) -> dispatch.DispatchReport:
        while not is_business_day(when, "FR"):
            when += timedelta(days=1)
        return dispatch.dispatch(at(when))

    return run


def fired(**filters) -> list[tuple[int, int, date]]:
    """(step position, occurrence, day fired) of the fired reminders, in order."""
    return list(
        Reminder.objects.filter(status=ReminderStatus.FIRED, **filters)
        .order_by("fired_on", "position", "occurrence")
        .values_list("position", "occurrence", "fired_on")
    )


def run_days(run_day, first: date, last: date) -> None:
    when = first
    while when <= last:
        run_day(when)
        when += timedelta(days=1)


def pay(invoice, amount: str, on: date):
    return settlement.record_payment(
        client=invoice.client,
        amount=Decimal(amount),
        currency=invoice.currency,
        date=on,
        shares=[settlement.Share(invoice, Decimal(amount))],
    )


# -- the ladder walks, payments stop it --------------------------------------------------


def test_the_default_policy_walks_its_ladder_day_by_day(org, invoice, run_day, deliver):
    run_days(run_day, date(2026, 1, 5), day(15))
    assert fired() == [
        (1, 0, day(-3)),
        (2, 0, day(1)),
        (3, 0, day(4)),
        (4, 0, day(8)),
        (5, 0, day(11)),
        (6, 0, day(14)),
    ]
    assert Reminder.objects.filter(status=ReminderStatus.SKIPPED).count() == 0
    by_day = sorted(Message.objects.values_list("day", "channel", "template"))
    assert by_day == [
        (day(-3), "email", "before_due"),
        (day(1), "email", "friendly"),
        (day(1), "sms", "friendly"),
        (day(4), "call", "friendly"),
        (day(8), "email", "late_fee_notice"),
        (day(11), "email", "firm"),
        (day(14), "call", "firm"),
    ]


def test_partial_payment_mid_ladder(org, invoice, run_day, deliver, smtp_server, sms_outbox):
    run_day(day(1))
    deliver(day(1))
    [first] = smtp_server.messages
    assert eur("1200.00") in text_of(first)
    assert len(sms_outbox) == 1

    pay(invoice, "500.00", day(2))

    run_day(day(4))  # the call: a task for a person, no email
    assert Message.objects.get(day=day(4)).status == MessageStatus.TO_DO
    deliver(day(4))
    assert len(smtp_server.messages) == 1

    run_day(day(8))  # the ladder goes on: the late-fee notice
    deliver(day(8))
    second = text_of(smtp_server.messages[1])
    assert invoice.number in second
    assert eur("700.00") in second  # what is left to pay
    assert fired()[-1] == (4, 0, day(8))


def test_full_payment_stops_the_ladder(org, invoice, run_day, deliver, smtp_server, sms_outbox):
    run_day(day(1))
    deliver(day(1))
    pay(invoice, "1200.00", day(2))
    when = day(2)
    while when <= day(70):
        run_day(when)
        deliver(when)
        when += timedelta(days=1)
    assert len(smtp_server.messages) == 1 and len(sms_outbox) == 1
    assert fired() == [(2, 0, day(1))]
    chase = Chase.objects.get(invoice=invoice)
    assert chase.closed and chase.next_action_on is None


def test_missed_runs_send_one_message_at_the_highest_step(
    org, invoice, run_day, deliver, smtp_server, sms_outbox
):
    run_day(day(-3))
    deliver(day(-3))
    # The worker was down from the 5th to the 12th: one run on +9.
    report = run_day(day(9))
    assert (report.fired, report.skipped, report.messages) == (1, 2, 1)
    assert fired() == [(1, 0, day(-3)), (4, 0, day(9))]
    skipped = Reminder.objects.filter(status=ReminderStatus.SKIPPED)
    assert sorted(skipped.values_list("position", "planned_on", "fired_on")) == [
        (2, day(1), day(9)),
        (3, day(4), day(9)),
    ]
    deliver(day(9))
    assert len(smtp_server.messages) == 2  # the courtesy email, then the late-fee notice only
    assert sms_outbox == []  # the friendly SMS of +1 was skipped, not sent late
    assert not Message.objects.filter(channel="call").exists()
    assert Message.objects.get(day=day(9)).template == "late_fee_notice"
    assert Chase.objects.get(invoice=invoice).next_action_on == day(11)


def test_a_rerun_of_the_same_day_records_nothing_new(org, invoice, run_day, deliver, smtp_server):
    run_day(day(1))
    deliver(day(1))
    reminders, messages = Reminder.objects.count(), Message.objects.count()
    again = run_day(day(1))
    assert (again.fired, again.messages) == (0, 0)
    assert (Reminder.objects.count(), Message.objects.count()) == (reminders, messages)
    deliver(day(1))
    assert len(smtp_server.messages) == 1


def test_a_reminder_fired_after_the_day_s_message_left_is_still_sent(
    org, chased, invoice, make_invoice, run_day, deliver, smtp_server
):
    """A second run the same day (by hand, or a worker taking over) fires a reminder for an
    invoice entered since: the client's email of the day has already left without it."""
    run_day(day(1))
    deliver(day(1))
    late_entry = make_invoice(chased, "300.00", issue_date=date(2026, 1, 6), due=DUE)
    run_day(day(1))
    assert fired(invoice=late_entry) == []  # it waits for the next day's message
    run_days(run_day, day(2), day(3))
    assert fired(invoice=late_entry) == [(2, 0, day(2))]
    deliver(day(3))
    assert any(late_entry.number in text_of(m) for m in smtp_server.messages)


def test_a_dry_run_records_nothing(org, invoice, run_day):
    chase = Chase.objects.get(invoice=invoice)
    report = run_day(day(1), dry_run=True)
    assert report.dry_run and report.fired == 1 and report.messages == 2
    assert not Reminder.objects.exists()
    assert not Message.objects.exists()
    assert not Run.objects.exists()
    chase.refresh_from_db()
    assert chase.cursor is None and chase.next_action_on == date(2026, 1, 5)
    assert run_day(day(1)).fired == 1  # the real run still has its work


# -- stops and pauses ----------------------------------------------------------------


def test_a_credit_note_stops_the_ladder(org, invoice, run_day, deliver, smtp_server):
    run_day(day(1))
    issuing.credit_in_full(invoice, as_of=day(2))
    # The message decided before the credit note is not sent either.
    report = deliver(day(2))
    assert (report.cancelled, report.sent) == (2, 0)  # the email and the SMS
    run_days(run_day, day(2), day(40))
    assert [f[0] for f in fired()] == [2]
    assert Chase.objects.get(invoice=invoice).closed
    assert smtp_server.messages == []


def test_a_write_off_stops_the_ladder(org, invoice, run_day, deliver, smtp_server):
    run_day(day(1))
    issuing.write_off(invoice, reason="Client gone, not worth chasing")
    assert deliver(day(1)).sent == 0
    run_days(run_day, day(2), day(40))
    assert [f[0] for f in fired()] == [2]
    assert Chase.objects.get(invoice=invoice).closed
    assert smtp_server.messages == []


def test_an_insolvent_client_is_no_longer_chased(
    org, chased, invoice, run_day, deliver, smtp_server
):
    run_day(day(1))
    chased.status = "insolvent"  # insolvency proceedings: claims go to the administrator
    chased.save(update_fields=["status"])
    assert deliver(day(1)).sent == 0
    run_days(run_day, day(2), day(40))
    assert [f[0] for f in fired()] == [2]
    assert Chase.objects.get(invoice=invoice).closed
    assert smtp_server.messages == []


def test_payment_between_decide_and_send_cancels_the_message(
    org, invoice, run_day, deliver, smtp_server, sms_outbox
):
    run_day(day(1))
    pay(invoice, "1200.00", day(1))
    report = deliver(day(1))
    assert (report.sent, report.cancelled) == (0, 2)  # the email and the SMS
    assert smtp_server.messages == [] and sms_outbox == []
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}


def test_partial_payment_between_decide_and_send_asks_for_the_rest(
    org, invoice, run_day, deliver, smtp_server
):
    run_day(day(1))
    pay(invoice, "1000.00", day(1))
    deliver(day(1))
    [message] = smtp_server.messages
    assert eur("200.00") in text_of(message)


def test_pause_holds_the_ladder_and_it_resumes_on_its_day(
    org, chased, invoice, run_day, deliver, smtp_server
):
    run_day(day(1))
    Pause.objects.create(
        organisation=org,
        client=chased,
        kind=PauseKind.SNOOZE,
        reason="Waiting for their new accountant",
        starts_on=day(1),
        until=day(12),
    )
    # Paused before the dispatcher's pass: what the run decided is not sent.
    assert deliver(day(1)).cancelled == 2
    run_days(run_day, day(2), day(11))
    assert [f[0] for f in fired()] == [2]
    assert Chase.objects.get(invoice=invoice).next_action_on == day(12)

    report = run_day(day(12))
    assert report.pauses_ended == 1
    # It resumes at once at the highest step due: the firm email of +11.
    assert fired()[-1] == (5, 0, day(12))
    skipped = Reminder.objects.filter(status=ReminderStatus.SKIPPED, fired_on=day(12))
    assert sorted(skipped.values_list("position", flat=True)) == [3, 4]
    pause = Pause.objects.get()
    assert (pause.ended_on, pause.outcome) == (day(12), PauseOutcome.EXPIRED)
    deliver(day(12))
    assert len(smtp_server.messages) == 1


def test_a_pause_on_one_invoice_leaves_the_others(
    org, chased, invoice, make_invoice, run_day, deliver, smtp_server
):
    other = make_invoice(chased, "300.00", issue_date=date(2026, 1, 5), due=DUE)
    Pause.objects.create(
        organisation=org,
        client=chased,
        invoice=invoice,
        kind=PauseKind.DISPUTE,
        reason="Disputes the second delivery",
        starts_on=day(0),
    )
    run_day(day(1))
    assert set(Reminder.objects.values_list("invoice_id", flat=True)) == {other.pk}
    deliver(day(1))
    [message] = smtp_server.messages
    assert other.number in text_of(message) and invoice.number not in text_of(message)


def test_a_broken_promise_resumes_the_ladder_at_once(
    org, chased, invoice, run_day, deliver, smtp_server
):
    run_day(day(1))
    deliver(day(1))
    Pause.objects.create(
        organisation=org,
        client=chased,
        kind=PauseKind.PROMISE,
        reason="Will pay by the 10th",
        starts_on=day(2),
        until=day(6),
        amount=Decimal("1200.00"),
        currency="EUR",
    )
    run_days(run_day, day(2), day(6))  # the call of +4 waits
    assert [f[0] for f in fired()] == [2]

    report = run_day(day(7))  # the day after the promised day, nothing came
    assert report.promises_broken == 1
    assert fired()[-1] == (3, 0, day(7))  # the call, at once
    pause = Pause.objects.get()
    assert (pause.ended_on, pause.outcome) == (day(7), PauseOutcome.BROKEN)
    assert Activity.objects.filter(client=chased, text__contains="not kept").count() == 1

    run_day(day(8))
    assert fired()[-1] == (4, 0, day(8))  # and the ladder goes on as planned


def test_a_kept_promise_closes_the_chase(org, chased, invoice, run_day, deliver):
    run_day(day(1))
    Pause.objects.create(
        organisation=org,
        client=chased,
        kind=PauseKind.PROMISE,
        starts_on=day(2),
        until=day(6),
        amount=Decimal("1200.00"),
        currency="EUR",
    )
    pay(invoice, "1200.00", day(5))
    run_days(run_day, day(2), day(30))
    assert Pause.objects.get().outcome == PauseOutcome.KEPT
    assert [f[0] for f in fired()] == [2]
    assert Chase.objects.get(invoice=invoice).closed


# -- grouping and currencies ---------------------------------------------------------


def test_two_invoices_due_the_same_day_make_one_message_per_channel(
    org, chased, invoice, make_invoice, run_day, deliver, smtp_server, sms_outbox
):
    other = make_invoice(chased, "300.00", issue_date=date(2026, 1, 6), due=DUE)
    report = run_day(day(1))
    assert (report.fired, report.messages) == (2, 2)
    assert sorted(Message.objects.values_list("channel", flat=True)) == ["email", "sms"]
    deliver(day(1))
    [message] = smtp_server.messages
    body = text_of(message)
    assert invoice.number in body and other.number in body
    assert eur("1500.00") in body
    assert len(sms_outbox) == 1


def test_one_of_two_grouped_invoices_paid_before_sending(
    org, chased, invoice, make_invoice, run_day, deliver, smtp_server, sms_outbox
):
    other = make_invoice(chased, "300.00", issue_date=date(2026, 1, 6), due=DUE)
    run_day(day(1))
    pay(invoice, "1200.00", day(1))
    deliver(day(1))
    [message] = smtp_server.messages
    body = text_of(message)
    assert other.number in body and invoice.number not in body
    assert eur("300.00") in body and eur("1500.00") not in body


def test_the_grouped_message_takes_the_firmest_tone(
    org, chased, invoice, make_invoice, run_day, deliver, smtp_server, sms_outbox
):
    later = make_invoice(chased, "300.00", issue_date=date(2026, 1, 12), due=day(7))
    run_days(run_day, date(2026, 1, 5), day(8))
    # On +8 the first invoice is at its late-fee notice, the second at its friendly +1.
    email = Message.objects.get(day=day(8), channel="email")
    assert (email.tone, email.template) == ("firm", "late_fee_notice")
    assert Message.objects.get(day=day(8), channel="sms").template == "friendly"
    assert Message.objects.filter(day=day(8)).count() == 2
    deliver(day(8))
    body = text_of(smtp_server.messages[-1])
    assert invoice.number in body and later.number in body


def test_two_currencies_one_email_with_a_total_per_currency(
    org, chased, invoice, make_invoice, run_day, deliver, smtp_server
):
    dollars = make_invoice(chased, "250.00", issue_date=date(2026, 1, 6), due=DUE, currency="USD")
    run_day(day(1))
    assert Message.objects.filter(channel="email").count() == 1
    deliver(day(1))
    [message] = smtp_server.messages
    body = text_of(message)
    assert invoice.number in body and dollars.number in body
    assert eur("1200.00") in body and eur("250.00", "USD") in body
    # Never added across currencies.
    assert eur("1450.00") not in body and eur("1450.00", "USD") not in body
    assert f"{eur('250.00', 'USD')} + {eur('1200.00')}" in body or (
        f"{eur('1200.00')} + {eur('250.00', 'USD')}" in body
    )


# -- days, hours and time zones ----------------------------------------------------------


def ticks(first: datetime, last: datetime, every: timedelta) -> dict[date, datetime]:
    """The worker's minute, every ``every``: returns the moment each local day's run happened."""
    runs: dict[date, datetime] = {}
    now = first
    while now <= last:
        for report in scheduler.tick(now, worker="test").runs:
            assert report.as_of not in runs, f"a second run for {report.as_of} at {now}"
            runs[report.as_of] = now
        now += every
    return runs


def test_weekends_and_holidays_no_run_and_monday_catches_up(
    org, chased, make_invoice, smtp_server, sms_outbox
):
    # Due Friday 10 July 2026: +1 is Saturday 11, +4 is Tuesday 14 July (a holiday).
    make_invoice(chased, "800.00", issue_date=date(2026, 6, 10), due=date(2026, 7, 10))
    runs = ticks(
        datetime(2026, 7, 7, tzinfo=UTC), datetime(2026, 7, 15, 23, tzinfo=UTC), timedelta(hours=1)
    )
    days = [date(2026, 7, d) for d in (7, 8, 9, 10, 13, 15)]
    # Each at 8:00 in Paris (06:00 UTC in summer); none on the weekend or on 14 July.
    assert runs == {d: datetime.combine(d, time(6), tzinfo=UTC) for d in days}
    assert sorted(Run.objects.values_list("day", flat=True)) == days
    assert fired() == [
        (1, 0, date(2026, 7, 7)),
        (2, 0, date(2026, 7, 13)),  # Saturday's friendly reminder, on Monday
        (3, 0, date(2026, 7, 15)),  # Tuesday's call, on Wednesday
    ]
    friendly = Message.objects.get(channel="email", day=date(2026, 7, 13))
    assert friendly.not_before == datetime(2026, 7, 13, 6, tzinfo=UTC)
    assert friendly.sent_at == datetime(2026, 7, 13, 6, tzinfo=UTC)
    assert len(smtp_server.messages) == 2 and len(sms_outbox) == 1


def test_messages_wait_for_the_window_in_the_client_s_time_zone(
    org, chased, make_invoice, run_day, smtp_server, sms_outbox
):
    from relance.ledger.models import Client, Contact, ContactRole

    reunion = Client.objects.create(
        organisation=org, name="Saint-Denis Bâtiment", time_zone="Indian/Reunion"
    )
    Contact.objects.create(
        organisation=org,
        client=reunion,
        first_name="Paul",
        last_name="Hoarau",
        role=ContactRole.BILLING,
        email="compta@sdb.example",
    )
    make_invoice(chased, "800.00", issue_date=date(2026, 6, 10), due=date(2026, 7, 10))
    make_invoice(reunion, "600.00", issue_date=date(2026, 6, 10), due=date(2026, 7, 10))
    run_day(date(2026, 7, 11))  # a Saturday run (by hand): messages wait for Monday 8:00
    not_before = dict(
        Message.objects.filter(channel="email").values_list("client__name", "not_before")
    )
    assert not_before == {
        "ACME Industries": datetime(2026, 7, 13, 6, tzinfo=UTC),  # 8:00 in Paris
        "Saint-Denis Bâtiment": datetime(2026, 7, 13, 4, tzinfo=UTC),  # 8:00 in Réunion
    }
    assert dispatch.dispatch(datetime(2026, 7, 11, 12, tzinfo=UTC)).sent == 0
    assert dispatch.dispatch(datetime(2026, 7, 13, 5, tzinfo=UTC)).sent == 1  # Réunion only
    assert [m["To"] for m in smtp_server.messages] == ["compta@sdb.example"]
    dispatch.dispatch(datetime(2026, 7, 13, 6, tzinfo=UTC))
    assert len(smtp_server.messages) == 2


@pytest.mark.parametrize(
    ("due", "change", "opening"),
    [
        # Spring forward, Sunday 29 March 2026: 02:00 does not exist in Paris.
        (date(2026, 3, 28), date(2026, 3, 29), datetime(2026, 3, 29, 6, tzinfo=UTC)),
        # Fall back, Sunday 25 October 2026: 02:00 happens twice.
        (date(2026, 10, 24), date(2026, 10, 25), datetime(2026, 10, 25, 7, tzinfo=UTC)),
    ],
    ids=["march", "october"],
)
def test_daylight_saving_change_one_run_per_local_day(
    org, chased, make_invoice, smtp_server, sms_outbox, due, change, opening
):
    settings = DunningSettings.for_org(org)
    settings.run_hour, settings.business_days_only = 2, False
    settings.save()
    # Issued two days before its due date: no courtesy reminder, the friendly one on the change.
    make_invoice(chased, "900.00", issue_date=due - timedelta(days=2), due=due)
    first = datetime.combine(due - timedelta(days=2), time(0), tzinfo=UTC)
    runs = ticks(first, first + timedelta(days=5, minutes=-30), timedelta(minutes=30))
    days = [due - timedelta(days=2) + timedelta(days=n) for n in range(5)]
    assert sorted(runs) == days
    assert sorted(Run.objects.values_list("day", flat=True)) == days
    for run_day_, started in runs.items():  # the first tick at or after 02:00 local, that day
        local = started.astimezone(PARIS)
        assert local.date() == run_day_ and local.hour in (2, 3)
    change_run = runs[change]
    # 02:00 in Paris does not exist in March (the run comes at 03:00 CEST = 01:00 UTC); in
    # October the first 02:00 (CEST, 00:00 UTC) runs it, the second finds it done.
    assert change_run == (
        datetime(2026, 3, 29, 1, tzinfo=UTC)
        if change.month == 3
        else datetime(2026, 10, 25, 0, tzinfo=UTC)
    )
    assert fired() == [(2, 0, change)]
    email = Message.objects.get(channel="email")
    assert email.day == change and email.not_before == opening and email.sent_at == opening
    assert len(smtp_server.messages) == 1 and len(sms_outbox) == 1
