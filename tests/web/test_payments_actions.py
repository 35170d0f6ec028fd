"""The payment pages added with allocation: duplicate warning, client credit applied
or refunded, reversal, struck-through reversed payments and the organisation options."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from relance.ledger import settlement
from relance.ledger.models import Invoice, Payment, Refund

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel("2026-03-10 11:00:00+00:00", tick=False):
        yield


def login(client, user):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def as_alice(client, alice):
    return login(client, alice)


@pytest.fixture
def invoice(client_acme, make_invoice):
    return make_invoice(client_acme, "120.00", due=date(2026, 2, 4))


def credit(client, amount="50.00", reference="VIR 9"):
    return settlement.record_payment(
        client=client,
        amount=D(amount),
        currency="EUR",
        date=date(2026, 3, 1),
        shares=[],
        reference=reference,
        keep_excess_as_credit=True,
    )


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
    return data


# Duplicates ------------------------------------------------------------------------------


def test_a_possible_duplicate_is_shown_and_needs_confirmation(as_alice, client_acme, org):
    earlier = credit(client_acme, "120.00", reference="VIR 123")
    url = reverse("client_payment_create", args=[client_acme.pk])
    data = pay_data(allocation="oldest", keep_excess_as_credit="on")
    response = as_alice.post(url, data)
    assert response.status_code == 200
    assert b"This payment may already be recorded" in response.content
    assert reverse("payment_detail", args=[earlier.pk]).encode() in response.content
    assert Payment.objects.count() == 1
    response = as_alice.post(url, {**data, "record_anyway": "on"})
    assert response.status_code == 302
    assert Payment.objects.count() == 2


def test_a_duplicate_on_the_invoice_page(as_alice, client_acme, invoice):
    settlement.record_payment(
        client=client_acme,
        amount=D("20.00"),
        currency="EUR",
        date=date(2026, 3, 5),
        shares=[settlement.Share(invoice, D("20.00"))],
        reference="VIR-123",
    )
    url = reverse("invoice_payment_create", args=[invoice.pk])
    response = as_alice.post(url, pay_data(amount="20.00"))
    assert b"This payment may already be recorded" in response.content
    assert Payment.objects.count() == 1
    assert as_alice.post(url, pay_data(amount="20.00", record_anyway="on")).status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).balance == D("80.00")


# Client credit ---------------------------------------------------------------------------


def test_apply_credit_from_the_invoice_page(as_alice, client_acme, invoice):
    credit(client_acme)
    page = as_alice.get(reverse("invoice_detail", args=[invoice.pk]))
    assert b"Apply credit of \xe2\x82\xac50.00" in page.content
    response = as_alice.post(reverse("invoice_apply_credit", args=[invoice.pk]), follow=True)
    assert b"Client credit of \xe2\x82\xac50.00 applied." in response.content
    assert Invoice.objects.get(pk=invoice.pk).balance == D("70.00")
    # Nothing left: a second click says so.
    response = as_alice.post(reverse("invoice_apply_credit", args=[invoice.pk]), follow=True)
    assert b"No client credit to apply." in response.content


def test_apply_credit_from_the_client_page(as_alice, client_acme, invoice):
    credit(client_acme)
    page = as_alice.get(reverse("client_detail", args=[client_acme.pk]))
    assert b"Apply credit of \xe2\x82\xac50.00" in page.content
    url = reverse("client_apply_credit", args=[client_acme.pk])
    assert as_alice.post(url, {"currency": "EUR"}).status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).balance == D("70.00")
    assert as_alice.post(url, {"currency": "XXX"}).status_code == 400
    assert as_alice.get(url).status_code == 405


def test_refund_page(as_alice, client_acme):
    credit(client_acme)
    url = reverse("client_refund_create", args=[client_acme.pk])
    assert as_alice.get(url).status_code == 200
    response = as_alice.post(url, {**pay_data(amount="60.00"), "date": "2026-03-10"})
    assert b"More than the client&#x27;s credit." in response.content
    response = as_alice.post(url, {**pay_data(amount="50.00"), "date": "2026-03-10"})
    assert response.status_code == 302
    assert Refund.objects.get().amount == D("50.00")
    assert settlement.credit_of(client_acme, "EUR") == 0
    # No credit left: back to the client page with the reason.
    response = as_alice.get(url, follow=True)
    assert b"This client has no credit to refund." in response.content


# Reversal --------------------------------------------------------------------------------


def test_reverse_a_payment_from_its_page(as_alice, client_acme, invoice):
    payment = settlement.record_payment(
        client=client_acme,
        amount=D("120.00"),
        currency="EUR",
        date=date(2026, 3, 5),
        shares=[settlement.Share(invoice, D("120.00"))],
    )
    page = as_alice.get(reverse("payment_detail", args=[payment.pk]))
    assert b"Reverse this payment" in page.content
    url = reverse("payment_reverse", args=[payment.pk])
    response = as_alice.post(url, {"date": "2026-03-04", "reason": "Rejected"})
    assert b"cannot be reversed before it was received" in response.content
    response = as_alice.post(url, {"date": "2026-03-10", "reason": ""})
    assert b"This field is required" in response.content
    response = as_alice.post(url, {"date": "2026-03-10", "reason": "Direct debit rejected"})
    assert response.status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"
    page = as_alice.get(reverse("payment_detail", args=[payment.pk]))
    assert b"Reversed on" in page.content and b"Reverse this payment" not in page.content
    listing = as_alice.get(reverse("payment_list"))
    assert b"<del>" in listing.content
    assert as_alice.get(url, follow=True).status_code == 200  # already reversed: a message


def test_reversed_payments_are_left_out_of_the_credit_total(as_alice, client_acme):
    kept = credit(client_acme, "30.00")
    gone = credit(client_acme, "40.00", reference="other")
    settlement.reverse_payment(gone, date=date(2026, 3, 2), reason="Bounced")
    listing = as_alice.get(reverse("payment_list"))
    assert listing.context["credit"] == [{"currency": "EUR", "amount": D("30.00")}]
    assert kept.pk


# Access ----------------------------------------------------------------------------------


def test_read_only_users_cannot_act(client, rita, client_acme, invoice):
    login(client, rita)
    payment = credit(client_acme)
    posts = [
        (reverse("invoice_apply_credit", args=[invoice.pk]), {}),
        (reverse("client_apply_credit", args=[client_acme.pk]), {"currency": "EUR"}),
        (reverse("client_refund_create", args=[client_acme.pk]), {}),
        (reverse("payment_reverse", args=[payment.pk]), {"date": "2026-03-10", "reason": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert Payment.objects.get().unallocated == D("50.00")
    page = client.get(reverse("payment_detail", args=[payment.pk]))
    assert b"Reverse this payment" not in page.content


def test_other_organisations_get_404(client, charlie, client_acme, invoice):
    login(client, charlie)
    payment = credit(client_acme)
    assert client.post(reverse("invoice_apply_credit", args=[invoice.pk])).status_code == 404
    assert client.get(reverse("payment_reverse", args=[payment.pk])).status_code == 404
    assert client.get(reverse("client_refund_create", args=[client_acme.pk])).status_code == 404


# Organisation options --------------------------------------------------------------------


def test_the_options_are_on_the_organisation_page(as_alice, org):
    page = as_alice.get(reverse("organisation_settings"))
    assert b"apply client credit to new invoices" in page.content.lower()
    assert b"thank clients for their payments" in page.content.lower()
