"""A client with two overdue invoices (2,000.00 € in all) who usually pays around the 10th."""

from datetime import date
from decimal import Decimal

import pytest

AS_OF = date(2026, 3, 2)  # a Monday


@pytest.fixture
def debtor(new_acme):
    return new_acme(language="en", cycle_months=1, cycle_day=10)


@pytest.fixture
def overdue(debtor, make_invoice):
    """1,200.00 due 4 February and 800.00 due 20 February (VAT 20 %)."""
    return [
        make_invoice(debtor, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4)),
        make_invoice(debtor, "800.00", issue_date=date(2026, 1, 21), due=date(2026, 2, 20)),
    ]


@pytest.fixture
def pay(django_capture_on_commit_callbacks):
    """pay(client, "500.00", on): a payment allocated oldest first, its hooks run."""
    from relance.ledger import settlement

    def run(client, amount, on):
        with django_capture_on_commit_callbacks(execute=True):
            return settlement.record_payment(
                client=client,
                amount=Decimal(amount),
                currency="EUR",
                date=on,
                shares=settlement.oldest_first(client, Decimal(amount), "EUR"),
            )

    return run


@pytest.fixture
def run_day(org):
    """run_day(date) runs the organisation's daily reminder decision for that day."""
    from relance.dunning import engine

    def run(day: date, **kwargs):
        org.refresh_from_db()
        return engine.run(org, day, **kwargs)

    return run
