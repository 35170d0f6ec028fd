from datetime import date

from relance.dunning.models import Chase, Message, Reminder


def test_standard_ladder_first_steps(org, chased, make_invoice, run_day):
    invoice = make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    assert Chase.objects.filter(invoice=invoice).count() == 1
    report = run_day(date(2026, 1, 5))
    assert report.fired == 0
    chase = Chase.objects.get(invoice=invoice)
    assert chase.next_action_on == date(2026, 2, 1)
    report = run_day(date(2026, 2, 1))
    assert report.fired == 1
    assert Message.objects.get().template == "before_due"
    report = run_day(date(2026, 2, 1))
    assert report.fired == 0 and Reminder.objects.count() == 1


def test_dispatch_sends_email(org, chased, make_invoice, run_day, smtp_server):
    from datetime import UTC, datetime

    from relance.dunning import dispatch

    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    run_day(date(2026, 2, 5))  # +1: friendly email + sms
    report = dispatch.dispatch(datetime(2026, 2, 5, 9, 30, tzinfo=UTC))
    assert report.sent >= 1, report
    (msg,) = smtp_server.messages
    print(msg["Subject"])
    print(msg.get_body(("plain",)).get_content())


def test_forecast_and_simulate(org, chased, make_invoice):
    from relance.dunning import foresight
    from relance.dunning.models import Policy

    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    items = foresight.forecast(org, date(2026, 2, 1), days=7)
    assert [(i.day, i.channel) for i in items] == [
        (date(2026, 2, 2), "email"),  # -3 falls on Sunday 1 Feb: the Monday run sends it
        (date(2026, 2, 5), "email"),
        (date(2026, 2, 5), "sms"),
    ]
    policy = Policy.objects.get(organisation=org, is_default=True)
    result = foresight.simulate(org, policy, date(2026, 1, 1), date(2026, 3, 31))
    assert result.messages > 3


def test_a_message_before_the_window_waits_for_it_the_same_day(org, chased, make_invoice, run_day):
    from datetime import UTC, datetime

    from relance.dunning import dispatch

    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    run_day(date(2026, 2, 5))
    Message.objects.update(not_before=datetime(2026, 2, 5, 5, 0, tzinfo=UTC))
    report = dispatch.dispatch(datetime(2026, 2, 5, 6, 0, tzinfo=UTC))  # 07:00 in Paris
    assert report.deferred == 2 and report.sent == 0
    assert set(Message.objects.values_list("not_before", flat=True)) == {
        datetime(2026, 2, 5, 7, 0, tzinfo=UTC)  # 08:00 in Paris, that same morning
    }


def test_forecast_of_sent_invoices_and_held_chases(org, chased, make_invoice, run_day):
    """The "next 7 days" page on a register as it is in use: invoices sent by email (the
    ladder starts from the sending day) and a chase its run looks at without firing."""
    from datetime import UTC, datetime

    from relance.dunning import foresight
    from relance.ledger.models import Invoice

    sent = make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    Invoice.objects.filter(pk=sent.pk).update(sent_at=datetime(2026, 1, 6, 9, 0, tzinfo=UTC))
    waiting = make_invoice(chased, "300.00", issue_date=date(2026, 1, 20), due=date(2026, 3, 20))
    # Looked at on the 1st: nothing fires before 17 March, yet the chase is due that day.
    Chase.objects.filter(invoice=waiting).update(next_action_on=date(2026, 2, 1))
    items = foresight.forecast(org, date(2026, 2, 1), days=7)
    assert [(i.day, i.channel, i.invoice_numbers) for i in items] == [
        (date(2026, 2, 2), "email", [sent.number]),
        (date(2026, 2, 5), "email", [sent.number]),
        (date(2026, 2, 5), "sms", [sent.number]),
    ]


def test_every_change_of_a_chase_raises_its_version(org, chased, make_invoice, run_day):
    """What the run checks before it records a group (on PostgreSQL): a chase changed
    since it was read has another version, whoever changed it."""
    from relance.dunning import chases, engine

    invoice = make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    chase = Chase.objects.get(invoice=invoice)
    versions = [chase.version]

    def now() -> int:
        versions.append(Chase.objects.get(pk=chase.pk).version)
        return versions[-1]

    run_day(date(2026, 2, 1))  # the courtesy reminder: the run moves it
    assert now() > versions[-2]
    engine.wake(client_id=chased.pk, on=date(2026, 2, 2))  # a pause ended early
    assert now() > versions[-2]
    chases.reopen_for(invoice, on=date(2026, 2, 3))  # a payment reversed
    assert now() > versions[-2]
    Chase.objects.filter(pk=chase.pk).update(closed=True)  # any other change
    assert now() > versions[-2]
