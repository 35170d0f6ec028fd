"""Who may do what on the invoice and payment pages.

rita (read-only) reads every page but every POST answers 403 and changes
nothing; charlie (another organisation) gets 404 for every id of alice's,
and alice's clients are unknown to his filters and forms.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relance.ledger import settlement
from relance.ledger.models import Activity, Attachment, Invoice, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def things(alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme, "240.00", due=date(2026, 2, 4))
    draft = make_invoice(client_acme, "60.00", issue=False)
    attachment = Attachment(organisation=client_acme.organisation, invoice=invoice, name="bc.pdf")
    attachment.file.save("bc.pdf", ContentFile(b"%PDF-1.4 purchase order"), save=True)
    payment = settlement.record_payment(
        client=client_acme, amount=Decimal("40.00"), currency="EUR", date=date(2026, 2, 10),
        shares=[settlement.Share(invoice, Decimal("40.00"))],
    )  # fmt: skip
    return {
        "client": client_acme,
        "invoice": invoice,
        "draft": draft,
        "attachment": attachment,
        "payment": payment,
    }


def pages(t):
    """Every GET page of this area, with alice's ids."""
    return [
        reverse("invoice_list"),
        reverse("invoice_create"),
        reverse("invoice_detail", args=[t["invoice"].pk]),
        reverse("invoice_detail", args=[t["draft"].pk]),
        reverse("invoice_edit", args=[t["draft"].pk]),
        reverse("credit_note_create", args=[t["invoice"].pk]),
        reverse("invoice_payment_create", args=[t["invoice"].pk]),
        reverse("client_payment_create", args=[t["client"].pk]),
        reverse("payment_list"),
        reverse("payment_detail", args=[t["payment"].pk]),
        reverse("attachment_download", args=[t["attachment"].pk]),
    ]


def posts(t):
    """Every POST of this area, with data that would work for alice."""
    invoice, draft, client = t["invoice"], t["draft"], t["client"]
    payment = {"amount": "10", "currency": "EUR", "date": "2026-02-20", "method": "transfer"}
    return [
        (reverse("invoice_create"), {"client": client.pk}),
        (reverse("invoice_edit", args=[draft.pk]), {}),
        (reverse("invoice_issue", args=[draft.pk]), {}),
        (reverse("credit_note_create", args=[invoice.pk]), {"mode": "full"}),
        (reverse("invoice_write_off", args=[invoice.pk]), {"reason": "gone"}),
        (reverse("invoice_note", args=[invoice.pk]), {"kind": "note", "text": "hello"}),
        (
            reverse("attachment_upload", args=[invoice.pk]),
            {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")},
        ),
        (reverse("invoice_payment_create", args=[invoice.pk]), payment),
        (
            reverse("client_payment_create", args=[client.pk]),
            {**payment, "allocation": "oldest"},
        ),
    ]


def snapshot():
    return (
        list(Invoice.objects.order_by("pk").values_list("status", "number", "balance")),
        Payment.objects.count(),
        Attachment.objects.count(),
        Activity.objects.count(),
    )


def test_rita_reads_every_page(client, rita, things):
    client.force_login(rita)
    for url in pages(things):
        assert client.get(url).status_code == 200, url


def test_rita_gets_403_on_every_post_and_nothing_changes(client, rita, things):
    client.force_login(rita)
    before = snapshot()
    for url, data in posts(things):
        assert client.post(url, data).status_code == 403, url
    assert snapshot() == before


def test_charlie_gets_404_for_every_id_of_alice(client, charlie, things):
    client.force_login(charlie)
    before = snapshot()
    for url in pages(things):
        if url in (reverse("invoice_list"), reverse("invoice_create"), reverse("payment_list")):
            continue
        assert client.get(url).status_code == 404, url
    for url, data in posts(things):
        if url == reverse("invoice_create"):
            continue
        assert client.post(url, data).status_code == 404, url
    assert snapshot() == before


def test_charlie_sees_none_of_alices_documents(client, charlie, things):
    client.force_login(charlie)
    invoices = client.get(reverse("invoice_list"))
    assert list(invoices.context["page"].object_list) == []
    assert "ACME" not in invoices.content.decode()
    payments = client.get(reverse("payment_list"))
    assert list(payments.context["page"].object_list) == []
    assert payments.context["credit"] == []


def test_alices_client_is_unknown_to_charlies_filters_and_forms(client, charlie, things):
    client.force_login(charlie)
    acme = things["client"].pk
    listed = client.get(reverse("invoice_list"), {"client": acme})
    assert listed.status_code == 200
    assert list(listed.context["page"].object_list) == []
    assert listed.context["form"].errors
    assert client.get(reverse("payment_list"), {"client": acme}).context["client"] is None
    assert client.get(reverse("invoice_create"), {"client": acme}).status_code == 404
    before = snapshot()
    data = {
        "client": acme,
        "due_date": "2026-04-01",
        "currency": "EUR",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Work",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "10",
        "lines-0-vat_rate": "20",
        "installments-TOTAL_FORMS": "0",
        "installments-INITIAL_FORMS": "0",
    }
    assert client.post(reverse("invoice_create"), data).status_code == 200
    assert snapshot() == before


def test_strangers_are_sent_to_the_login_page(client, things):
    for url in pages(things):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_bob_the_member_may_write(client, bob, things):
    client.force_login(bob)
    url = reverse("invoice_note", args=[things["invoice"].pk])
    assert client.post(url, {"kind": "note", "text": "checked"}).status_code == 302
    assert Activity.objects.filter(kind="note", author=bob).exists()


def test_a_get_on_an_action_changes_nothing(client, alice, things):
    client.force_login(alice)
    before = snapshot()
    draft, invoice = things["draft"], things["invoice"]
    for name, target in [
        ("invoice_issue", draft),
        ("invoice_write_off", invoice),
        ("invoice_note", invoice),
        ("attachment_upload", invoice),
    ]:
        response = client.get(reverse(name, args=[target.pk]))
        assert response["Location"] == reverse("invoice_detail", args=[target.pk])
    assert snapshot() == before
