"""A person copies the standard reminder policy, moves its courtesy reminder
and watches the plain-language preview follow as they type (htmx), saves it,
then tries a wording with a misspelt variable — in a real Chromium.
Screenshots go to /tmp/policies-*.png for a person to look at."""

from __future__ import annotations

from datetime import date

import pytest

from relance.dunning.models import MessageTemplate, Policy
from relance.ledger.models import Contact, ContactRole

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-browser-pass"


def log_in(page, live_server, user) -> None:
    user.set_password(PASSWORD)
    user.save()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_copy_a_policy_edit_it_with_a_live_preview_and_check_a_wording(
    page, live_server, alice, org, client_acme, make_invoice
):
    Contact.objects.create(
        organisation=org,
        client=client_acme,
        first_name="Claire",
        last_name="Martin",
        role=ContactRole.BILLING,
        email="factures@acme.example",
    )
    invoice = make_invoice(client_acme, "1440.00", due=date(2026, 2, 4))
    standard = Policy.objects.get(organisation=org, builtin="standard_b2b")
    log_in(page, live_server, alice)

    page.goto(f"{live_server.url}/reminders/policies/")
    page.screenshot(path="/tmp/policies-list.png", full_page=True)
    page.click(f"#policy-{standard.pk} form[action$='/duplicate/'] button")
    page.wait_for_url(f"{live_server.url}/reminders/policies/*/")
    copy = Policy.objects.filter(organisation=org).latest("pk")
    assert page.url.endswith(f"/reminders/policies/{copy.pk}/")

    first_line = page.locator("#ladder-preview .ladder-lines li").first
    assert first_line.inner_text().startswith("3 ")
    page.fill("#id_name", "Chantiers B2B")
    page.fill("#id_steps-0-days", "5")
    # The preview follows without saving (htmx posts the form on input).
    page.wait_for_function(
        "document.querySelector('#ladder-preview .ladder-lines li').textContent.trim()"
        ".startsWith('5 ')"
    )
    assert Policy.objects.get(pk=copy.pk).steps.get(position=1).offset_days == -3
    page.screenshot(path="/tmp/policies-editor.png", full_page=True)

    page.click("button.btn-primary[type=submit]")
    page.wait_for_url(f"{live_server.url}/reminders/policies/")
    copy.refresh_from_db()
    assert copy.name == "Chantiers B2B"
    assert copy.steps.get(position=1).offset_days == -5
    assert page.locator(f"#policy-{copy.pk} .ladder-lines li").first.inner_text().startswith("5 ")

    page.goto(f"{live_server.url}/reminders/wording/friendly/email/fr/")
    page.wait_for_selector("#wording-preview iframe")
    assert invoice.number in page.text_content("#wording-preview")  # the real client's invoice
    page.screenshot(path="/tmp/policies-wording-preview.png", full_page=True)
    page.fill("#id_text", "Bonjour {{ clent.name }},\n\n{{ invoice_table }}")
    page.click("#wording-form button.btn-primary")
    page.wait_for_selector("#wording-form .errorlist")
    assert "clent" in page.inner_text("#wording-form .errorlist")
    assert not MessageTemplate.objects.filter(organisation=org).exists()
    page.screenshot(path="/tmp/policies-wording.png", full_page=True)
