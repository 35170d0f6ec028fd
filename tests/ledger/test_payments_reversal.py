"""Reversing a payment: kept on record, invoices reopened, the ladder resumes."""

from datetime import date
from decimal import Decimal

import pytest

from relance.dunning.models import Chase
from relance.ledger import issuing
from relance.ledger.models import Activity, Allocation, Installment, Invoice, Payment
from relance.ledger.settlement import PaymentError, Share, record_payment, reverse_payment

pytestmark = pytest.mark.django_db

D = Decimal
BOUNCED = date(2026, 2, 20)


def pay(client, amount, *shares, **kwargs):
    return record_payment(
        client=client,
        amount=D(amount),
        currency="EUR",
        date=date(2026, 2, 10),
        shares=[Share(inv, D(a), *rest) for inv, a, *rest in shares],
        **kwargs,
    )


def test_a_reversed_payment_reopens_its_invoices(client_acme, make_invoice):
    first = make_invoice(client_acme, "100.00")
    second = make_invoice(client_acme, "50.00")
    payment = pay(client_acme, "130.00", (first, "100.00"), (second, "30.00"))
    Chase.objects.filter(invoice=first).update(closed=True, next_action_on=None)
    reverse_payment(payment, date=BOUNCED, reason="Direct debit rejected (AM04)")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.balance, first.amount_paid) == ("issued", D("100.00"), 0)
    assert (second.status, second.balance) == ("issued", D("50.00"))
    payment = Payment.objects.get(pk=payment.pk)  # never deleted
    assert (payment.reversed_on, payment.reversal_reason) == (
        BOUNCED,
        "Direct debit rejected (AM04)",
    )
    assert payment.unallocated == 0
    assert not Allocation.objects.exists()
    chase = Chase.objects.get(invoice=first)
    assert (chase.closed, chase.next_action_on) == (False, BOUNCED)
    assert Chase.objects.get(invoice=second).next_action_on == BOUNCED
    entry = Activity.objects.filter(invoice=first, kind="payment").latest("id")
    assert entry.text == (
        "Payment of €100.00 received on Feb 10, 2026 reversed on Feb 20, 2026: "
        "Direct debit rejected (AM04)"
    )


def test_installments_are_restored(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "100.00", issue=False)
    Installment.objects.create(invoice=invoice, position=1, due_date=date(2026, 2, 1), amount=60)
    Installment.objects.create(invoice=invoice, position=2, due_date=date(2026, 3, 1), amount=40)
    invoice = issuing.issue(invoice, as_of=date(2026, 1, 5))
    payment = pay(client_acme, "80.00", (invoice, "80.00"))
    assert list(invoice.installments.values_list("amount_paid", flat=True)) == [60, 20]
    reverse_payment(payment, date=BOUNCED, reason="Bounced")
    assert list(invoice.installments.values_list("amount_paid", flat=True)) == [0, 0]
    assert Invoice.objects.get(pk=invoice.pk).balance == D("100.00")


def test_a_payment_is_reversed_once_with_a_reason_and_not_before_it_came(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "100.00")
    payment = pay(client_acme, "100.00", (invoice, "100.00"))
    with pytest.raises(PaymentError, match="reason"):
        reverse_payment(payment, date=BOUNCED, reason="  ")
    with pytest.raises(PaymentError, match="before it was received"):
        reverse_payment(payment, date=date(2026, 2, 9), reason="Bounced")
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    reverse_payment(payment, date=BOUNCED, reason="Bounced")
    with pytest.raises(PaymentError, match="already reversed"):
        reverse_payment(payment, date=BOUNCED, reason="Bounced")


def test_credit_applied_from_a_reversed_payment_is_undone(org, client_acme, make_invoice):
    payment = pay(client_acme, "50.00", keep_excess_as_credit=True)
    invoice = make_invoice(client_acme, "120.00")  # takes the credit on issue
    assert Invoice.objects.get(pk=invoice.pk).balance == D("70.00")
    reverse_payment(payment, date=BOUNCED, reason="Cheque bounced")
    assert Invoice.objects.get(pk=invoice.pk).balance == D("120.00")


def test_a_reversed_payment_gets_no_chase_on_a_written_off_invoice(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "100.00")
    payment = pay(client_acme, "40.00", (invoice, "40.00"))
    issuing.write_off(invoice, reason="Insolvent")
    Chase.objects.filter(invoice=invoice).update(closed=True, next_action_on=None)
    reverse_payment(payment, date=BOUNCED, reason="Bounced")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("written_off", D("100.00"))
    assert Chase.objects.get(invoice=invoice).closed
