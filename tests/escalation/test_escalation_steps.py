"""The ladder's escalation steps, once fired by the daily run, are acted on once."""

from datetime import date

from relance.dunning import engine
from relance.dunning.models import Reminder
from relance.escalation import steps
from relance.escalation.models import (
    Escalation,
    EscalationKind,
    EscalationStatus,
    FormalNotice,
    NoticeStatus,
    StepDone,
)
from relance.ledger.models import Activity, ClientStatus


def run(org, day):
    engine.run(org, day)
    return steps.act(org, day)


def test_each_escalation_step_is_acted_on_once(org, debtor, overdue, ladder):
    # Both invoices fire the work stop (due 4 and 20 February): one hold.
    run(org, date(2026, 3, 6))
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD
    hold = Escalation.objects.get(client=debtor, kind=EscalationKind.WORK_STOP)
    assert hold.reminder.kind == "work_stop"
    assert run(org, date(2026, 3, 6)) == 0  # a rerun does nothing new
    run(org, date(2026, 3, 23))  # the second invoice's work stop: already on hold
    assert Escalation.objects.filter(client=debtor, kind=EscalationKind.WORK_STOP).count() == 1
    assert StepDone.objects.filter(outcome="already on hold").count() == 1

    run(org, date(2026, 3, 23))  # formal notice step of the first invoice (+45)
    notice = FormalNotice.objects.get(client=debtor)
    assert notice.status == NoticeStatus.AWAITING_APPROVAL
    assert notice.invoices.count() == 2  # every overdue invoice of the client

    run(org, date(2026, 5, 5))  # hand-off proposal (+90)
    proposal = Escalation.objects.get(client=debtor, kind=EscalationKind.COLLECTION)
    assert proposal.status == EscalationStatus.PROPOSED
    # The engine did not stop the client: only a person hands it off.
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD
    recorded = Reminder.objects.filter(client=debtor, kind__in=steps.KINDS).count()
    assert StepDone.objects.count() == recorded


def test_a_stopped_client_gets_nothing(org, debtor, overdue, ladder):
    engine.run(org, date(2026, 2, 5))
    debtor.status = ClientStatus.INSOLVENT
    debtor.save()
    # Steps fired before the client became insolvent are not acted on.
    Reminder.objects.create(
        organisation=org,
        chase=overdue[0].chases.get(),
        client=debtor,
        invoice=overdue[0],
        channels="",
        position=51,
        planned_on=date(2026, 3, 21),
        fired_on=date(2026, 3, 21),
        status="fired",
        tone="formal",
        kind="formal_notice",
    )
    assert steps.act(org, date(2026, 3, 21)) == 1
    assert not FormalNotice.objects.exists()
    assert StepDone.objects.get().outcome == "client stopped"


def test_a_work_stop_step_without_a_channel_still_tells_the_client(
    org, debtor, overdue, ladder, smtp_server
):
    ladder.steps.filter(kind="work_stop").update(channels=[])
    run(org, date(2026, 3, 6))
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD
    (message,) = smtp_server.messages
    assert message["To"] == "factures@acme.example"
    assert "suspendre les travaux" in message.get_body(("plain",)).get_content()
    run(org, date(2026, 3, 6))
    assert len(smtp_server.messages) == 1  # once


def test_a_work_stop_that_cannot_be_told_is_noted(org, debtor, overdue, ladder):
    ladder.steps.filter(kind="work_stop").update(channels=[])
    debtor.contacts.update(email="", preferred_channel="letter")
    run(org, date(2026, 3, 6))
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD
    assert Activity.objects.filter(client=debtor, text__contains="no contact").exists()


def test_a_step_the_rules_refuse_is_noted_not_retried(org, debtor, overdue, ladder, make_invoice):
    make_invoice(
        debtor, "300.00", issue_date=date(2026, 1, 25), due=date(2026, 2, 4), currency="GBP"
    )
    run(org, date(2026, 3, 23))  # the formal notice step: euros and pounds overdue
    outcomes = StepDone.objects.filter(reminder__kind="formal_notice").values_list(
        "outcome", flat=True
    )
    assert outcomes and all(o.startswith("refused: A formal notice claims one") for o in outcomes)
    assert not FormalNotice.objects.exists()
    assert Activity.objects.filter(client=debtor, text__contains="one currency").exists()
    assert run(org, date(2026, 3, 23)) == 0
