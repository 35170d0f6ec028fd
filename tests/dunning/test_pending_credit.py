"""The daily run does not chase a client whose money may already be in the bank."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from relance.banking.models import BankLine, StatementImport
from relance.dunning.models import Reminder

DUE = date(2026, 2, 4)


@pytest.fixture
def statement(org):
    found = StatementImport.objects.create(
        organisation=org, format="camt053", sha256="0" * 64, currency="EUR"
    )
    StatementImport.objects.filter(pk=found.pk).update(
        imported_at=datetime(2026, 2, 5, 7, 0, tzinfo=UTC)
    )
    return found


def credit(statement, n: int, **fields):
    return BankLine.objects.create(
        organisation=statement.organisation,
        statement=statement,
        booking_date=date(2026, 2, 4),
        amount=Decimal("1200.00"),
        direction="credit",
        currency="EUR",
        fingerprint=f"{n:064d}",
        **fields,
    )


def test_a_credit_in_review_for_the_client_holds_the_day(
    org, chased, make_invoice, run_day, statement
):
    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=DUE)
    line = credit(statement, 1, status="review", client=chased, payer_name="ACME")
    report = run_day(date(2026, 2, 5))
    assert report.fired == 0 and report.waiting_for_credit == 1
    assert not Reminder.objects.filter(status="fired").exists()
    # Reviewed the same day: not the client's money after all. The next day's run chases.
    line.status = "ignored"
    line.save()
    report = run_day(date(2026, 2, 6))
    assert report.fired == 1 and report.waiting_for_credit == 0


def test_an_unmatched_credit_from_a_payer_with_the_clients_name_holds_it(
    org, chased, make_invoice, run_day, statement
):
    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=DUE)
    credit(statement, 2, status="unmatched", payer_name="ACME INDUSTRIES")
    assert run_day(date(2026, 2, 5)).fired == 0


def test_a_credit_that_cannot_be_theirs_does_not_hold_the_client(
    org, chased, make_invoice, run_day, statement
):
    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=DUE)
    credit(statement, 3, status="unmatched", payer_name="Boulangerie Dupont")
    credit(statement, 4, status="confirmed", client=chased, payer_name="ACME")
    report = run_day(date(2026, 2, 5))
    assert report.fired == 1 and report.waiting_for_credit == 0


def test_the_run_reports_a_stale_statement(org, chased, make_invoice, run_day, statement):
    make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=DUE)
    assert run_day(date(2026, 2, 12)).statement_age_days is None  # 7 days: the default limit
    assert run_day(date(2026, 2, 13)).statement_age_days == 8


def test_the_reminders_page_warns_of_a_stale_statement(
    client, alice, org, chased, make_invoice, statement, time_machine
):
    time_machine.move_to(datetime(2026, 2, 20, 10, 0, tzinfo=UTC))
    credit(statement, 5, status="review", client=chased)
    client.force_login(alice)
    page = client.get("/reminders/").content.decode()
    assert 'data-testid="statement-stale"' in page and "15" in page
    assert 'data-testid="waiting-for-credit"' in page
