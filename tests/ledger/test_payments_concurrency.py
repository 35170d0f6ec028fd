"""Client credit under real concurrency (PostgreSQL): never spent twice."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from racing import race
from relance.ledger.fields import MoneySum, cents
from relance.ledger.models import Allocation, Refund
from relance.ledger.settlement import (
    PaymentError,
    apply_credit,
    credit_of,
    record_payment,
    refund_credit,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under real concurrency need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

D = Decimal


def test_credit_applied_and_refunded_at_once_is_used_once(org, client_acme, make_invoice):
    org.apply_credit_automatically = False
    org.save(update_fields=["apply_credit_automatically"])
    record_payment(
        client=client_acme,
        amount=D("100.00"),
        currency="EUR",
        date=date(2026, 1, 10),
        shares=[],
        keep_excess_as_credit=True,
    )
    invoices = [make_invoice(client_acme, "80.00") for _ in range(4)]
    jobs = [lambda i=i: apply_credit(i) for i in invoices] + [
        lambda: refund_credit(client_acme, amount=D("60.00"), currency="EUR", date=date(2026, 2, 1))
    ] * 2
    _results, errors = race(jobs)
    assert [e for e in errors if not isinstance(e, PaymentError)] == []
    allocated = cents(Allocation.objects.aggregate(s=MoneySum("amount"))["s"])
    refunded = cents(Refund.objects.aggregate(s=MoneySum("amount"))["s"])
    assert allocated + refunded + credit_of(client_acme, "EUR") == D("100.00")
