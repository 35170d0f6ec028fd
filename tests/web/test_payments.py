"""The payment pages: recording a payment on an invoice or for a client,
the payment register and a payment's page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from relance.ledger import issuing, settlement
from relance.ledger.models import Client, Invoice, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel("2026-03-10 11:00:00+00:00", tick=False):
        yield


@pytest.fixture
def as_alice(client, alice):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # assertions read the msgids
    client.force_login(alice)
    return client


@pytest.fixture
def invoice(client_acme, make_invoice):
    return make_invoice(client_acme, "120.00", due=date(2026, 2, 4))


def pay_data(**fields):
    data = {
        "amount": "120.00",
        "currency": "EUR",
        "date": "2026-03-09",
        "method": "transfer",
        "reference": "VIR 123",
        "payer_name": "ACME",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def pay_invoice(as_user, invoice, **fields):
    return as_user.post(reverse("invoice_payment_create", args=[invoice.pk]), pay_data(**fields))


def fresh(invoice):
    return Invoice.objects.get(pk=invoice.pk)


# On one invoice -------------------------------------------------------------------------


def test_the_form_offers_the_balance_and_today(as_alice, invoice):
    response = as_alice.get(reverse("invoice_payment_create", args=[invoice.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["amount"] == Decimal("120.00")
    assert form.initial["date"] == date(2026, 3, 10)


def test_a_partial_payment_lowers_the_balance_exactly(as_alice, invoice):
    response = pay_invoice(as_alice, invoice, amount="40,10")
    assert response.status_code == 302
    invoice = fresh(invoice)
    assert (invoice.amount_paid, invoice.balance) == (Decimal("40.10"), Decimal("79.90"))
    assert invoice.status == "partially_paid"
    payment = Payment.objects.get()
    assert (payment.reference, payment.payer_name, payment.created_by.username) == (
        "VIR 123",
        "ACME",
        "alice",
    )
    assert pay_invoice(as_alice, invoice, amount="79.90").status_code == 302
    invoice = fresh(invoice)
    assert (invoice.balance, invoice.status) == (Decimal("0.00"), "paid")


def test_an_overpayment_is_refused_unless_kept_as_credit(as_alice, invoice):
    response = pay_invoice(as_alice, invoice, amount="150")
    assert response.status_code == 200
    assert "record it explicitly as client credit" in response.content.decode()
    assert not Payment.objects.exists()
    assert fresh(invoice).balance == Decimal("120.00")

    response = pay_invoice(as_alice, invoice, amount="150", keep_excess_as_credit="on")
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.unallocated) == (Decimal("150.00"), Decimal("30.00"))
    assert (fresh(invoice).balance, fresh(invoice).status) == (Decimal("0.00"), "paid")


def test_a_payment_in_another_currency_is_refused(as_alice, invoice):
    response = pay_invoice(as_alice, invoice, amount="120", currency="USD")
    assert response.status_code == 200
    assert "a payment in USD cannot settle it" in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "12,345.678"}, "at most 2 decimals"),
        ({"amount": "10.001"}, "at most 2 decimals"),
        ({"amount": "abc"}, "Enter a number"),
        ({"amount": "1e999"}, "too large"),
        ({"amount": "NaN"}, "Enter a number"),
        ({"amount": "-5"}, "0.01 or more"),
        ({"amount": "0"}, "0.01 or more"),
        ({"amount": ""}, "required"),
        ({"date": "2026-02-30"}, "valid date"),
        ({"date": "2026-03-11"}, "in the future"),
        ({"method": "bitcoin"}, "valid choice"),
        ({"currency": "XXX"}, "valid choice"),
        ({"installment": "abc"}, None),
    ],
)
def test_bad_input_is_an_error_and_saves_nothing(as_alice, invoice, fields, message):
    response = pay_invoice(as_alice, invoice, **fields)
    if message is None:  # a field this invoice does not have: ignored
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Payment.objects.exists()


def test_yen_payments_take_no_decimals(as_alice, client_acme, make_invoice):
    yen = make_invoice(client_acme, "1200", currency="JPY", vat="0")
    response = pay_invoice(as_alice, yen, amount="100.50", currency="JPY")
    assert "at most 0 decimals" in response.content.decode()
    assert pay_invoice(as_alice, yen, amount="100", currency="JPY").status_code == 302


def test_a_payment_can_go_on_one_installment(as_alice, client_acme):
    draft = issuing.create_draft(
        client=client_acme,
        lines=[("Work", Decimal(1), Decimal(100), Decimal(20))],
        issue_date=date(2026, 1, 5),
        due_date=date(2026, 4, 5),
    )
    issuing.set_installments(
        draft, [(date(2026, 2, 5), Decimal("60")), (date(2026, 4, 5), Decimal("60"))]
    )
    invoice = issuing.issue(draft, as_of=date(2026, 1, 5))
    late, later = invoice.installments.order_by("due_date")
    page = as_alice.get(reverse("invoice_payment_create", args=[invoice.pk]))
    assert "installment" in page.context["form"].fields
    response = pay_invoice(as_alice, invoice, amount="30", installment=str(later.pk))
    assert response.status_code == 302
    later.refresh_from_db()
    late.refresh_from_db()
    assert (late.amount_paid, later.amount_paid) == (Decimal("0.00"), Decimal("30.00"))
    response = pay_invoice(as_alice, invoice, amount="40", installment=str(later.pk))
    assert response.status_code == 200
    assert "record it explicitly as client credit" in response.content.decode()


def test_a_closed_invoice_takes_no_payment(as_alice, client_acme, make_invoice):
    draft = make_invoice(client_acme, issue=False)
    response = as_alice.post(
        reverse("invoice_payment_create", args=[draft.pk]), pay_data(), follow=True
    )
    assert "not open" in response.content.decode()
    assert not Payment.objects.exists()


# For a client ------------------------------------------------------------------------------


def client_pay_data(**fields):
    return pay_data(**{"allocation": "oldest", **fields})


def test_a_client_payment_settles_the_oldest_invoices_first(as_alice, client_acme, make_invoice):
    newer = make_invoice(client_acme, "100.00", due=date(2026, 3, 1))
    older = make_invoice(client_acme, "50.00", due=date(2026, 2, 1))
    url = reverse("client_payment_create", args=[client_acme.pk])
    page = as_alice.get(url)
    assert [row[0] for row in page.context["form"].rows()] == [older, newer]
    response = as_alice.post(url, client_pay_data(amount="80"))
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert response["Location"] == reverse("payment_detail", args=[payment.pk])
    assert (fresh(older).balance, fresh(newer).balance) == (Decimal("0.00"), Decimal("70.00"))


def test_a_client_payment_follows_the_amounts_given(as_alice, client_acme, make_invoice):
    first = make_invoice(client_acme, "100.00", due=date(2026, 2, 1))
    second = make_invoice(client_acme, "100.00", due=date(2026, 3, 1))
    url = reverse("client_payment_create", args=[client_acme.pk])
    data = client_pay_data(amount="60", allocation="manual", **{f"share_{second.pk}": "60"})
    assert as_alice.post(url, data).status_code == 302
    assert (fresh(first).balance, fresh(second).balance) == (Decimal("100.00"), Decimal("40.00"))


def test_manual_allocations_must_fit(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "100.00")
    dollars = make_invoice(client_acme, "100.00", currency="USD")
    url = reverse("client_payment_create", args=[client_acme.pk])
    cases = [
        ({f"share_{invoice.pk}": "101"}, "More than the balance"),
        ({f"share_{invoice.pk}": "1.001"}, "at most 2 decimals"),
        ({f"share_{dollars.pk}": "10"}, "cannot be settled in another currency"),
        ({f"share_{invoice.pk}": "70"}, "exceed the payment"),
        ({f"share_{invoice.pk}": "10"}, "record it explicitly as client credit"),
    ]
    for shares, message in cases:
        data = client_pay_data(amount="60", allocation="manual", **shares)
        response = as_alice.post(url, data)
        assert response.status_code == 200, shares
        assert message in response.content.decode(), shares
    assert not Payment.objects.exists()


def test_a_client_payment_with_nothing_owed_can_be_kept_as_credit(as_alice, client_acme):
    url = reverse("client_payment_create", args=[client_acme.pk])
    assert as_alice.post(url, client_pay_data(amount="25")).status_code == 200
    assert not Payment.objects.exists()
    response = as_alice.post(url, client_pay_data(amount="25", keep_excess_as_credit="on"))
    assert response.status_code == 302
    assert Payment.objects.get().unallocated == Decimal("25.00")


# The register and a payment's page ------------------------------------------------------------


@pytest.fixture
def payments(client_acme, org, make_invoice):
    invoice = make_invoice(client_acme, "120.00")
    other = Client.objects.create(organisation=org, name="Boulangerie Dupont")
    by_cheque = settlement.record_payment(
        client=client_acme, amount=Decimal("50"), currency="EUR", date=date(2026, 2, 1),
        shares=[settlement.Share(invoice, Decimal("50"))], method="cheque",
    )  # fmt: skip
    credit = settlement.record_payment(
        client=other, amount=Decimal("30"), currency="EUR", date=date(2026, 3, 1), shares=[],
        keep_excess_as_credit=True,
    )  # fmt: skip
    return {"cheque": by_cheque, "credit": credit, "invoice": invoice, "other": other}


def test_the_register_filters_and_shows_client_credit(as_alice, payments):
    def listed(**params):
        response = as_alice.get(reverse("payment_list"), params)
        assert response.status_code == 200
        return response, {p.pk for p in response.context["page"].object_list}

    response, pks = listed()
    assert pks == {payments["cheque"].pk, payments["credit"].pk}
    assert response.context["credit"] == [{"currency": "EUR", "amount": Decimal("30.00")}]
    assert listed(method="cheque")[1] == {payments["cheque"].pk}
    assert listed(client=payments["other"].pk)[1] == {payments["credit"].pk}
    assert listed(date_from="2026-02-15")[1] == {payments["credit"].pk}
    assert listed(credit="on")[1] == {payments["credit"].pk}


@pytest.mark.parametrize(
    "params",
    [
        {"page": "-1"},
        {"page": "x"},
        {"date_from": "2026-02-30"},
        {"client": "abc"},
        {"client": "99999999999999999999999"},
        {"method": "drop table"},
    ],
)
def test_junk_filters_never_fail(as_alice, payments, params):
    assert as_alice.get(reverse("payment_list"), params).status_code == 200


def test_a_payments_page_links_its_invoices(as_alice, payments):
    response = as_alice.get(reverse("payment_detail", args=[payments["cheque"].pk]))
    assert response.status_code == 200
    assert reverse("invoice_detail", args=[payments["invoice"].pk]) in response.content.decode()
