"""Early-payment discounts honoured by a credit note (worked example of the brief)."""

from datetime import date
from decimal import Decimal

import pytest

from relance.ledger import issuing
from relance.ledger.models import Activity, Invoice, InvoiceKind
from relance.ledger.settlement import Share, amount_to_settle, oldest_first, record_payment

pytestmark = pytest.mark.django_db

D = Decimal
ISSUED = date(2026, 1, 15)
TERMS = {"kind": "net", "days": 30, "discount_percent": "2", "discount_days": 10}


def discounted(client, lines=None):
    draft = issuing.create_draft(
        client=client,
        lines=lines or [("Design", D(1), D("1000.00"), D(20))],
        issue_date=ISSUED,
        due_date=date(2026, 2, 14),
        terms=TERMS,
    )
    return issuing.issue(draft, as_of=ISSUED)


def pay(client, invoice, amount, day):
    return record_payment(
        client=client,
        amount=D(amount),
        currency="EUR",
        date=day,
        shares=[Share(invoice=invoice, amount=D(amount))],
    )


def test_paid_on_day_9_with_the_discount_settles_the_invoice(client_acme):
    invoice = discounted(client_acme)
    assert invoice.total_gross == D("1200.00")
    assert amount_to_settle(invoice, date(2026, 1, 24)) == D("1176.00")
    pay(client_acme, invoice, "1176.00", date(2026, 1, 24))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("paid", 0)
    assert (invoice.amount_paid, invoice.amount_credited) == (D("1176.00"), D("24.00"))
    [note] = Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, corrects=invoice)
    assert note.number.startswith("AV2026-")
    assert (note.total_net, note.total_vat, note.total_gross) == (D("20.00"), D("4.00"), D("24"))
    assert note.issue_date == date(2026, 1, 24)
    texts = list(Activity.objects.filter(invoice=invoice).values_list("text", flat=True))
    assert f"Early-payment discount of €24.00 granted by {note.number}: {invoice} is paid" in texts


def test_paid_on_day_11_the_discount_is_lost(client_acme):
    invoice = discounted(client_acme)
    assert amount_to_settle(invoice, date(2026, 1, 26)) == D("1200.00")
    pay(client_acme, invoice, "1176.00", date(2026, 1, 26))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("partially_paid", D("24.00"))
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_a_payment_that_is_not_the_discounted_amount_is_a_partial_payment(client_acme):
    invoice = discounted(client_acme)
    pay(client_acme, invoice, "1000.00", date(2026, 1, 20))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("partially_paid", D("200.00"))
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_the_full_amount_in_time_needs_no_credit_note(client_acme):
    invoice = discounted(client_acme)
    pay(client_acme, invoice, "1200.00", date(2026, 1, 20))
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_the_discount_is_split_over_the_vat_rates(client_acme):
    invoice = discounted(
        client_acme,
        [("Design", D(1), D("500.00"), D(20)), ("Books", D(1), D("400.00"), D("5.5"))],
    )
    assert invoice.total_gross == D("1022.00")  # 600.00 at 20 % + 422.00 at 5.5 %
    pay(client_acme, invoice, "1001.56", date(2026, 1, 25))  # 2 % = 20.44
    [note] = Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE)
    by_rate = note.compute_totals().by_rate
    assert by_rate == {D("5.5"): (D("8.00"), D("0.44")), D(20): (D("10.00"), D("2.00"))}
    assert note.total_gross == D("20.44")
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_oldest_first_with_the_discounted_amount(client_acme):
    invoice = discounted(client_acme)
    shares = oldest_first(client_acme, D("1176.00"), "EUR")
    record_payment(
        client=client_acme, amount=D("1176.00"), currency="EUR", date=ISSUED, shares=shares
    )
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
