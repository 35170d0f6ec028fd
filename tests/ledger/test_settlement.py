"""Recording payments: exact balances, all-or-nothing, and money never lost or invented."""

import re
from datetime import date
from decimal import Decimal

import pytest

from relance.ledger import issuing
from relance.ledger.models import Activity, Allocation, Client, Installment, Invoice, Payment
from relance.ledger.settlement import PaymentError, Share, oldest_first, record_payment

pytestmark = pytest.mark.django_db

D = Decimal
PAID_ON = date(2026, 2, 10)


def pay(client, amount, *shares, currency="EUR", **kwargs):
    return record_payment(
        client=client,
        amount=D(amount),
        currency=currency,
        date=PAID_ON,
        shares=[Share(inv, D(a), *installment) for inv, a, *installment in shares],
        **kwargs,
    )


def rows():
    """Payments, allocations and payment entries of the timeline: what a payment saves."""
    return (
        Payment.objects.count(),
        Allocation.objects.count(),
        Activity.objects.filter(kind="payment").count(),
    )


def with_installments(client, make_invoice, *parts):
    invoice = make_invoice(client, str(sum(D(a) for _, a in parts)), issue=False)
    for position, (due, amount) in enumerate(parts, start=1):
        Installment.objects.create(
            invoice=invoice, position=position, due_date=due, amount=D(amount)
        )
    return issuing.issue(invoice, as_of=date(2026, 1, 5))


def test_a_partial_payment(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    payment = pay(client_acme, "45.50", (invoice, "45.50"), reference="VIR 123")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.balance) == (
        "partially_paid",
        D("45.50"),
        D("74.50"),
    )
    assert (payment.amount, payment.unallocated) == (D("45.50"), D("0"))
    assert Activity.objects.get(invoice=invoice, kind="payment").text.startswith(
        "Payment of €45.50 received on Feb 10, 2026 (VIR 123)"
    )


def test_paying_the_exact_balance_settles_the_invoice(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    pay(client_acme, "20.00", (invoice, "20.00"))
    pay(client_acme, "100.00", (invoice, "100.00"))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.balance) == ("paid", D("120.00"), D("0"))
    assert not invoice.is_open


def test_cents_add_up_exactly(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "0.30", vat="0")
    pay(client_acme, "0.10", (invoice, "0.10"))
    pay(client_acme, "0.20", (invoice, "0.20"))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("paid", D("0"))


def test_one_payment_for_several_invoices(client_acme, make_invoice):
    first = make_invoice(client_acme, "120.00")
    second = make_invoice(client_acme, "60.00")
    payment = pay(client_acme, "150.00", (first, "120.00"), (second, "30.00"))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, second.balance) == ("paid", "partially_paid", D("30.00"))
    assert sorted(a.amount for a in payment.allocations.all()) == [D("30.00"), D("120.00")]


def test_allocating_more_than_the_balance_is_refused_and_saves_nothing(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    before = rows()
    with pytest.raises(
        PaymentError, match=re.escape("120.01 is more than the 120.00 EUR left to pay on F2026")
    ):
        pay(client_acme, "120.01", (invoice, "120.01"))
    assert rows() == before
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (D("120.00"), "issued")


def test_two_shares_on_one_invoice_cannot_together_exceed_its_balance(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "100.00")
    before = rows()
    with pytest.raises(PaymentError, match=re.escape("more than the 100.00 EUR left to pay")):
        pay(client_acme, "120.00", (invoice, "60.00"), (invoice, "60.00"))
    assert rows() == before
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.amount_paid) == (D("100.00"), D("0"))


def test_a_later_share_that_overflows_rolls_back_the_earlier_ones(client_acme, make_invoice):
    first = make_invoice(client_acme, "50.00")
    second = make_invoice(client_acme, "10.00")
    before = rows()
    with pytest.raises(PaymentError):
        pay(client_acme, "70.00", (first, "50.00"), (second, "20.00"))
    assert rows() == before
    assert Invoice.objects.get(pk=first.pk).balance == D("50.00")


