"""Retainers: issued and sent on their date by the worker, once per period."""

from datetime import date, datetime

import pytest

from relance.invoicing.models import RecurringInvoice
from relance.invoicing.recurring import run_due
from relance.ledger.models import Invoice
from relance.worker import run_once


@pytest.fixture
def retainer(acme, net30):
    return RecurringInvoice.objects.create(
        organisation=acme.organisation,
        client=acme,
        name="Maintenance mensuelle",
        lines=[
            {
                "description": "Maintenance",
                "quantity": "1",
                "unit_price": "500.00",
                "vat_rate": "20",
            }
        ],
        frequency="monthly",
        next_date=date(2026, 2, 1),
        send=True,
    )


def test_nothing_is_issued_before_the_date(retainer):
    assert run_due(date(2026, 1, 31)) == []
    assert not Invoice.objects.exists()


def test_issued_and_sent_on_its_date_then_scheduled_a_month_later(smtp_server, retainer):
    [invoice] = run_due(date(2026, 2, 1))
    assert invoice.number == "F2026-00001"
    assert invoice.issue_date == date(2026, 2, 1)
    assert invoice.total_gross == 600
    assert invoice.due_date == date(2026, 3, 3)  # the organisation's default 30 days
    assert "du 1 févr. 2026 au 28 févr. 2026" in invoice.lines.get().description
    assert len(smtp_server.envelopes) == 1
    retainer.refresh_from_db()
    assert retainer.next_date == date(2026, 3, 1)
    assert run_due(date(2026, 2, 1)) == []  # a second run the same day issues nothing


def test_a_missed_run_catches_up_each_period(smtp_server, retainer):
    issued = run_due(date(2026, 4, 2))
    assert [i.number for i in issued] == ["F2026-00001", "F2026-00002", "F2026-00003"]
    retainer.refresh_from_db()
    assert retainer.next_date == date(2026, 5, 1)


def test_quarterly_until_the_end_date(smtp_server, retainer):
    retainer.frequency = "quarterly"
    retainer.end_date = date(2026, 5, 1)
    retainer.save()
    assert len(run_due(date(2026, 12, 31))) == 2  # February and May
    retainer.refresh_from_db()
    assert not retainer.active


def test_a_refused_issue_keeps_the_period_and_says_why(smtp_server, retainer, acme):
    acme.siren = ""
    acme.save()
    assert run_due(date(2026, 2, 1)) == []
    retainer.refresh_from_db()
    assert retainer.next_date == date(2026, 2, 1)
    assert "SIREN" in retainer.last_error
    assert not Invoice.objects.exists()  # not even a draft left behind


def test_the_worker_uses_the_organisations_day(smtp_server, retainer):
    # 31 January 23:30 UTC is already 1 February in Paris.
    result = run_once(datetime.fromisoformat("2026-01-31T23:30:00+00:00"))
    assert result.issued == ["F2026-00001"]


def test_the_worker_reaches_an_organisation_fourteen_hours_ahead(smtp_server, retainer, org):
    org.time_zone = "Pacific/Kiritimati"  # UTC+14
    org.save()
    # 31 January 10:00 UTC is already 1 February in Kiritimati; not yet a minute before.
    assert run_once(datetime.fromisoformat("2026-01-31T09:59:00+00:00")).issued == []
    result = run_once(datetime.fromisoformat("2026-01-31T10:00:00+00:00"))
    assert result.issued == ["F2026-00001"]
