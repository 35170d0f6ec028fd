"""A person drafts an invoice, issues and sends it, and downloads its
Factur-X PDF — in a real Chromium, against a real SMTP server. Screenshots
of the invoice page and of the payment-terms page are kept in
test-artifacts/ for a person to look at."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from relance.einvoice.facturx import extract_xml
from relance.invoicing.models import PaymentTermsTemplate
from relance.ledger.models import Contact, ContactRole, Invoice

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lawful(org, client_acme):
    org.address_line1 = "12 rue de la Paix"
    org.postcode, org.city = "75002", "Paris"
    org.vat_number = "FR44732829320"
    org.share_capital = Decimal("10000")
    org.rcs_city = "Paris"
    org.email = "compta@atelier-durand.fr"
    org.iban, org.bic = "FR7630006000011234567890189", "AGRIFRPP"
    org.save()
    client_acme.address_line1 = "3 quai Rambaud"
    client_acme.postcode, client_acme.city = "69002", "Lyon"
    client_acme.save()
    Contact.objects.create(
        organisation=org,
        client=client_acme,
        first_name="Claire",
        last_name="Martin",
        role=ContactRole.BILLING,
        email="factures@acme.example",
    )
    PaymentTermsTemplate.objects.create(
        organisation=org, name="30 jours", kind="net", days=30, is_default=True
    )
    PaymentTermsTemplate.objects.create(
        organisation=org, name="Acompte 30 %", kind="deposit", days=45,
        deposit_percent=Decimal("30"), discount_percent=Decimal("2"), discount_days=10,
    )  # fmt: skip
    PaymentTermsTemplate.objects.create(
        organisation=org, name="45 jours fin de mois", kind="days_then_eom", days=45
    )
    return client_acme


def log_in(page, live_server, user) -> None:
    user.set_password("s3cret-browser-pass")
    user.save()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "s3cret-browser-pass")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_draft_issue_send_and_download_the_pdf(
    page, live_server, alice, lawful, smtp_server, tmp_path
):
    acme = lawful
    log_in(page, live_server, alice)

    page.goto(f"{live_server.url}/invoices/new/?client={acme.pk}")
    assert page.input_value("#id_due_date") == ""  # the terms will give it
    page.fill("input[name='lines-0-description']", "Refonte du site")
    page.fill("input[name='lines-0-unit_price']", "1 000,00")
    page.fill("input[name='lines-1-description']", "Formation (exonérée)")
    page.fill("input[name='lines-1-unit_price']", "400")
    page.fill("input[name='lines-1-vat_rate']", "0")
    page.select_option("select[name='lines-1-vat_category']", "E")
    page.fill("#id_vat_exemption_reason", "Exonération de TVA, art. 261-4-4° du CGI")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invoice-editor.png"), full_page=True)
    page.click("form.invoice-form button.btn-primary[type=submit]")
    page.wait_for_url(re.compile(r"/invoices/\d+/$"))
    draft = Invoice.objects.get()
    assert draft.is_draft and draft.total_gross == Decimal("1600.00")

    page.screenshot(path=str(ARTIFACTS / "invoice-draft.png"), full_page=True)
    # Issue and send (the default choice for a client with a billing email).
    assert page.is_checked("input[name=mode][value=send]")
    page.click("form.issue-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/invoices/{draft.pk}/$"))
    invoice = Invoice.objects.get(pk=draft.pk)
    year = invoice.issue_date.year
    assert invoice.number == f"F{year}-00001"
    assert invoice.sent_at is not None
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["factures@acme.example"]]
    assert invoice.number in page.inner_text("main h1")

    with page.expect_download() as download_info:
        page.click(f"main a[href='/invoices/{invoice.pk}/pdf/']")
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    content = saved.read_bytes()
    assert content.startswith(b"%PDF")
    assert invoice.number.encode() in extract_xml(content)

    page.screenshot(path=str(ARTIFACTS / "invoice-page.png"), full_page=True)
    page.goto(f"{live_server.url}/terms/")
    assert "30 jours" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "terms-page.png"), full_page=True)
    assert Path(ARTIFACTS / "terms-page.png").stat().st_size > 0
