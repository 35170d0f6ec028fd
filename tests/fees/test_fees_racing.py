"""Late-fee booking under real concurrency (PostgreSQL): booked once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection

from racing import race
from relance.dunning import engine
from relance.fees import booking
from relance.fees.models import LateFee
from relance.ledger.models import Activity

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under real concurrency need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

DUE = date(2025, 3, 3)


def test_four_runs_booking_the_same_notice_at_once_book_it_once(org, debtor, make_invoice):
    invoice = make_invoice(debtor, "12000.00", issue_date=date(2025, 2, 1), due=DUE)
    engine.run(org, DUE + timedelta(days=1))
    engine.run(org, DUE + timedelta(days=8))
    day = DUE + timedelta(days=10)
    results, errors = race([lambda: booking.book_due(org, day)] * 4, line_up_on=invoice)
    assert errors == []
    assert sorted(r.booked for r in results) == [0, 0, 0, 2]
    assert sorted(LateFee.objects.values_list("kind", flat=True)) == ["indemnity", "interest"]
    assert (
        Activity.objects.filter(text__startswith="Pénalités de retard comptabilisées").count() == 1
    )
