"""A person opens the calls to make, calls the client, logs a promise to pay,
and finds the reminders paused on the client's page — in a real Chromium.
Screenshots of the pages are written to /tmp/operations-*.png for a person
to look at."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from relance.dunning import engine
from relance.dunning.models import Message, MessageStatus, Pause, PauseKind
from relance.ledger import issuing
from relance.ledger.models import Contact, ContactRole

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = "/tmp/operations-{}.png"


def log_in(page, live_server, user) -> None:
    user.set_password("s3cret-browser-pass")
    user.save()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "s3cret-browser-pass")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_log_a_promise_from_the_calls_to_make(page, live_server, alice, org, client_acme):
    Contact.objects.create(
        organisation=org, client=client_acme, first_name="Claire", last_name="Martin",
        role=ContactRole.BILLING, email="factures@acme.example", phone="+33612345678",
    )  # fmt: skip
    today = org.today()
    due = today - timedelta(days=5)  # the call at +4 is the highest step due
    draft = issuing.create_draft(
        client=client_acme,
        lines=[("Refonte du site", Decimal(1), Decimal("1000.00"), Decimal(20))],
        issue_date=due - timedelta(days=30),
        due_date=due,
    )
    invoice = issuing.issue(draft, as_of=due - timedelta(days=30))
    engine.run(org, today)
    task = Message.objects.get(channel="call")

    log_in(page, live_server, alice)
    page.click("nav.mainnav a[href='/reminders/']")
    page.wait_for_url(f"{live_server.url}/reminders/")
    assert page.inner_text("[data-testid=count-calls]") == "1"
    page.screenshot(path=SHOTS.format("overview"), full_page=True)

    page.click(".ops-nav a[href='/reminders/calls/']")
    page.wait_for_url(f"{live_server.url}/reminders/calls/")
    card = page.locator(f"#call-{task.pk}")
    assert card.locator("a[href='tel:+33612345678']").is_visible()
    assert invoice.number in card.inner_text()
    page.screenshot(path=SHOTS.format("calls"), full_page=True)

    promised = today + timedelta(days=7)
    card.locator("input[value=promise]").check()
    card.locator("input[name$=promise_until]").fill(promised.isoformat())
    card.locator("input[name$=promise_amount]").fill("1 200,00")
    card.locator("textarea[name$=note]").fill("Claire paiera par virement vendredi.")
    card.locator("form.call-form button.btn-primary").click()
    page.wait_for_url(f"{live_server.url}/reminders/calls/")
    assert "ACME Industries" in page.inner_text("ul.messages")
    task.refresh_from_db()
    assert task.status == MessageStatus.DONE and task.outcome == "promise"
    pause = Pause.objects.get()
    assert pause.kind == PauseKind.PROMISE and pause.until == promised

    page.goto(f"{live_server.url}/clients/{client_acme.pk}/")
    reminders = page.locator("#reminders")
    with translation.override("fr"):  # the page is in the browser's language
        assert pause.get_kind_display() in reminders.inner_text()
    assert reminders.locator(f"form[action='/reminders/pauses/{pause.pk}/lift/']").is_visible()
    assert re.search(r"1\s?200,00", reminders.inner_text())
    reminders.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS.format("client"), full_page=True)

    page.goto(f"{live_server.url}/invoices/{invoice.pk}/")
    page.wait_for_selector("#next-reminder")  # loaded after the page
    page.screenshot(path=SHOTS.format("invoice"), full_page=True)
