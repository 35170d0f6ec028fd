"""Recurring-invoice pages: list (what failed, shown first), create, edit,
pause and resume; a schedule made here is one the worker can issue."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from relance.invoicing import recurring
from relance.invoicing.models import PaymentTermsTemplate, RecurringInvoice
from relance.ledger.models import Client, Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel("2026-03-10 11:00:00+00:00", tick=False):
        yield


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def net30(org):
    return PaymentTermsTemplate.objects.create(
        organisation=org, name="30 jours", kind="net", days=30, is_default=True
    )


@pytest.fixture
def retainer(org, client_acme):
    return RecurringInvoice.objects.create(
        organisation=org,
        client=client_acme,
        name="Maintenance",
        lines=[
            {
                "description": "Maintenance",
                "quantity": "1",
                "unit_price": "500.00",
                "vat_rate": "20",
            }
        ],
        frequency="monthly",
        next_date=date(2026, 4, 1),
    )


def text_of(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def form_data(client_obj, lines, **changes):
    data = {
        "client": str(client_obj.pk),
        "name": "Hébergement",
        "currency": "EUR",
        "frequency": "quarterly",
        "next_date": "2026-04-01",
        "end_date": "",
        "terms_template": "",
        "send": "on",
        "lines-TOTAL_FORMS": str(len(lines) + 1),
        "lines-INITIAL_FORMS": "0",
    }
    for i, (description, quantity, price, rate) in enumerate(lines):
        data |= {
            f"lines-{i}-description": description,
            f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit_price": price,
            f"lines-{i}-vat_rate": rate,
        }
    return data | changes


def test_creating_a_recurring_invoice(as_alice, alice, org, client_acme, net30):
    lines = [("Hébergement", "1", "90", "20"), ("Nom de domaine", "2", "12,50", "20")]
    response = as_alice.post(
        reverse("recurring_create"), form_data(client_acme, lines, terms_template=str(net30.pk))
    )
    assert response.status_code == 302, text_of(response)
    schedule = RecurringInvoice.objects.get()
    assert (schedule.organisation, schedule.client, schedule.created_by) == (
        org,
        client_acme,
        alice,
    )
    assert (schedule.frequency, schedule.next_date, schedule.end_date) == (
        "quarterly",
        date(2026, 4, 1),
        None,
    )
    assert schedule.terms_template == net30 and schedule.send and schedule.active
    assert [(row["description"], row["quantity"], row["unit_price"]) for row in schedule.lines] == [
        ("Hébergement", "1.0000", "90.0000"),
        ("Nom de domaine", "2.0000", "12.5000"),
    ]
    assert {row["vat_rate"] for row in schedule.lines} == {"20.00"}


def test_the_list_shows_next_date_frequency_client_and_amount(as_alice, retainer):
    text = text_of(as_alice.get(reverse("recurring_list")))
    assert "Maintenance" in text and "ACME Industries" in text
    assert "Monthly" in text and "April 1, 2026" in text
    assert "€600.00" in text and "Active" in text


def test_a_failure_is_shown_first_and_on_its_row(as_alice, retainer):
    RecurringInvoice.objects.filter(pk=retainer.pk).update(
        last_error="A mandatory mention is missing: the client's SIREN."
    )
    response = as_alice.get(reverse("recurring_list"))
    html = response.content.decode()
    alert = html[
        html.index('id="recurring-errors"') : html.index(
            "</div>", html.index('id="recurring-errors"')
        )
    ]
    assert "1 recurring invoice could not be issued" in alert
    assert "the client&#x27;s SIREN" in alert
    assert reverse("recurring_edit", args=[retainer.pk]) in alert
    assert "Failed" in text_of(response)


def test_bad_input_saves_nothing(as_alice, client_acme, other_org):
    theirs = Client.objects.create(organisation=other_org, name="Not yours")
    cases = [
        (form_data(client_acme, []), "Add at least one line."),
        (
            form_data(client_acme, [("x", "1", "10", "20")], end_date="2026-03-01"),
            "cannot be before",
        ),
        (form_data(client_acme, [("x", "1", "10", "20")], frequency="weekly"), "valid choice"),
        (form_data(theirs, [("x", "1", "10", "20")]), "valid choice"),
        (form_data(client_acme, [("x", "1", "abc", "20")]), "Enter a number"),
        (form_data(client_acme, [("x", "0", "10", "20")]), "greater than zero"),
    ]
    for data, message in cases:
        response = as_alice.post(reverse("recurring_create"), data)
        assert response.status_code == 200
        assert message in text_of(response), message
    assert not RecurringInvoice.objects.exists()


def test_editing_keeps_the_lines_and_changes_them(as_alice, client_acme, retainer):
    form = as_alice.get(reverse("recurring_edit", args=[retainer.pk])).context["editor"]
    assert form.lines.initial[0] == {
        "description": "Maintenance", "quantity": "1", "unit_price": "500", "vat_rate": "20",
    }  # fmt: skip
    data = form_data(client_acme, [("Maintenance+", "1", "650", "20")], name="Maintenance",
                     frequency="monthly", end_date="2026-12-31")  # fmt: skip
    assert as_alice.post(reverse("recurring_edit", args=[retainer.pk]), data).status_code == 302
    retainer.refresh_from_db()
    assert retainer.lines[0]["unit_price"] == "650.0000"
    assert retainer.end_date == date(2026, 12, 31)


def test_pause_then_resume_skips_the_missed_periods(as_alice, retainer):
    as_alice.post(reverse("recurring_pause", args=[retainer.pk]))
    retainer.refresh_from_db()
    assert not retainer.active
    assert "Paused" in text_of(as_alice.get(reverse("recurring_list")))
    RecurringInvoice.objects.filter(pk=retainer.pk).update(next_date=date(2026, 1, 1))
    response = as_alice.post(reverse("recurring_resume", args=[retainer.pk]), follow=True)
    retainer.refresh_from_db()
    assert retainer.active
    assert retainer.next_date == date(2026, 4, 1)  # not Jan, Feb and Mar all at once
    assert "the next invoice is issued on Apr 1, 2026" in text_of(response)


def test_an_ended_schedule_is_not_resumed(as_alice, retainer):
    RecurringInvoice.objects.filter(pk=retainer.pk).update(active=False, end_date=date(2026, 3, 31))
    assert "Ended" in text_of(as_alice.get(reverse("recurring_list")))
    response = as_alice.post(reverse("recurring_resume", args=[retainer.pk]), follow=True)
    assert "change its last invoice date to resume it" in text_of(response)
    assert not RecurringInvoice.objects.get(pk=retainer.pk).active


def test_the_list_filters_by_client_and_the_client_page_links_to_it(
    as_alice, org, client_acme, retainer
):
    other = Client.objects.create(organisation=org, name="Dupont")
    RecurringInvoice.objects.create(
        organisation=org,
        client=other,
        name="Autre",
        lines=retainer.lines,
        next_date=date(2026, 5, 1),
    )
    response = as_alice.get(reverse("recurring_list"), {"client": client_acme.pk})
    assert [row["schedule"].name for row in response.context["rows"]] == ["Maintenance"]
    page = as_alice.get(reverse("client_detail", args=[client_acme.pk]))
    assert "1 recurring invoice" in text_of(page)


def test_every_role_reads_and_only_writers_change(client, alice, bob, rita, retainer):
    for user in (alice, bob, rita):
        client.force_login(user)
        assert client.get(reverse("recurring_list")).status_code == 200
    client.force_login(rita)
    assert reverse("recurring_create") not in client.get(reverse("recurring_list")).content.decode()
    for name in ("recurring_pause", "recurring_resume", "recurring_edit"):
        assert client.post(reverse(name, args=[retainer.pk]), {}).status_code == 403
    assert client.post(reverse("recurring_create"), {}).status_code == 403
    client.force_login(bob)
    assert client.post(reverse("recurring_pause", args=[retainer.pk])).status_code == 302
    assert not RecurringInvoice.objects.get(pk=retainer.pk).active


def test_a_schedule_made_here_is_issued_by_the_worker(as_alice, client_acme, net30):
    data = form_data(
        client_acme, [("Hébergement", "1", "90", "20")], send="", next_date="2026-03-10"
    )
    assert as_alice.post(reverse("recurring_create"), data).status_code == 302
    [invoice] = recurring.run_due(date(2026, 3, 10))
    assert invoice.number == "F2026-00001"
    assert invoice.total_gross == Decimal("108.00")
    assert Invoice.objects.get().due_date == date(2026, 4, 9)
    assert RecurringInvoice.objects.get().next_date == date(2026, 6, 10)


def test_a_read_only_member_sees_the_form_disabled(client, rita, retainer):
    client.force_login(rita)
    response = client.get(reverse("recurring_edit", args=[retainer.pk]))
    assert response.status_code == 200
    assert response.context["editor"].form.fields["name"].disabled
    assert "Read-only access" in text_of(response)
