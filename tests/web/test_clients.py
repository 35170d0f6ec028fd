"""Client list, client page, client and contact forms, notes and calls."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relance.ledger.models import Activity, Client, Contact, Tag
from relance.ledger.models.timeline import record

TODAY = date(2026, 6, 15)
LIST = reverse("client_list")
CREATE = reverse("client_create")


@pytest.fixture
def now():
    with time_machine.travel(
        datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=False
    ):
        yield


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def names(response) -> list[str]:
    return [row.client.name for row in response.context["rows"]]


def client_data(**changes: str) -> dict[str, str]:
    data = {
        "kind": "company", "name": "Boulangerie Martin", "reference": "C042",
        "siren": "", "siret": "", "vat_number": "",
        "address_line1": "3 place Bellecour", "address_line2": "", "postcode": "69002",
        "city": "Lyon", "country": "FR", "delivery_address_line1": "", "delivery_address_line2": "",
        "delivery_postcode": "", "delivery_city": "", "delivery_country": "",
        "language": "fr", "time_zone": "Europe/Paris", "cycle_months": "", "cycle_day": "",
        "status": "active", "tag_names": "", "notes": "",
    }  # fmt: skip
    return data | changes


def contact_data(**changes: str) -> dict[str, str]:
    data = {
        "first_name": "Jeanne", "last_name": "Martin", "role": "accounts_payable",
        "job_title": "Comptable", "email": "compta@acme.example", "phone": "06 12 34 56 78",
        "preferred_channel": "email", "notes": "",
    }  # fmt: skip
    return data | changes


# The list ------------------------------------------------------------------------


@pytest.fixture
def register(org, client_acme, make_invoice, now):
    """Three clients: ACME (late 45 days), Boulangerie (not late), Zinc (late 5, USD too)."""
    bakery = Client.objects.create(
        organisation=org, name="Boulangerie Martin", reference="C042", kind="individual",
        status="on_hold",
    )  # fmt: skip
    zinc = Client.objects.create(organisation=org, name="Zinc Bar", siret="73282932000074")
    make_invoice(client_acme, "120.00", due=days_ago(45))
    make_invoice(client_acme, "240.00", due=TODAY + timedelta(days=10))
    make_invoice(bakery, "600.00", due=TODAY + timedelta(days=20))
    make_invoice(zinc, "36.00", due=days_ago(5))
    make_invoice(zinc, "480.00", due=days_ago(50), currency="USD")
    Contact.objects.create(organisation=org, client=bakery, first_name="Paul", last_name="Lemoine",
                           email="paul@boulangerie.example")  # fmt: skip
    wholesale = Tag.objects.create(organisation=org, name="grossiste")
    zinc.tags.add(wholesale)
    return {"acme": client_acme, "bakery": bakery, "zinc": zinc, "tag": wholesale}


def test_the_list_shows_balances_overdue_and_days_late(client, alice, register):
    client.force_login(alice)

    response = client.get(LIST)

    assert response.status_code == 200
    rows = {row.client.name: row for row in response.context["rows"]}
    assert names(response) == ["ACME Industries", "Boulangerie Martin", "Zinc Bar"]
    acme, zinc = rows["ACME Industries"], rows["Zinc Bar"]
    assert (acme.balance, acme.overdue, acme.days_late) == (
        Decimal("360.00"),
        Decimal("120.00"),
        45,
    )
    assert rows["Boulangerie Martin"].days_late == 0
    # The USD invoice is shown apart, never added to the euros; its age still counts.
    assert (zinc.balance, zinc.days_late) == (Decimal("36.00"), 50)
    assert [(o.currency, o.balance) for o in zinc.others] == [("USD", Decimal("480.00"))]
    html = response.content.decode()
    assert "grossiste" in html
    assert reverse("client_detail", args=[zinc.client.pk]) in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("acme", ["ACME Industries"]),
        ("C042", ["Boulangerie Martin"]),
        ("552 100 554", ["ACME Industries"]),  # SIREN typed with spaces
        ("73282932000074", ["Zinc Bar"]),
        ("lemoine", ["Boulangerie Martin"]),  # a contact's name
        ("paul@boulangerie", ["Boulangerie Martin"]),  # a contact's email
        ("paul martin", ["Boulangerie Martin"]),  # words may match different fields
        ("nobody", []),
    ],
)
def test_search(client, alice, register, query, expected):
    client.force_login(alice)
    assert names(client.get(LIST, {"q": query})) == expected


def test_filters(client, alice, register):
    client.force_login(alice)
    tag = register["tag"]
    assert names(client.get(LIST, {"status": "on_hold"})) == ["Boulangerie Martin"]
    assert names(client.get(LIST, {"kind": "individual"})) == ["Boulangerie Martin"]
    assert names(client.get(LIST, {"tag": str(tag.pk)})) == ["Zinc Bar"]
    assert names(client.get(LIST, {"overdue": "on"})) == ["ACME Industries", "Zinc Bar"]
    assert names(client.get(LIST, {"overdue": "on", "kind": "company", "q": "zinc"})) == [
        "Zinc Bar"
    ]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["ACME Industries", "Boulangerie Martin", "Zinc Bar"]),
        ("-name", ["Zinc Bar", "Boulangerie Martin", "ACME Industries"]),
        ("-balance", ["Boulangerie Martin", "ACME Industries", "Zinc Bar"]),
        ("balance", ["Zinc Bar", "ACME Industries", "Boulangerie Martin"]),
        ("-late", ["Zinc Bar", "ACME Industries", "Boulangerie Martin"]),
        ("late", ["Boulangerie Martin", "ACME Industries", "Zinc Bar"]),
        ("garbage", ["ACME Industries", "Boulangerie Martin", "Zinc Bar"]),
    ],
)
def test_sorting(client, alice, register, sort, expected):
    client.force_login(alice)
    assert names(client.get(LIST, {"sort": sort})) == expected


def test_the_list_pages_by_fifty(client, alice, org):
    Client.objects.bulk_create(Client(organisation=org, name=f"Client {i:03d}") for i in range(55))
    client.force_login(alice)

    first, second = client.get(LIST), client.get(LIST, {"page": "2"})

    assert len(first.context["rows"]) == 50
    assert names(second) == [f"Client {i:03d}" for i in range(50, 55)]
    assert first.context["page"].paginator.count == 55
    assert "page=2" in first.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"}, {"page": "-3"}, {"page": "99999999999999999999999"}, {"page": "1e9"},
        {"sort": "'; DROP TABLE"}, {"q": "x" * 5000}, {"tag": "abc"}, {"tag": "9" * 30},
        {"status": "nope"}, {"kind": "<script>"}, {"overdue": "maybe"}, {"q": "%_\\"},
    ],
)  # fmt: skip
def test_junk_parameters_never_break_the_list(client, alice, register, params):
    client.force_login(alice)
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert len(response.context["rows"]) <= 3


def test_an_invalid_filter_is_reported_and_ignored(client, alice, register):
    client.force_login(alice)
    response = client.get(LIST, {"tag": "424242", "status": "on_hold"})
    assert "tag" in response.context["form"].errors
    assert names(response) == ["Boulangerie Martin"]


def test_the_list_needs_the_same_queries_for_3_or_30_clients(
    client, alice, org, make_invoice, django_assert_max_num_queries, now
):
    tag = Tag.objects.create(organisation=org, name="vip")

    def populate(start: int, count: int) -> None:
        for i in range(start, start + count):
            debtor = Client.objects.create(organisation=org, name=f"Client {i:02d}")
            debtor.tags.add(tag)
            make_invoice(debtor, "120.00", due=days_ago(i))
            make_invoice(debtor, "60.00", due=days_ago(i), currency="USD")
            Contact.objects.create(organisation=org, client=debtor, last_name="X", email="x@y.fr")

    client.force_login(alice)
    populate(0, 3)
    few = count_queries(client, LIST + "?sort=-late")
    populate(3, 27)
    with django_assert_max_num_queries(few):
        response = client.get(LIST + "?sort=-late&q=client")
    assert len(response.context["rows"]) == 30
    assert count_queries(client, LIST + "?sort=-late") == few


# The client's page ---------------------------------------------------------------


def test_the_page_shows_identity_contacts_balances_and_invoices(
    client, alice, client_acme, make_invoice, now
):
    client_acme.delivery_address_line1 = "Quai de Saône"
    client_acme.cycle_months, client_acme.cycle_day = 2, 10
    client_acme.save()
    Contact.objects.create(
        organisation=client_acme.organisation, client=client_acme, last_name="Martin",
        email="m@acme.example", do_not_contact=True,
    )  # fmt: skip
    late = make_invoice(client_acme, "120.00", due=days_ago(12))
    make_invoice(client_acme, "96.00", due=days_ago(3), currency="USD")
    client.force_login(alice)

    response = client.get(reverse("client_detail", args=[client_acme.pk]))

    assert response.status_code == 200
    figures = {f.currency: f for f in response.context["figures"]}
    assert figures["EUR"].overdue == Decimal("120.00")
    assert figures["USD"].outstanding == Decimal("96.00")
    assert [f.currency for f in response.context["figures"]] == ["EUR", "USD"]
    invoices = response.context["invoices"]
    assert {(i.pk, i.late) for i in invoices if i.currency == "EUR"} == {(late.pk, 12)}
    html = response.content.decode()
    for text in ("Quai de Saône", "m@acme.example", client_acme.payment_cycle_display,
                 f"{reverse('invoice_create')}?client={client_acme.pk}",
                 f"{reverse('invoice_list')}?client={client_acme.pk}",
                 reverse("client_payment_create", args=[client_acme.pk]),
                 reverse("invoice_detail", args=[late.pk]), "badge-bad"):  # fmt: skip
        assert text in html, text


def test_the_page_shows_the_latest_twenty_invoices(client, alice, client_acme, make_invoice, now):
    made = [make_invoice(client_acme, "12.00", due=days_ago(1)) for _ in range(22)]
    client.force_login(alice)

    invoices = client.get(reverse("client_detail", args=[client_acme.pk])).context["invoices"]

    assert [i.pk for i in invoices] == [i.pk for i in reversed(made)][:20]


def test_the_page_needs_the_same_queries_however_much_history(
    client, alice, client_acme, make_invoice, django_assert_max_num_queries, now
):
    url = reverse("client_detail", args=[client_acme.pk])
    organisation = client_acme.organisation

    def populate(count: int) -> None:
        for i in range(count):
            make_invoice(client_acme, "120.00", due=days_ago(i))
            Contact.objects.create(organisation=organisation, client=client_acme,
                                   last_name=f"C{i}", email="c@acme.example")  # fmt: skip
            record(client=client_acme, kind="call", author=alice, call_outcome="reached")
        client_acme.tags.add(Tag.objects.create(organisation=organisation, name=f"t{count}"))

    client.force_login(alice)
    populate(2)
    few = count_queries(client, url)
    populate(15)
    with django_assert_max_num_queries(few):
        client.get(url)
    assert count_queries(client, url) == few


# Notes and calls -----------------------------------------------------------------


def test_a_note_without_javascript_redirects_back(client, alice, client_acme):
    client.force_login(alice)

    response = client.post(reverse("client_note", args=[client_acme.pk]),
                           {"note-text": "  Promised to pay Friday  "})  # fmt: skip

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("client_detail", args=[client_acme.pk]))
    note = Activity.objects.get(kind="note")
    assert (note.text, note.author, note.client) == ("Promised to pay Friday", alice, client_acme)


def test_a_call_with_htmx_swaps_the_timeline(client, alice, client_acme):
    client.force_login(alice)

    response = client.post(
        reverse("client_call", args=[client_acme.pk]),
        {"call-call_outcome": "promise", "call-text": "Will pay on the 30th"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="timeline-block"' in html
    assert "Will pay on the 30th" in html
    call = Activity.objects.get(kind="call")
    assert (call.call_outcome, call.author) == ("promise", alice)


@pytest.mark.parametrize("htmx", [False, True])
def test_an_empty_note_or_a_call_without_outcome_records_nothing(client, alice, client_acme, htmx):
    client.force_login(alice)
    headers = {"HX-Request": "true"} if htmx else {}

    note = client.post(reverse("client_note", args=[client_acme.pk]), {"note-text": "   "},
                       headers=headers)  # fmt: skip
    call = client.post(reverse("client_call", args=[client_acme.pk]), {"call-text": "hello"},
                       headers=headers)  # fmt: skip

    assert note.status_code == call.status_code == 200
    assert "text" in note.context["note_form"].errors
    assert "call_outcome" in call.context["call_form"].errors
    assert not Activity.objects.exists()
    assert ("<html" in note.content.decode()) is not htmx


def test_the_url_decides_between_note_and_call(client, alice, client_acme):
    client.force_login(alice)
    data = {"note-kind": "call", "note-text": "just a note", "note-call_outcome": "promise"}
    client.post(reverse("client_note", args=[client_acme.pk]), data)
    note = Activity.objects.get()
    assert (note.kind, note.call_outcome) == ("note", "")


# Client form ---------------------------------------------------------------------


def test_creating_a_client(client, alice, org):
    Tag.objects.create(organisation=org, name="Grossiste")
    client.force_login(alice)

    response = client.post(CREATE, client_data(
        siren="732 829 320", siret="", vat_number="FR 44 732829320", cycle_months="1",
        cycle_day="10", tag_names="grossiste, Lyon ,lyon,, Nouveau  client",
    ))  # fmt: skip

    created = Client.objects.get(name="Boulangerie Martin")
    assert response["Location"] == reverse("client_detail", args=[created.pk])
    assert created.organisation == org
    assert (created.siren, created.vat_number) == ("732829320", "FR44732829320")
    assert sorted(t.name for t in created.tags.all()) == ["Grossiste", "Lyon", "Nouveau client"]
    assert Tag.objects.filter(organisation=org).count() == 3  # "grossiste" reused
    assert Activity.objects.filter(client=created, kind="created", author=alice).exists()


def test_a_siret_alone_gives_the_siren(client, alice, org):
    client.force_login(alice)
    client.post(CREATE, client_data(siret="732 829 320 00074"))
    created = Client.objects.get()
    assert (created.siren, created.siret) == ("732829320", "73282932000074")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"siren": "732829321"}, "siren"),
        ({"siren": "12345"}, "siren"),
        ({"siret": "73282932000075"}, "siret"),
        ({"siren": "552100554", "siret": "73282932000074"}, "siret"),
        ({"vat_number": "FR00123456789"}, "vat_number"),
        ({"siren": "552100554", "vat_number": "FR44732829320"}, "vat_number"),
        ({"name": ""}, "name"),
        ({"name": "x" * 5000}, "name"),
        ({"siren": "9" * 500}, "siren"),
        ({"country": "XX"}, "country"),
        ({"delivery_country": "France"}, "delivery_country"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"cycle_months": "99999999999999999999"}, "cycle_months"),
        ({"cycle_months": "abc"}, "cycle_months"),
        ({"cycle_day": "12"}, "cycle_months"),
        ({"cycle_months": "1", "cycle_day": "32"}, "cycle_day"),
        ({"status": "bankrupt"}, "status"),
        ({"tag_names": "x" * 51}, "tag_names"),
        ({"tag_names": ",".join(f"t{i}" for i in range(25))}, "tag_names"),
    ],
)
def test_bad_input_is_a_field_error_and_saves_nothing(client, alice, org, changes, field):
    client.force_login(alice)

    response = client.post(CREATE, client_data(**changes))

    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Client.objects.exists()
    assert not Tag.objects.exists()


def test_identifier_errors_name_the_problem(client, alice, org):
    client.force_login(alice)
    errors = (
        client.post(CREATE, client_data(siren="732829321", vat_number="FR00123456789"))
        .context["form"]
        .errors
    )
    assert "SIREN" in errors["siren"][0]
    assert "VAT" in errors["vat_number"][0] or "TVA" in errors["vat_number"][0]


def test_putting_a_client_on_hold_is_recorded(client, alice, client_acme):
    client.force_login(alice)
    url = reverse("client_edit", args=[client_acme.pk])
    data = client_data(name="ACME Industries", siren="552100554", status="on_hold")

    assert client.post(url, data).status_code == 302
    client.post(url, data | {"notes": "no status change"})

    client_acme.refresh_from_db()
    assert (client_acme.status, client_acme.notes) == ("on_hold", "no status change")
    changes = Activity.objects.filter(client=client_acme, kind="status")
    assert changes.count() == 1
    assert changes.get().author == alice


def test_editing_replaces_the_tags(client, alice, client_acme):
    org = client_acme.organisation
    client_acme.tags.add(Tag.objects.create(organisation=org, name="ancien"))
    client.force_login(alice)
    url = reverse("client_edit", args=[client_acme.pk])
    assert client.get(url).context["form"]["tag_names"].value() == "ancien"

    client.post(url, client_data(name="ACME Industries", tag_names="nouveau"))

    assert [t.name for t in client_acme.tags.all()] == ["nouveau"]


def test_a_failed_edit_changes_nothing(client, alice, client_acme):
    client.force_login(alice)
    url = reverse("client_edit", args=[client_acme.pk])

    response = client.post(url, client_data(name="Renamed", siren="732829321", status="on_hold"))

    assert response.status_code == 200
    client_acme.refresh_from_db()
    assert (client_acme.name, client_acme.status) == ("ACME Industries", "active")
    assert not Activity.objects.filter(kind="status").exists()


# Contacts ------------------------------------------------------------------------


def test_adding_a_contact_normalises_the_phone_in_the_clients_country(client, alice, client_acme):
    client_acme.country = "BE"
    client_acme.save()
    client.force_login(alice)

    response = client.post(reverse("contact_create", args=[client_acme.pk]),
                           contact_data(phone="0470 12 34 56"))  # fmt: skip

    assert response["Location"] == reverse("client_detail", args=[client_acme.pk])
    contact = Contact.objects.get()
    assert (contact.client, contact.organisation) == (client_acme, client_acme.organisation)
    assert contact.phone == "+32470123456"


def test_the_role_help_says_who_may_be_contacted(client, alice, client_acme):
    client.force_login(alice)
    response = client.get(reverse("contact_create", args=[client_acme.pk]))
    help_text = str(response.context["form"]["role"].help_text)
    assert "never its clients, investors, family or employer" in help_text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": "not a phone"}, "phone"),
        ({"phone": "+33 1 00"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "", "preferred_channel": "email"}, "email"),
        ({"phone": "", "preferred_channel": "sms"}, "phone"),
        ({"last_name": ""}, "last_name"),
        ({"role": "investor"}, "role"),
        ({"first_name": "x" * 5000}, "first_name"),
    ],
)
def test_bad_contact_input_is_a_field_error(client, alice, client_acme, changes, field):
    client.force_login(alice)

    response = client.post(reverse("contact_create", args=[client_acme.pk]),
                           contact_data(**changes))  # fmt: skip

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Contact.objects.exists()


def test_editing_a_contact(client, alice, client_acme):
    contact = Contact.objects.create(organisation=client_acme.organisation, client=client_acme,
                                     last_name="Martin", email="old@acme.example")  # fmt: skip
    client.force_login(alice)
    url = reverse("contact_edit", args=[contact.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, contact_data(email="new@acme.example", do_not_contact="on"))

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.email, contact.do_not_contact) == ("new@acme.example", True)
    page = client.get(reverse("client_detail", args=[client_acme.pk])).content.decode()
    assert "new@acme.example" in page


def test_the_list_reads_open_invoices_through_the_partial_index(client, alice, register):
    # SQLite uses the partial index invoice_open_client only when the query
    # repeats its condition with literals; with bound parameters it reads every
    # invoice of every client (ten times slower with 100,000 invoices).
    client.force_login(alice)
    with CaptureQueriesContext(connection) as ctx:
        client.get(LIST, {"sort": "-late", "overdue": "on"})
    page_sql = next(q["sql"] for q in ctx.captured_queries if "balance_cents" in q["sql"])
    assert "\"status\" IN ('issued', 'partially_paid')" in page_sql
    assert "\"kind\" = 'invoice'" in page_sql
