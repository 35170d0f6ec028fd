"""A person logs in, finds a late client, records a partial payment, and sees
the invoice balance and the dashboard change — in a real Chromium."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from relance.ledger import issuing
from relance.ledger.models import Invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def euros(amount: Decimal) -> str:
    return format_currency(amount, "EUR", locale="fr")


def text_of(page) -> str:
    # Babel and the page both use narrow no-break spaces; compare them as is.
    return page.inner_text("main")


def test_a_partial_payment_changes_the_balance_and_the_dashboard(
    page, live_server, alice, client_acme
):
    today = client_acme.organisation.today()
    due = today - timedelta(days=40)
    late = issuing.create_draft(
        client=client_acme,
        lines=[("Refonte du site", Decimal(1), Decimal("1000.00"), Decimal(20))],
        issue_date=due - timedelta(days=30),
        due_date=due,
    )
    late = issuing.issue(late, as_of=due - timedelta(days=30))
    assert late.balance == Decimal("1200.00")

    alice.set_password("s3cret-browser-pass")
    alice.save()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "s3cret-browser-pass")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert euros(Decimal("1200.00")) in text_of(page)

    page.click("nav.mainnav a[href='/clients/']")
    page.click(f"main a[href='/clients/{client_acme.pk}/']")
    page.wait_for_url(re.compile(rf"/clients/{client_acme.pk}/$"))
    page.click(f"main a[href='/invoices/{late.pk}/']")
    page.wait_for_url(re.compile(rf"/invoices/{late.pk}/$"))
    assert late.number in text_of(page)

    page.click(f"main a[href='/invoices/{late.pk}/payments/new/']")
    page.fill("input[name=amount]", "450,00")
    page.fill("input[name=reference]", "VIR ACME 0042")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/invoices/{late.pk}/$"))

    late = Invoice.objects.get(pk=late.pk)
    assert late.balance == Decimal("750.00")
    assert late.status == "partially_paid"
    assert euros(Decimal("750.00")) in text_of(page)
    assert "VIR ACME 0042" in text_of(page)

    page.click("nav.mainnav a[href='/']")
    dashboard = text_of(page)
    assert euros(Decimal("750.00")) in dashboard
    assert euros(Decimal("1200.00")) not in dashboard