def test_allocations_larger_than_the_payment_are_refused(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    with pytest.raises(PaymentError, match=r"allocations \(100.00\) exceed the payment \(50.00\)"):
        pay(client_acme, "50.00", (invoice, "100.00"))
    assert Payment.objects.count() == 0


def test_an_excess_is_refused_unless_kept_as_client_credit(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    with pytest.raises(PaymentError, match=re.escape("30.00 EUR of this payment is not owed")):
        pay(client_acme, "150.00", (invoice, "120.00"))
    assert rows() == (0, 0, 0)
    payment = pay(client_acme, "150.00", (invoice, "120.00"), keep_excess_as_credit=True)
    assert payment.unallocated == D("30.00")
    assert Activity.objects.filter(invoice=None, kind="payment").get().text == (
        "€30.00 kept as client credit"
    )


def test_a_payment_on_account_without_invoice(client_acme):
    payment = pay(client_acme, "80.00", keep_excess_as_credit=True)
    assert (payment.unallocated, payment.allocations.count()) == (D("80.00"), 0)


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_the_amount_must_be_positive(client_acme, amount):
    with pytest.raises(PaymentError, match="greater than zero"):
        pay(client_acme, amount, keep_excess_as_credit=True)


def test_an_amount_too_large_to_store_is_refused(client_acme):
    with pytest.raises(PaymentError, match="too large"):
        pay(client_acme, "10000000000000.00", keep_excess_as_credit=True)
    assert rows() == (0, 0, 0)


def test_each_share_must_be_positive(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    with pytest.raises(PaymentError, match="Each allocation must be greater than zero"):
        pay(client_acme, "10.00", (invoice, "0"), keep_excess_as_credit=True)


def test_a_payment_in_another_currency_is_refused(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    with pytest.raises(PaymentError, match="is in EUR; a payment in USD cannot settle it"):
        pay(client_acme, "120.00", (invoice, "120.00"), currency="USD")
    assert rows() == (0, 0, 0)


def test_sub_cent_amounts_are_refused(client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    with pytest.raises(PaymentError, match=re.escape("10.005 has more decimals than EUR allows")):
        pay(client_acme, "10.005", (invoice, "10.005"))
    with pytest.raises(PaymentError, match=re.escape("10.005 has more decimals than EUR allows")):
        pay(client_acme, "10.01", (invoice, "10.005"), keep_excess_as_credit=True)
    with pytest.raises(PaymentError, match="more decimals than JPY allows"):
        pay(client_acme, "10.5", keep_excess_as_credit=True, currency="JPY")
    assert rows() == (0, 0, 0)


def test_an_unknown_currency_is_refused_as_a_payment_error(client_acme):
    with pytest.raises(PaymentError, match="XYZ"):
        pay(client_acme, "10.00", keep_excess_as_credit=True, currency="XYZ")


def test_an_invoice_of_another_client_is_refused(client_acme, org, make_invoice):
    other = Client.objects.create(organisation=org, name="Dupont")
    theirs = make_invoice(other, "120.00")
    with pytest.raises(PaymentError, match="another client"):
        pay(client_acme, "120.00", (theirs, "120.00"))
    assert Invoice.objects.get(pk=theirs.pk).balance == D("120.00")


def test_an_invoice_of_another_organisation_is_refused(client_acme, other_org, make_invoice):
    outsider = Client.objects.create(organisation=other_org, name="Outsider")
    theirs = make_invoice(outsider, "120.00")
    with pytest.raises(PaymentError, match="does not exist"):
        pay(client_acme, "120.00", (theirs, "120.00"))
    assert Invoice.objects.get(pk=theirs.pk).balance == D("120.00")
    assert rows() == (0, 0, 0)


def test_a_draft_takes_no_payment(client_acme, make_invoice):
    draft = make_invoice(client_acme, "120.00", issue=False)
    with pytest.raises(PaymentError, match="not open"):
        pay(client_acme, "120.00", (draft, "120.00"))


def test_a_payment_fills_installments_oldest_first(client_acme, make_invoice):
    invoice = with_installments(
        client_acme,
        make_invoice,
        (date(2026, 3, 4), "40.00"),
        (date(2026, 2, 4), "40.00"),
        (date(2026, 4, 4), "40.00"),
    )
    payment = pay(client_acme, "50.00", (invoice, "50.00"))
    by_due = {row.due_date: row.amount_paid for row in invoice.installments.all()}
    assert by_due == {
        date(2026, 2, 4): D("40.00"),
        date(2026, 3, 4): D("10.00"),
        date(2026, 4, 4): D("0.00"),
    }
    assert sorted(a.amount for a in payment.allocations.all()) == [D("10.00"), D("40.00")]
    assert all(a.installment_id for a in payment.allocations.all())


def test_a_payment_for_a_chosen_installment(client_acme, make_invoice):
    invoice = with_installments(
        client_acme, make_invoice, (date(2026, 2, 4), "60.00"), (date(2026, 3, 4), "60.00")
    )
    second = invoice.installments.get(position=2)
    pay(client_acme, "60.00", (invoice, "60.00", second))
    assert [row.amount_paid for row in invoice.installments.all()] == [D("0.00"), D("60.00")]
    with pytest.raises(PaymentError, match="more than what is left on this installment"):
        pay(client_acme, "10.00", (invoice, "10.00", second))
    assert Invoice.objects.get(pk=invoice.pk).balance == D("60.00")


def test_an_installment_of_another_invoice_is_refused(client_acme, make_invoice):
    invoice = with_installments(client_acme, make_invoice, (date(2026, 2, 4), "60.00"))
    other = make_invoice(client_acme, "60.00")
    row = invoice.installments.get()
    with pytest.raises(PaymentError, match="installment"):
        pay(client_acme, "60.00", (other, "60.00", row))
    assert rows() == (0, 0, 0)


def test_oldest_first_splits_over_open_invoices_by_due_date(client_acme, make_invoice):
    late = make_invoice(client_acme, "100.00", due=date(2026, 1, 20))
    later = make_invoice(client_acme, "50.00", due=date(2026, 2, 20))
    make_invoice(
        client_acme, "70.00", issue_date=date(2025, 12, 1), due=date(2026, 1, 1), currency="USD"
    )
    shares = oldest_first(client_acme, D("120.00"), "EUR")
    assert [(s.invoice, s.amount) for s in shares] == [(late, D("100.00")), (later, D("20.00"))]
    assert oldest_first(client_acme, D("500.00"), "EUR")[-1].amount == D("50.00")
    pay(client_acme, "120.00", *[(s.invoice, s.amount) for s in shares])
    assert Invoice.objects.get(pk=later.pk).balance == D("30.00")


def test_oldest_first_skips_settled_invoices(client_acme, make_invoice):
    paid = make_invoice(client_acme, "10.00", issue_date=date(2025, 12, 1), due=date(2026, 1, 1))
    pay(client_acme, "10.00", (paid, "10.00"))
    open_one = make_invoice(client_acme, "10.00", due=date(2026, 2, 1))
    assert [s.invoice for s in oldest_first(client_acme, D("5.00"), "EUR")] == [open_one]
