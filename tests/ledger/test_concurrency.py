"""Concurrent issuers and payers on PostgreSQL: no gap, no duplicate, no euro settled twice.

Each test starts real threads, each with its own database connection, released
together by a barrier so that they really race for the same rows.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from racing import race
from relance.ledger import issuing
from relance.ledger.fields import MoneySum, cents
from relance.ledger.issuing import IssueError
from relance.ledger.models import Allocation, Client, Invoice, NumberSequence, Payment
from relance.ledger.settlement import PaymentError, Share, record_payment

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under real concurrency need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

D = Decimal
JAN_5 = date(2026, 1, 5)


def new_draft(client: Client, gross: str = "120.00") -> Invoice:
    return issuing.create_draft(
        client=client,
        lines=[("Prestation", D(1), D(gross) / D("1.2"), D(20))],
        issue_date=JAN_5,
        due_date=date(2026, 2, 4),
    )


def test_parallel_issuers_get_every_number_once_without_gaps(client_acme):
    drafts = [new_draft(client_acme) for _ in range(20)]
    assert not NumberSequence.objects.exists()  # the series is created by the race itself

    results, errors = race([lambda d=d: issuing.issue(d, as_of=JAN_5).number for d in drafts])

    assert errors == []
    expected = [f"F2026-{n:05d}" for n in range(1, 21)]
    assert sorted(results) == expected
    assert sorted(Invoice.objects.values_list("number", flat=True)) == expected
    assert NumberSequence.objects.get().last_value == 20


def test_parallel_issuers_of_one_draft_issue_it_once(client_acme):
    draft = new_draft(client_acme)
    results, errors = race([lambda: issuing.issue(draft, as_of=JAN_5).number] * 8)
    assert results == ["F2026-00001"]
    assert len(errors) == 7
    assert [e for e in errors if not isinstance(e, IssueError)] == []
    assert NumberSequence.objects.get().last_value == 1


def pay(client: Client, invoice: Invoice, amount: str) -> Payment:
    return record_payment(
        client=client,
        amount=D(amount),
        currency="EUR",
        date=JAN_5,
        shares=[Share(invoice=invoice, amount=D(amount))],
    )


def allocated(invoice: Invoice) -> Decimal:
    return cents(Allocation.objects.filter(invoice=invoice).aggregate(s=MoneySum("amount"))["s"])


def test_parallel_payments_of_the_full_balance_settle_it_once(client_acme):
    invoice = issuing.issue(new_draft(client_acme), as_of=JAN_5)

    results, errors = race([lambda: pay(client_acme, invoice, "120.00")] * 10, line_up_on=invoice)

    assert len(results) == 1
    assert len(errors) == 9
    assert [e for e in errors if not isinstance(e, PaymentError)] == []
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance, invoice.amount_paid) == ("paid", 0, D("120.00"))
    assert allocated(invoice) == D("120.00")
    assert Payment.objects.count() == 1


def test_parallel_partial_payments_keep_the_balance_exact(client_acme):
    invoice = issuing.issue(new_draft(client_acme, "100.00"), as_of=JAN_5)

    # 30 payments of 3.33 for 100.00: 30 fit (99.90), none is refused.
    results, errors = race([lambda: pay(client_acme, invoice, "3.33")] * 30)

    assert (len(results), errors) == (30, [])
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.amount_paid) == (D("0.10"), D("99.90"))
    assert allocated(invoice) == D("99.90")


def test_parallel_payments_beyond_the_balance_stop_exactly_at_zero(client_acme):
    invoice = issuing.issue(new_draft(client_acme, "100.00"), as_of=JAN_5)

    results, errors = race([lambda: pay(client_acme, invoice, "7.00")] * 20)

    # 14 x 7.00 = 98.00 fit; then 2.00 is left and every other 7.00 is refused.
    assert len(results) == 14
    assert len(errors) == 6
    assert [e for e in errors if not isinstance(e, PaymentError)] == []
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.amount_paid) == (D("2.00"), D("98.00"))
    assert allocated(invoice) == D("98.00")


def test_payments_over_the_same_invoices_in_opposite_orders_do_not_deadlock(client_acme):
    first = issuing.issue(new_draft(client_acme), as_of=JAN_5)
    second = issuing.issue(new_draft(client_acme), as_of=JAN_5)

    def pay_both(order: list[Invoice]) -> Payment:
        return record_payment(
            client=client_acme,
            amount=D("2.00"),
            currency="EUR",
            date=JAN_5,
            shares=[Share(invoice=inv, amount=D("1.00")) for inv in order],
        )

    jobs = [lambda: pay_both([first, second]), lambda: pay_both([second, first])] * 6
    results, errors = race(jobs)

    assert (len(results), errors) == (12, [])
    for invoice in (first, second):
        invoice.refresh_from_db()
        assert (invoice.balance, allocated(invoice)) == (D("108.00"), D("12.00"))


def test_a_payment_and_a_full_credit_note_at_once_cannot_both_settle(client_acme):
    invoice = issuing.issue(new_draft(client_acme), as_of=JAN_5)

    jobs = [
        lambda: pay(client_acme, invoice, "120.00"),
        lambda: issuing.credit_in_full(invoice, as_of=JAN_5),
    ] * 3
    results, errors = race(jobs, line_up_on=invoice)

    assert len(results) == 1
    assert [e for e in errors if not isinstance(e, PaymentError | IssueError)] == []
    invoice.refresh_from_db()
    assert invoice.balance == 0
    assert invoice.amount_paid + invoice.amount_credited == D("120.00")
    # A refused credit note leaves no draft behind.
    assert not Invoice.objects.filter(kind="credit_note", status="draft").exists()


def test_parallel_credit_notes_on_one_invoice_never_credit_more_than_its_balance(client_acme):
    invoice = issuing.issue(new_draft(client_acme, "100.00"), as_of=JAN_5)
    lines = [("Remise", D(1), D("25.00"), D(0))]

    results, errors = race(
        [lambda: issuing.credit_partially(invoice, lines=lines, as_of=JAN_5)] * 6,
        line_up_on=invoice,
    )

    # Four credit notes of 25.00 fit in 100.00; the other two are refused, without deadlock.
    assert len(results) == 4
    assert len(errors) == 2
    assert [e for e in errors if not isinstance(e, IssueError)] == []
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance, invoice.amount_credited) == (
        "credited",
        0,
        D("100.00"),
    )
    numbers = sorted(Invoice.objects.filter(kind="credit_note").values_list("number", flat=True))
    assert numbers == [f"AV2026-{n:05d}" for n in range(1, 5)]
