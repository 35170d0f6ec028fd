"""Escalation under real concurrency (PostgreSQL): each step acted on once, one hold."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from racing import race
from relance.dunning import engine
from relance.dunning.models import Reminder
from relance.escalation import holds, steps
from relance.escalation.models import Escalation, EscalationKind, StepDone
from relance.ledger.models import Activity, ClientStatus

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under real concurrency need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_four_workers_acting_on_the_same_steps_act_once(org, debtor, overdue, ladder):
    day = date(2026, 3, 6)  # the first invoice's work stop fires
    engine.run(org, day)
    results, errors = race([lambda: steps.act(org, day)] * 4, line_up_on=overdue[0])
    assert errors == []
    recorded = Reminder.objects.filter(kind__in=steps.KINDS).count()
    assert recorded >= 1
    assert sum(results) == recorded == StepDone.objects.count()  # once each, across workers
    assert Escalation.objects.filter(client=debtor, kind=EscalationKind.WORK_STOP).count() == 1
    debtor.refresh_from_db()
    assert debtor.status == ClientStatus.ON_HOLD


def test_four_people_stopping_work_at_once_make_one_hold(debtor, overdue):
    day = date(2026, 6, 1)
    jobs = [lambda: holds.put_on_hold(debtor, reason="unpaid", as_of=day).pk] * 4
    results, errors = race(jobs)
    assert errors == []
    assert len(set(results)) == 1
    assert Activity.objects.filter(text__startswith="Travaux suspendus").count() == 1
