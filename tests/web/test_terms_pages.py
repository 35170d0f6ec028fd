"""Payment-terms pages: list with a plain-language preview and the L441-10
warning, create/edit/delete/default, and the client and organisation forms
that choose terms and VAT options."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from relance.invoicing.models import PaymentTermsTemplate, RecurringInvoice
from relance.ledger import issuing
from relance.ledger.models import Client
from relance.organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel("2026-01-15 11:00:00+00:00", tick=False):
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


def text_of(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def terms_data(**changes: str) -> dict[str, str]:
    data = {
        "name": "45 jours",
        "kind": "net",
        "days": "45",
        "deposit_percent": "",
        "count": "",
        "every_months": "1",
        "custom_rows": "",
        "discount_percent": "",
        "discount_days": "",
        "example_date": "",
    }
    return data | changes


# The list and its preview -------------------------------------------------------------


def test_the_list_previews_each_template_on_todays_date(as_alice, net30):
    response = as_alice.get(reverse("terms_list"))
    assert response.status_code == 200
    text = text_of(response)
    assert "Invoice of Jan 15, 2026 → due Feb 14, 2026" in text
    assert "Default" in text
    assert "Over the French B2B cap" not in text


def test_a_template_over_the_french_cap_is_warned_about(as_alice, org):
    PaymentTermsTemplate.objects.create(
        organisation=org, name="45 fin de mois", kind="days_then_eom", days=45
    )
    text = text_of(as_alice.get(reverse("terms_list")))
    assert "Over the French B2B cap" in text
    # Jan 15 + 45 days = Mar 1, end of month Mar 31: 75 days, 60 allowed.
    assert "an invoice of Jan 15, 2026 would fall due Mar 31, 2026" in text
    assert "later than the limit of Mar 16, 2026" in text
    assert "L441-10 I du Code de commerce" in text
    assert "expressly agrees 45 days end of month" in text


def test_end_of_month_plus_30_days_is_lawful_every_day_of_the_year(as_alice, org):
    # At most 31 + 30 = 61 days from the 1st of a 31-day month … to the day 60 days later.
    PaymentTermsTemplate.objects.create(
        organisation=org, name="fin de mois + 30", kind="eom_then_days", days=30
    )
    text = text_of(as_alice.get(reverse("terms_list")))
    assert "Invoice of Jan 15, 2026 → due Mar 2, 2026" in text
    assert "Over the French B2B cap" not in text


def test_the_warning_finds_a_day_of_the_year_the_cap_is_exceeded(as_alice, org):
    # 42 business days are 60 calendar days from Jan 15, but from Feb 5 Easter
    # Monday (Apr 6) pushes them to 61.
    PaymentTermsTemplate.objects.create(
        organisation=org, name="42 jours ouvrés", kind="net", days=42, business_days=True
    )
    text = text_of(as_alice.get(reverse("terms_list")))
    assert "Over the French B2B cap" in text
    assert "Invoice of Jan 15, 2026 → due Mar 16, 2026" in text
    assert "an invoice of Feb 5, 2026 would fall due Apr 7, 2026" in text


def test_agreed_45_days_end_of_month_is_lawful(as_alice, org):
    PaymentTermsTemplate.objects.create(
        organisation=org, name="45 FDM", kind="days_then_eom", days=45, agreed_45_eom=True
    )
    assert "Over the French B2B cap" not in text_of(as_alice.get(reverse("terms_list")))


def test_a_deposit_and_a_discount_are_previewed_in_words(as_alice, org):
    PaymentTermsTemplate.objects.create(
        organisation=org, name="Acompte", kind="deposit", days=30,
        deposit_percent=Decimal("30"), discount_percent=Decimal("2"), discount_days=10,
    )  # fmt: skip
    text = text_of(as_alice.get(reverse("terms_list")))
    assert "For €1,000.00: €300.00 on Jan 15, 2026; €700.00 on Feb 14, 2026" in text
    assert "Early payment: €980.00 instead of €1,000.00 if paid by Jan 25, 2026" in text


# Create, edit, preview -------------------------------------------------------------------


def test_creating_terms(as_alice, org):
    response = as_alice.post(reverse("terms_create"), terms_data())
    assert response.status_code == 302
    terms = PaymentTermsTemplate.objects.get()
    assert (terms.organisation, terms.name, terms.kind, terms.days) == (org, "45 jours", "net", 45)
    assert not terms.is_default


def test_preview_shows_the_terms_without_saving(as_alice):
    data = terms_data(kind="days_then_eom", days="45", example_date="2026-01-31", preview="1")
    response = as_alice.post(reverse("terms_create"), data)
    assert response.status_code == 200
    assert not PaymentTermsTemplate.objects.exists()
    text = text_of(response)
    # Jan 31 + 45 days = Mar 17, end of month: Mar 31 (59 days: lawful).
    assert "Invoice of Jan 31, 2026 → due Mar 31, 2026" in text
    # The cap is still exceeded on other days of the year, and the page says which.
    assert "French law caps payment terms between businesses" in text


def test_custom_installments_are_read_line_by_line(as_alice):
    data = terms_data(
        name="Trois fois", kind="installments", days="", custom_rows="0 30\n30: 30\n60 40 %"
    )
    assert as_alice.post(reverse("terms_create"), data).status_code == 302
    terms = PaymentTermsTemplate.objects.get()
    assert terms.custom == [[0, "30"], [30, "30"], [60, "40"]]
    assert (terms.count, terms.days) == (0, 0)
    text = text_of(as_alice.get(reverse("terms_list")))
    assert "€300.00 on Jan 15, 2026; €300.00 on Feb 14, 2026; €400.00 on Mar 16, 2026" in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "30 JOURS"}, "already have this name"),
        ({"kind": "deposit", "days": "30"}, "Give a deposit between 0 and 100 %."),
        ({"kind": "deposit", "deposit_percent": "30", "days": "0"}, "days between the invoice"),
        ({"kind": "installments", "count": "1"}, "at least 2 installments"),
        ({"kind": "installments", "custom_rows": "0 50\n30 40"}, "add up to 90, not 100"),
        ({"kind": "installments", "custom_rows": "0 50\nlater 50"}, "Line 2:"),
        ({"kind": "installments", "custom_rows": "30 50\n0 50"}, "in date order"),
        ({"discount_percent": "2"}, "needs both its percentage and its days"),
        ({"discount_percent": "100", "discount_days": "10"}, "between 0 and 100 %"),
        ({"days": "-3"}, "greater than or equal to 0"),
        ({"days": "99999"}, "at most 3650"),
        ({"kind": "weekly"}, "valid choice"),
    ],
)
def test_bad_terms_are_refused_and_nothing_is_saved(as_alice, net30, changes, message):
    response = as_alice.post(reverse("terms_create"), terms_data(**changes))
    assert response.status_code == 200
    assert message.lower() in text_of(response).lower()
    assert list(PaymentTermsTemplate.objects.all()) == [net30]


def test_a_kind_keeps_only_the_numbers_it_uses(as_alice, net30):
    data = terms_data(name="30 jours", kind="immediate", days="30", deposit_percent="20")
    assert as_alice.post(reverse("terms_edit", args=[net30.pk]), data).status_code == 302
    net30.refresh_from_db()
    assert (net30.kind, net30.days, net30.deposit_percent) == ("immediate", 0, None)


def test_editing_shows_the_stored_values(as_alice, org):
    terms = PaymentTermsTemplate.objects.create(
        organisation=org, name="Acompte", kind="deposit", days=30, deposit_percent=Decimal("30")
    )
    form = as_alice.get(reverse("terms_edit", args=[terms.pk])).context["form"]
    assert form.initial["deposit_percent"] == "30"
    assert form["name"].value() == "Acompte"


# Default and delete ----------------------------------------------------------------------


def test_making_another_template_the_default(as_alice, org, net30):
    other = PaymentTermsTemplate.objects.create(organisation=org, name="Comptant", kind="immediate")
    assert as_alice.post(reverse("terms_default", args=[other.pk])).status_code == 302
    assert list(PaymentTermsTemplate.objects.filter(is_default=True)) == [other]


def test_unused_terms_are_deleted_used_ones_are_not(as_alice, org, net30, client_acme):
    spare = PaymentTermsTemplate.objects.create(organisation=org, name="Spare", kind="immediate")
    used = PaymentTermsTemplate.objects.create(organisation=org, name="Used", kind="net", days=10)
    Client.objects.filter(pk=client_acme.pk).update(payment_terms=used)
    response = as_alice.post(reverse("terms_delete", args=[used.pk]), follow=True)
    assert "cannot be deleted" in text_of(response)
    response = as_alice.post(reverse("terms_delete", args=[net30.pk]), follow=True)
    assert "make other terms the default first" in text_of(response)
    as_alice.post(reverse("terms_delete", args=[spare.pk]))
    assert set(PaymentTermsTemplate.objects.values_list("name", flat=True)) == {"30 jours", "Used"}


def test_terms_named_by_a_draft_or_a_schedule_stay(as_alice, org, client_acme):
    drafts = PaymentTermsTemplate.objects.create(organisation=org, name="D", kind="immediate")
    plans = PaymentTermsTemplate.objects.create(organisation=org, name="R", kind="immediate")
    issuing.create_draft(
        client=client_acme, lines=[("x", Decimal(1), Decimal(1), Decimal(20))],
        terms_template=drafts,
    )  # fmt: skip
    RecurringInvoice.objects.create(
        organisation=org, client=client_acme, name="R", next_date=date(2026, 2, 1),
        terms_template=plans,
    )  # fmt: skip
    for terms in (drafts, plans):
        as_alice.post(reverse("terms_delete", args=[terms.pk]))
    assert PaymentTermsTemplate.objects.count() == 2


# Roles -------------------------------------------------------------------------------------


def test_every_role_reads_the_terms(client, alice, bob, rita, net30):
    for user in (alice, bob, rita):
        client.force_login(user)
        assert client.get(reverse("terms_list")).status_code == 200
        assert client.get(reverse("terms_edit", args=[net30.pk])).status_code == 200


def test_read_only_members_change_nothing(client, rita, org, net30):
    other = PaymentTermsTemplate.objects.create(organisation=org, name="Comptant", kind="immediate")
    client.force_login(rita)
    page = client.get(reverse("terms_list")).content.decode()
    assert reverse("terms_create") not in page
    for url, data in [
        (reverse("terms_create"), terms_data()),
        (reverse("terms_edit", args=[net30.pk]), terms_data(name="Pirate")),
        (reverse("terms_delete", args=[other.pk]), {}),
        (reverse("terms_default", args=[other.pk]), {}),
    ]:
        assert client.post(url, data).status_code == 403
    assert list(PaymentTermsTemplate.objects.values_list("name", "is_default")) == [
        ("30 jours", True),
        ("Comptant", False),
    ]


def test_the_organisation_page_links_to_the_terms(client, rita, net30):
    client.force_login(rita)
    response = client.get(reverse("organisation_settings"))
    assert reverse("terms_list") in response.content.decode()
    assert "30 jours" in text_of(response)


# The client and organisation forms ------------------------------------------------------


def test_a_client_gets_its_own_terms_from_its_organisation_only(
    as_alice, org, other_org, client_acme, net30
):
    theirs = PaymentTermsTemplate.objects.create(organisation=other_org, name="T", kind="net")
    form = as_alice.get(reverse("client_edit", args=[client_acme.pk])).context["form"]
    assert list(form.fields["payment_terms"].queryset) == [net30]
    data = {
        "kind": "company", "name": "ACME Industries", "reference": "", "siren": "552100554",
        "siret": "", "vat_number": "", "address_line1": "3 quai Rambaud", "address_line2": "",
        "postcode": "69002", "city": "Lyon", "country": "FR", "language": "fr",
        "time_zone": "Europe/Paris", "cycle_months": "", "cycle_day": "", "status": "active",
        "tag_names": "", "notes": "",
    }  # fmt: skip
    response = as_alice.post(
        reverse("client_edit", args=[client_acme.pk]), data | {"payment_terms": theirs.pk}
    )
    assert response.status_code == 200
    client_acme.refresh_from_db()
    assert client_acme.payment_terms is None
    response = as_alice.post(
        reverse("client_edit", args=[client_acme.pk]), data | {"payment_terms": net30.pk}
    )
    assert response.status_code == 302
    client_acme.refresh_from_db()
    assert client_acme.payment_terms == net30
    page = as_alice.get(reverse("client_detail", args=[client_acme.pk]))
    assert "30 jours" in text_of(page)
    assert f"{reverse('recurring_list')}?client={client_acme.pk}" in page.content.decode()


def test_the_organisation_sets_its_vat_options_and_usual_operation(client, alice, org):
    client.force_login(alice)
    form = client.get(reverse("organisation_settings")).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data |= {
        "share_capital": "10000", "vat_on_debits": "on", "operation_category": "goods",
        "vat_exemption_reason": "TVA non applicable, art. 293 B du CGI", "logo": "",
    }  # fmt: skip
    data.pop("logo")
    response = client.post(reverse("organisation_settings"), data)
    assert response.status_code == 302, response.context["form"].errors
    org = Organisation.objects.get(pk=org.pk)
    assert org.vat_on_debits is True
    assert org.operation_category == "goods"
    assert org.vat_exemption_reason == "TVA non applicable, art. 293 B du CGI"
    # A new draft starts with the organisation's usual operation.
    form = client.get(reverse("invoice_create")).context["editor"].form
    assert form.initial["operation_category"] == "goods"


def test_a_read_only_member_sees_the_terms_form_disabled(client, rita, net30):
    client.force_login(rita)
    response = client.get(reverse("terms_edit", args=[net30.pk]))
    assert response.context["form"].fields["days"].disabled
    assert "Read-only access" in text_of(response)
    assert "Invoice of Jan 15, 2026 → due Feb 14, 2026" in text_of(response)
