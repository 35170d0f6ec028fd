"""A payment plan from proposal to completion or breach, and its installments chased
by the daily run (engine.run) and delivered by the outbox against a real SMTP server."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from relance.dunning import dispatch
from relance.dunning.models import Chase, Pause, PauseKind, PauseOutcome, Reminder
from relance.ledger.models import Activity
from relance.plans import service
from relance.plans.models import PlanStatus

AS_OF = date(2026, 3, 2)  # a Monday (the conftest's day)

D = Decimal


def four_months(**kwargs):
    return service.Proposal(count=4, frequency="monthly", day=10, **kwargs)


@pytest.fixture
def plan(debtor, overdue):
    return service.propose(debtor, overdue, four_months(), as_of=AS_OF)


def schedule(plan):
    return [(r.due_date, r.amount, r.amount_paid) for r in plan.installments.all()]


def test_proposed_on_the_client_s_day_with_the_whole_overdue_balance(plan, overdue):
    assert plan.status == PlanStatus.PROPOSED
    assert plan.balance == plan.total == D("2000.00")
    assert set(plan.invoices.all()) == set(overdue)
    assert schedule(plan) == [
        (date(2026, 3, 10), D("500.00"), D("0")),
        (date(2026, 4, 10), D("500.00"), D("0")),
        (date(2026, 5, 10), D("500.00"), D("0")),
        (date(2026, 6, 10), D("500.00"), D("0")),
    ]
    # Nothing is paused before the client agrees.
    assert not Pause.objects.exists()
    assert Activity.objects.filter(text__startswith="Payment plan proposed").exists()


def test_one_plan_at_a_time(plan, debtor, overdue):
    with pytest.raises(service.PlanRefused, match="already has a payment plan"):
        service.propose(debtor, overdue, four_months(), as_of=AS_OF)


def test_a_refused_schedule_saves_nothing(debtor, overdue):
    from relance.rules.plans import PlanError

    with pytest.raises(PlanError):
        service.propose(debtor, overdue, four_months(down_payment=D("2000.00")), as_of=AS_OF)
    assert not debtor.payment_plans.exists()


def test_agreed_pauses_the_invoices_and_chases_each_installment(plan, overdue):
    service.agree(plan, as_of=AS_OF)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE and plan.agreed_on == AS_OF
    pauses = Pause.objects.filter(kind=PauseKind.PAYMENT_PLAN, ended_on__isnull=True)
    assert {p.invoice_id for p in pauses} == {i.pk for i in overdue}
    parts = Chase.objects.filter(plan_installment__plan=plan).order_by("due_date")
    assert [c.due_date for c in parts] == [r.due_date for r in plan.installments.all()]
    assert {c.invoice_id for c in parts} == {overdue[0].pk}  # the oldest invoice


def test_payments_advance_the_installments_oldest_first_until_completed(plan, debtor, pay):
    service.agree(plan, as_of=AS_OF)
    pay(debtor, "700.00", date(2026, 3, 9))
    plan.refresh_from_db()
    assert [r[2] for r in schedule(plan)] == [D("500.00"), D("200.00"), D("0"), D("0")]
    assert plan.status == PlanStatus.ACTIVE
    pay(debtor, "1300.00", date(2026, 4, 8))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert set(Pause.objects.values_list("outcome", flat=True)) == {PauseOutcome.KEPT}
    assert not Chase.objects.filter(plan_installment__plan=plan, closed=False).exists()


def test_a_payment_before_the_agreement_does_not_count(plan, debtor, pay):
    pay(debtor, "100.00", AS_OF - timedelta(days=1))
    service.agree(plan, as_of=AS_OF)
    plan.refresh_from_db()
    assert [r[2] for r in schedule(plan)] == [D("0")] * 4


def test_a_missed_installment_breaks_the_plan_and_the_ladder_resumes_at_once(
    org, plan, overdue, run_day, pay, debtor
):
    service.agree(plan, as_of=AS_OF)
    pay(debtor, "300.00", date(2026, 3, 10))  # short of the 500.00 due
    # Due 10 March, 5 days of grace: still fine on the 15th.
    assert service.check(org, date(2026, 3, 15)).broken == 0
    report = service.check(org, date(2026, 3, 16))
    assert report.broken == 1
    plan.refresh_from_db()
    assert plan.status == PlanStatus.BROKEN and plan.broken_on == date(2026, 3, 16)
    assert set(Pause.objects.values_list("outcome", flat=True)) == {PauseOutcome.BROKEN}
    assert Activity.objects.filter(text__contains="broken: installment 1").exists()
    run_day(date(2026, 3, 16))
    # Both invoices are chased again that very day, on their whole balance.
    fired = Reminder.objects.filter(fired_on=date(2026, 3, 16), status="fired")
    assert {r.invoice_id for r in fired} == {i.pk for i in overdue}
    assert not fired.filter(chase__plan_installment__isnull=False).exists()


def test_cancelled_resumes_the_reminders(org, plan, overdue):
    service.agree(plan, as_of=AS_OF)
    service.cancel(plan, as_of=date(2026, 3, 5))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED
    assert set(Pause.objects.values_list("outcome", flat=True)) == {PauseOutcome.LIFTED}
    with pytest.raises(service.PlanRefused):
        service.cancel(plan, as_of=date(2026, 3, 5))


def test_the_engine_chases_the_installment_not_the_paused_invoices(
    org, plan, overdue, run_day, smtp_server, pay, debtor
):
    service.agree(plan, as_of=AS_OF)
    day = AS_OF
    while day <= date(2026, 3, 12):
        run_day(day)
        day += timedelta(days=1)
    fired = list(Reminder.objects.filter(status="fired").select_related("chase"))
    assert fired, "the first installment is reminded"
    assert all(r.chase.plan_installment_id is not None for r in fired)
    assert {r.chase.plan_installment.position for r in fired} == {1}
    # The courtesy reminder (3 days before 10 March), then the friendly one the day after.
    assert [r.fired_on for r in fired] == [date(2026, 3, 7), date(2026, 3, 11)]
    dispatch.dispatch(_at(date(2026, 3, 11)))
    texts = [m.get_body(("plain",)).get_content() for m in smtp_server.messages]
    assert any("installment 1 of 4 of your payment plan" in t for t in texts)
    assert any("500.00" in t or "500,00" in t for t in texts)
    # Paid: its chase is closed, the next installment's stays open.
    pay(debtor, "500.00", date(2026, 3, 12))
    assert not Chase.objects.get(plan_installment__plan=plan, plan_installment__position=2).closed
    first = Chase.objects.get(plan_installment__plan=plan, plan_installment__position=1)
    assert first.closed


def _at(day):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(10), tzinfo=ZoneInfo("Europe/Paris"))
