"""The invoicing pages: the draft editor's terms and mentions, issuing with
or without sending, the mention checker's refusal, the PDF, resending and
sending later — through the Django test client, with a real SMTP server."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from lxml import etree
from pypdf import PdfReader

from relance.einvoice.facturx import extract_xml
from relance.invoicing.models import PaymentTermsTemplate
from relance.ledger import issuing
from relance.ledger.models import Activity, ActivityKind, Client, Contact, ContactRole, Invoice
from relance.ledger.models.invoices import InvoiceSource, NumberSequence

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)  # noon in Paris


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel("2026-03-10 11:00:00+00:00", tick=False):
        yield


@pytest.fixture
def billing(client_acme):
    return Contact.objects.create(
        organisation=client_acme.organisation,
        client=client_acme,
        first_name="Claire",
        last_name="Martin",
        role=ContactRole.BILLING,
        email="factures@acme.example",
    )


@pytest.fixture
def net30(org):
    return PaymentTermsTemplate.objects.create(
        organisation=org, name="30 jours", kind="net", days=30, is_default=True
    )


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def draft(client_acme):
    """A draft of 1,200.00 incl. VAT with no due date: the terms give it at issue."""
    return issuing.create_draft(
        client=client_acme,
        lines=[("Refonte du site", Decimal(1), Decimal("1000.00"), Decimal(20))],
    )


def editor_data(client_obj, lines, **header):
    data = {
        "client": str(client_obj.pk),
        "issue_date": "2026-03-10",
        "due_date": "",
        "terms_template": "",
        "currency": "EUR",
        "operation_category": "services",
        "delivery_date": "",
        "vat_exemption_reason": "",
        "purchase_order": "",
        "notes": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "installments-TOTAL_FORMS": "0",
        "installments-INITIAL_FORMS": "0",
        **header,
    }
    for i, (description, quantity, price, rate, category) in enumerate(lines):
        data.update(
            {
                f"lines-{i}-description": description,
                f"lines-{i}-quantity": quantity,
                f"lines-{i}-unit_price": price,
                f"lines-{i}-vat_rate": rate,
                f"lines-{i}-vat_category": category,
            }
        )
    return data


def page_text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


# The draft editor -------------------------------------------------------------------


def test_the_editor_offers_the_organisations_terms_and_names_the_default(
    as_alice, client_acme, net30, other_org
):
    PaymentTermsTemplate.objects.create(organisation=other_org, name="Theirs", kind="immediate")
    response = as_alice.get(reverse("invoice_create"), {"client": client_acme.pk})
    form = response.context["editor"].form
    assert list(form.fields["terms_template"].queryset) == [net30]
    assert form.initial.get("due_date") is None  # no more today + 30 typed for the user
    assert form.initial["operation_category"] == "services"
    text = page_text(response)
    assert "the organisation's default terms apply: 30 jours" in text


def test_the_editor_names_the_clients_own_terms(as_alice, client_acme, net30):
    eom = PaymentTermsTemplate.objects.create(
        organisation=client_acme.organisation, name="45 jours fin de mois", kind="days_then_eom",
        days=45, agreed_45_eom=True,
    )  # fmt: skip
    client_acme.payment_terms = eom
    client_acme.save()
    response = as_alice.get(reverse("invoice_create"), {"client": client_acme.pk})
    assert "the client's terms apply: 45 jours fin de mois" in page_text(response)


def test_the_editor_suggests_mid_month_after_the_15th(as_alice, client_acme, draft):
    response = as_alice.get(reverse("invoice_create"))
    assert response.context["mid_month"] is None  # the 10th: nothing to say
    Invoice.objects.filter(pk=draft.pk).update(issue_date=date(2026, 3, 20))
    response = as_alice.get(reverse("invoice_edit", args=[draft.pk]))
    assert response.context["mid_month"] == date(2026, 4, 15)
    assert "Consider dating it April 15, 2026" in page_text(response)


def test_a_draft_keeps_its_terms_operation_dates_exemption_and_vat_categories(
    as_alice, client_acme, net30
):
    data = editor_data(
        client_acme,
        [
            ("Formation", "1", "800", "0", "E"),
            ("Support", "2", "100", "20", "S"),
        ],
        terms_template=str(net30.pk),
        operation_category="mixed",
        delivery_date="2026-03-02",
        vat_exemption_reason="Exonération de TVA, art. 261-4-4° du CGI",
    )
    response = as_alice.post(reverse("invoice_create"), data)
    assert response.status_code == 302, page_text(response)
    invoice = Invoice.objects.get()
    assert invoice.terms_template == net30
    assert invoice.due_date is None
    assert (invoice.operation_category, invoice.delivery_date) == ("mixed", date(2026, 3, 2))
    assert invoice.vat_exemption_reason.startswith("Exonération")
    assert [line.vat_category for line in invoice.lines.all()] == ["E", "S"]
    assert invoice.total_gross == Decimal("1040.00")
    # Edited again, the categories come back in the form and survive a save.
    page = as_alice.get(reverse("invoice_edit", args=[invoice.pk]))
    assert page.context["editor"].lines.initial[0]["vat_category"] == "E"
    response = as_alice.post(reverse("invoice_edit", args=[invoice.pk]), data)
    assert response.status_code == 302
    assert [line.vat_category for line in invoice.lines.all()] == ["E", "S"]


@pytest.mark.parametrize(
    ("changes", "line", "message"),
    [
        ({}, ("Export", "1", "100", "20", "G"), "has a VAT rate of 0"),
        ({"due_date": "2026-04-09", "terms_template": "TERMS"}, None, "not both"),
        ({"operation_category": "anything"}, None, "valid choice"),
        ({"terms_template": "OTHER"}, None, "valid choice"),
        ({"delivery_date": "2026-02-30"}, None, "valid date"),
    ],
)
def test_bad_editor_input_is_an_error_and_saves_nothing(
    as_alice, client_acme, net30, other_org, changes, line, message
):
    theirs = PaymentTermsTemplate.objects.create(organisation=other_org, name="X", kind="net")
    values = {"TERMS": str(net30.pk), "OTHER": str(theirs.pk)}
    changes = {k: values.get(v, v) for k, v in changes.items()}
    data = editor_data(client_acme, [line or ("Work", "1", "100", "20", "S")], **changes)
    response = as_alice.post(reverse("invoice_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Invoice.objects.exists()


# Issuing ---------------------------------------------------------------------------


def test_missing_mentions_are_listed_with_where_to_fix_them_and_nothing_changes(
    as_alice, org, client_acme, net30, draft
):
    Client.objects.filter(pk=client_acme.pk).update(siren="", address_line1="")
    type(org).objects.filter(pk=org.pk).update(vat_number="")
    activities = Activity.objects.count()
    response = as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    assert response.status_code == 200
    html = response.content.decode()
    missing = response.context["missing_mentions"]
    assert [row["label"] for row in missing] == [
        "your VAT number (organisation settings), or a VAT exemption mention",
        "the client's address",
        "the client's SIREN (required for business clients in France)",
    ]
    assert f'href="{reverse("organisation_settings")}#id_vat_number"' in html
    assert f'href="{reverse("client_edit", args=[client_acme.pk])}#id_address_line1"' in html
    assert f'href="{reverse("client_edit", args=[client_acme.pk])}#id_siren"' in html
    assert "Nothing was issued" in html
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.due_date, draft.terms) == ("draft", "", None, {})
    assert not NumberSequence.objects.exists() or NumberSequence.objects.get().last_value == 0
    assert Activity.objects.count() == activities


def test_a_missing_due_date_links_to_the_draft_editor(as_alice, client_acme, draft):
    # No terms anywhere and no due date: the editor is where it is fixed.
    response = as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    [row] = response.context["missing_mentions"]
    assert row["label"] == "the due date or payment terms"
    assert row["url"] == reverse("invoice_edit", args=[draft.pk]) + "#id_due_date"
    assert Invoice.objects.get(pk=draft.pk).is_draft


def test_the_legal_cap_refusal_names_the_article_and_the_limit(as_alice, org, client_acme, draft):
    long = PaymentTermsTemplate.objects.create(organisation=org, name="90", kind="net", days=90)
    Invoice.objects.filter(pk=draft.pk).update(terms_template=long)
    response = as_alice.post(
        reverse("invoice_issue", args=[draft.pk]), {"mode": "none"}, follow=True
    )
    text = page_text(response)
    assert "later than the law allows for a business client" in text
    assert "L441-10 I du Code de commerce" in text
    assert "May 9, 2026" in text  # 60 days after March 10
    draft.refresh_from_db()
    assert (draft.status, draft.due_date) == ("draft", None)


def test_issue_and_send_numbers_archives_and_mails_the_invoice(
    as_alice, client_acme, billing, net30, draft, smtp_server
):
    response = as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "send"})
    assert response.status_code == 302
    invoice = Invoice.objects.get(pk=draft.pk)
    assert (invoice.number, invoice.issue_date) == ("F2026-00001", TODAY)
    assert invoice.due_date == date(2026, 4, 9)  # the organisation's 30 days
    assert invoice.terms["kind"] == "net"
    assert invoice.pdf and invoice.sent_at is not None
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["factures@acme.example"]
    [message] = smtp_server.messages
    assert "F2026-00001" in message["Subject"]
    assert "9 avr. 2026" in message["Subject"]  # the client reads French
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "F2026-00001.pdf"
    assert b"F2026-00001" in extract_xml(attachment.get_content())
    page = as_alice.get(response["Location"])
    text = page_text(page)
    assert "F2026-00001 issued and sent by email." in text
    assert "Sent on" in text and "Not sent yet" not in text
    assert "Payable 30 days from the invoice date, by Apr 9, 2026" in text


def test_issue_and_send_later_schedules_the_email(
    as_alice, client_acme, billing, net30, draft, smtp_server
):
    url = reverse("invoice_issue", args=[draft.pk])
    response = as_alice.post(url, {"mode": "later", "send_on": "2026-03-01"})
    assert response.status_code == 200
    assert "Choose today or a later day." in response.content.decode()
    assert Invoice.objects.get(pk=draft.pk).is_draft
    response = as_alice.post(url, {"mode": "later", "send_on": "2026-03-16"})
    assert response.status_code == 302
    invoice = Invoice.objects.get(pk=draft.pk)
    assert (invoice.number, invoice.send_on, invoice.sent_at) == (
        "F2026-00001",
        date(2026, 3, 16),
        None,
    )
    assert smtp_server.envelopes == []
    text = page_text(as_alice.get(response["Location"]))
    assert "Not sent yet" in text and "Will be sent by email on March 16, 2026" in text


def test_issue_without_sending_sends_nothing(
    as_alice, client_acme, billing, net30, draft, smtp_server
):
    response = as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    assert response.status_code == 302
    invoice = Invoice.objects.get(pk=draft.pk)
    assert invoice.number == "F2026-00001" and invoice.sent_at is None
    assert smtp_server.envelopes == []


def test_issuing_for_a_client_without_email_says_it_was_not_sent(as_alice, net30, draft):
    page = as_alice.get(reverse("invoice_detail", args=[draft.pk]))
    assert page.context["issue_form"].initial["mode"] == "none"
    assert "has no billing contact with an email address" in page_text(page)
    response = as_alice.post(reverse("invoice_issue", args=[draft.pk]), follow=True)
    assert "issued, but not sent" in page_text(response)
    assert Invoice.objects.get(pk=draft.pk).number == "F2026-00001"


# The PDF ---------------------------------------------------------------------------


def test_an_issued_invoice_downloads_its_archived_factur_x(as_alice, net30, draft):
    as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    invoice = Invoice.objects.get(pk=draft.pk)
    response = as_alice.get(reverse("invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="F2026-00001.pdf"'
    content = b"".join(response.streaming_content)
    with invoice.pdf.open("rb") as handle:
        assert content == handle.read()  # what was sent is what is downloaded
    root = etree.fromstring(extract_xml(content))
    ids = root.xpath("//*[local-name()='ExchangedDocument']/*[local-name()='ID']/text()")
    assert ids == ["F2026-00001"]


def test_a_draft_previews_a_marked_pdf(as_alice, net30, draft):
    response = as_alice.get(reverse("invoice_pdf", args=[draft.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'inline; filename="draft-{draft.pk}-preview.pdf"'
    text = pdf_text(response.content)
    assert "Brouillon" in text or "Draft" in text
    assert "this is not an invoice" in text or "pas une facture" in text
    assert "Refonte du site" in text
    assert "9 avr. 2026" in text  # the due date the default terms will give
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.due_date) == ("draft", "", None)


def test_an_imported_invoice_has_no_pdf_of_ours(as_alice, client_acme, make_invoice):
    invoice = make_invoice(client_acme)
    Invoice.objects.filter(pk=invoice.pk).update(source=InvoiceSource.IMPORT)
    assert as_alice.get(reverse("invoice_pdf", args=[invoice.pk])).status_code == 404
    page = as_alice.get(reverse("invoice_detail", args=[invoice.pk]))
    assert reverse("invoice_pdf", args=[invoice.pk]) not in page.content.decode()


# Resending, sending later, credit notes --------------------------------------------


def test_resend_sends_again_and_the_page_says_when(as_alice, billing, net30, draft, smtp_server):
    as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    page = as_alice.get(reverse("invoice_detail", args=[draft.pk]))
    assert "Not sent yet" in page_text(page) and "Send by email now" in page_text(page)
    response = as_alice.post(reverse("invoice_send", args=[draft.pk]), follow=True)
    assert "F2026-00001 sent to factures@acme.example." in page_text(response)
    assert "Resend by email" in page_text(response)
    as_alice.post(reverse("invoice_send", args=[draft.pk]))
    assert len(smtp_server.envelopes) == 2
    assert Activity.objects.filter(invoice=draft, kind=ActivityKind.SENT).count() == 2


def test_a_failed_send_is_an_error_and_the_invoice_stays_unsent(
    as_alice, billing, net30, draft, smtp_server
):
    as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    smtp_server.reject_with = "451 Try again later"
    response = as_alice.post(reverse("invoice_send", args=[draft.pk]), follow=True)
    assert "The email could not be sent" in page_text(response)
    assert Invoice.objects.get(pk=draft.pk).sent_at is None


def test_send_later_on_an_issued_invoice(as_alice, billing, net30, draft):
    as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    url = reverse("invoice_send_later", args=[draft.pk])
    response = as_alice.post(url, {"send_on": "2026-03-09"})
    assert response.status_code == 200 and "Choose today or a later day." in page_text(response)
    assert Invoice.objects.get(pk=draft.pk).send_on is None
    response = as_alice.post(url, {"send_on": "2026-03-12"}, follow=True)
    assert "will be sent by email on Mar 12, 2026" in page_text(response)
    assert Invoice.objects.get(pk=draft.pk).send_on == date(2026, 3, 12)


def test_a_draft_cannot_be_sent(as_alice, billing, draft, smtp_server):
    response = as_alice.post(reverse("invoice_send", args=[draft.pk]), follow=True)
    assert "A draft cannot be sent" in page_text(response)
    response = as_alice.post(
        reverse("invoice_send_later", args=[draft.pk]), {"send_on": "2026-03-12"}, follow=True
    )
    assert "A draft cannot be sent" in page_text(response)
    assert smtp_server.envelopes == [] and Invoice.objects.get(pk=draft.pk).send_on is None


def test_a_credit_note_gets_its_pdf_and_can_be_sent(as_alice, billing, net30, draft, smtp_server):
    as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    response = as_alice.post(reverse("credit_note_create", args=[draft.pk]), {"mode": "full"})
    assert response.status_code == 302
    note = Invoice.objects.get(kind="credit_note")
    assert note.number == "AV2026-00001" and note.pdf
    download = as_alice.get(reverse("invoice_pdf", args=[note.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="AV2026-00001.pdf"'
    root = etree.fromstring(extract_xml(b"".join(download.streaming_content)))
    assert root.xpath(
        "//*[local-name()='ExchangedDocument']/*[local-name()='TypeCode']/text()"
    ) == ["381"]
    as_alice.post(reverse("invoice_send", args=[note.pk]))
    [message] = smtp_server.messages
    assert message["Subject"].startswith("Avoir AV2026-00001") or message["Subject"].startswith(
        "Credit note AV2026-00001"
    )


def test_a_credit_note_refused_for_a_missing_mention_lists_it(as_alice, org, net30, draft):
    as_alice.post(reverse("invoice_issue", args=[draft.pk]), {"mode": "none"})
    type(org).objects.filter(pk=org.pk).update(address_line1="")
    response = as_alice.post(reverse("credit_note_create", args=[draft.pk]), {"mode": "full"})
    assert response.status_code == 200
    [row] = response.context["missing_mentions"]
    assert row["url"] == reverse("organisation_settings") + "#id_address_line1"
    assert not Invoice.objects.filter(kind="credit_note").exists()
    assert Invoice.objects.get(pk=draft.pk).balance == Decimal("1200.00")


# Who may do what ---------------------------------------------------------------------


def test_every_role_reads_the_pages_and_the_pdf(client, alice, bob, rita, net30, draft):
    for user in (alice, bob, rita):
        client.force_login(user)
        assert client.get(reverse("invoice_detail", args=[draft.pk])).status_code == 200
        assert client.get(reverse("invoice_pdf", args=[draft.pk])).status_code == 200


def test_read_only_members_cannot_issue_nor_send(client, rita, billing, net30, draft, smtp_server):
    client.force_login(rita)
    page = client.get(reverse("invoice_detail", args=[draft.pk]))
    assert reverse("invoice_issue", args=[draft.pk]) not in page.content.decode()
    for name, data in [
        ("invoice_issue", {"mode": "send"}),
        ("invoice_send", {}),
        ("invoice_send_later", {"send_on": "2026-03-12"}),
    ]:
        assert client.post(reverse(name, args=[draft.pk]), data).status_code == 403
    draft.refresh_from_db()
    assert draft.is_draft and smtp_server.envelopes == []


def test_a_member_issues_and_sends(client, bob, billing, net30, draft, smtp_server):
    client.force_login(bob)
    assert client.post(reverse("invoice_issue", args=[draft.pk])).status_code == 302
    assert len(smtp_server.envelopes) == 1
    sent = Activity.objects.get(invoice=draft, kind=ActivityKind.SENT)
    assert sent.author == bob


def test_the_french_page_of_a_draft(client_fr, alice, net30, draft):
    client_fr.force_login(alice)
    response = client_fr.get(reverse("invoice_detail", args=[draft.pk]))
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()
