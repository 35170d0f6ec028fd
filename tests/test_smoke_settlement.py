from datetime import date
from decimal import Decimal

from relance.ledger import balances


def test_it_reports_the_open_balance(client_acme, make_invoice):
    make_invoice(client_acme, "120.00", due=date(2026, 2, 4))
    figures = balances.organisation_figures(client_acme.organisation, as_of=date(2026, 3, 1))
    assert figures["EUR"].outstanding == Decimal("120.00")
    assert figures["EUR"].buckets["1-30"] == Decimal("120.00")
