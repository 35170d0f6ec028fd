"""Client credit: applied to later invoices (by hand or on issue) and refunded."""

from datetime import date
from decimal import Decimal

import pytest

from relance.ledger import issuing
from relance.ledger.models import Activity, Allocation, Invoice, Payment, Refund
from relance.ledger.settlement import (
    PaymentError,
    apply_client_credit,
    apply_credit,
    credit_of,
    record_payment,
    refund_credit,
    reverse_payment,
)

pytestmark = pytest.mark.django_db

D = Decimal


def credit(client, amount, day=date(2026, 1, 10), currency="EUR"):
    """A payment kept whole as client credit."""
    return record_payment(
        client=client,
        amount=D(amount),
        currency=currency,
        date=day,
        shares=[],
        keep_excess_as_credit=True,
    )


@pytest.fixture
def manual(org):
    org.apply_credit_automatically = False
    org.save(update_fields=["apply_credit_automatically"])
    return org


def test_credit_pays_an_invoice_oldest_credit_first(manual, client_acme, make_invoice):
    old = credit(client_acme, "50.00", date(2026, 1, 3))
    new = credit(client_acme, "100.00", date(2026, 1, 8))
    invoice = make_invoice(client_acme, "120.00")
    assert apply_credit(invoice) == D("120.00")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance, invoice.amount_paid) == ("paid", 0, D("120.00"))
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.unallocated, new.unallocated) == (0, D("30.00"))
    # Recorded as allocations of the original payments, which keep their dates.
    assert sorted(Allocation.objects.values_list("payment_id", "amount")) == [
        (old.pk, D("50.00")),
        (new.pk, D("70.00")),
    ]
    assert credit_of(client_acme, "EUR") == D("30.00")
    entry = Activity.objects.filter(invoice=invoice, kind="payment").latest("id")
    assert entry.text == f"Client credit of €120.00 applied to {invoice.number}"


def test_credit_smaller_than_the_balance_pays_part(manual, client_acme, make_invoice):
    credit(client_acme, "20.00")
    invoice = make_invoice(client_acme, "120.00")
    assert apply_credit(invoice) == D("20.00")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("partially_paid", D("100.00"))
    assert credit_of(client_acme, "EUR") == 0


def test_credit_in_another_currency_is_not_used(manual, client_acme, make_invoice):
    credit(client_acme, "20.00", currency="USD")
    invoice = make_invoice(client_acme, "120.00")
    assert apply_credit(invoice) == 0
    assert Invoice.objects.get(pk=invoice.pk).balance == D("120.00")


def test_a_closed_invoice_takes_no_credit(manual, client_acme, make_invoice):
    credit(client_acme, "200.00")
    invoice = make_invoice(client_acme, "120.00")
    apply_credit(invoice)
    with pytest.raises(PaymentError, match="not open"):
        apply_credit(invoice)


def test_client_credit_goes_to_the_oldest_invoices(manual, client_acme, make_invoice):
    later = make_invoice(client_acme, "100.00", due=date(2026, 3, 1))
    older = make_invoice(client_acme, "100.00", due=date(2026, 2, 1))
    credit(client_acme, "150.00")
    assert apply_client_credit(client_acme, "EUR") == D("150.00")
    older.refresh_from_db()
    later.refresh_from_db()
    assert (older.balance, later.balance) == (0, D("50.00"))


def test_credit_is_applied_when_an_invoice_is_issued(org, client_acme, make_invoice):
    assert org.apply_credit_automatically  # the default
    credit(client_acme, "30.00")
    invoice = make_invoice(client_acme, "120.00")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("partially_paid", D("90.00"))
    assert credit_of(client_acme, "EUR") == 0


def test_without_the_option_credit_waits(manual, client_acme, make_invoice):
    credit(client_acme, "30.00")
    invoice = make_invoice(client_acme, "120.00")
    assert Invoice.objects.get(pk=invoice.pk).balance == D("120.00")
    assert credit_of(client_acme, "EUR") == D("30.00")


def test_credit_of_a_reversed_payment_is_gone(org, client_acme, make_invoice):
    payment = credit(client_acme, "30.00")
    reverse_payment(payment, date=date(2026, 1, 20), reason="Cheque bounced")
    assert credit_of(client_acme, "EUR") == 0
    invoice = make_invoice(client_acme, "120.00")
    assert Invoice.objects.get(pk=invoice.pk).balance == D("120.00")


def test_a_refund_reduces_the_credit_oldest_first(client_acme):
    old = credit(client_acme, "50.00", date(2026, 1, 3))
    new = credit(client_acme, "100.00", date(2026, 1, 8))
    refunds = refund_credit(
        client_acme,
        amount=D("80.00"),
        currency="EUR",
        date=date(2026, 2, 1),
        reference="REMB-1",
    )
    assert [(r.payment_id, r.amount) for r in refunds] == [(old.pk, D("50.00")), (new.pk, 30)]
    assert credit_of(client_acme, "EUR") == D("70.00")
    entry = Activity.objects.filter(client=client_acme, kind="payment").latest("id")
    assert entry.text == "Refund of €80.00 of client credit on Feb 1, 2026 (REMB-1)"


def test_a_refund_cannot_exceed_the_credit(client_acme):
    credit(client_acme, "50.00")
    with pytest.raises(PaymentError, match="more than the client's credit"):
        refund_credit(client_acme, amount=D("50.01"), currency="EUR", date=date(2026, 2, 1))
    with pytest.raises(PaymentError, match="greater than zero"):
        refund_credit(client_acme, amount=D("0"), currency="EUR", date=date(2026, 2, 1))
    with pytest.raises(PaymentError, match="more decimals"):
        refund_credit(client_acme, amount=D("1.001"), currency="EUR", date=date(2026, 2, 1))
    assert Refund.objects.count() == 0
    assert Payment.objects.get().unallocated == D("50.00")


def test_issuing_a_credit_note_does_not_touch_credit(org, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    credit(client_acme, "30.00")
    issuing.credit_in_full(invoice, as_of=date(2026, 1, 20))
    assert credit_of(client_acme, "EUR") == D("30.00")
