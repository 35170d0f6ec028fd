"""Who reaches the dashboard, client and contact pages: roles and tenants."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from relance.ledger.models import Activity, Client, Contact, Tag
from relance.ledger.models.timeline import record

# URL name -> the object its id names (None: no id).
PAGES = {
    "dashboard": None,
    "client_list": None,
    "client_create": None,
    "client_detail": "client",
    "client_edit": "client",
    "contact_create": "client",
    "contact_edit": "contact",
}
POSTS = {
    "client_create": None,
    "client_edit": "client",
    "client_note": "client",
    "client_call": "client",
    "contact_create": "client",
    "contact_edit": "contact",
}
FORM = {
    "name": "Pirate", "kind": "company", "country": "FR", "language": "fr",
    "time_zone": "Europe/Paris", "status": "closed", "last_name": "Pirate", "role": "billing",
    "preferred_channel": "phone", "phone": "+33612345678", "note-text": "x",
    "call-call_outcome": "reached", "call-text": "x",
}  # fmt: skip


@pytest.fixture
def things(alice, client_acme, make_invoice):
    org = client_acme.organisation
    make_invoice(client_acme, "240.00", due=date(2026, 2, 4))
    contact = Contact.objects.create(
        organisation=org, client=client_acme, last_name="Martin", email="compta@acme.example"
    )
    client_acme.tags.add(Tag.objects.create(organisation=org, name="secret-tag"))
    record(client=client_acme, kind="note", author=alice, text="alice's private note")
    return {"client": client_acme, "contact": contact}


def url_of(name: str, kind: str | None, things: dict) -> str:
    return reverse(name, args=[things[kind].pk]) if kind else reverse(name)


def snapshot() -> tuple:
    return (
        list(Client.objects.order_by("pk").values_list("name", "status")),
        list(Contact.objects.order_by("pk").values_list("last_name", "phone")),
        Activity.objects.count(),
        Tag.objects.count(),
    )


@pytest.mark.parametrize(("name", "kind"), PAGES.items())
def test_every_page_renders_for_the_owner(client, alice, things, name, kind):
    client.force_login(alice)
    assert client.get(url_of(name, kind, things)).status_code == 200


@pytest.mark.parametrize(("name", "kind"), PAGES.items())
def test_read_only_may_read(client, rita, things, name, kind):
    client.force_login(rita)
    assert client.get(url_of(name, kind, things)).status_code == 200


@pytest.mark.parametrize(("name", "kind"), POSTS.items())
def test_read_only_gets_403_on_every_post(client, rita, things, name, kind):
    client.force_login(rita)
    before = snapshot()
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(url_of(name, kind, things), FORM, headers=headers)
        assert response.status_code == 403
    assert snapshot() == before


def test_read_only_sees_no_write_buttons(client, rita, things):
    client.force_login(rita)
    html = client.get(reverse("client_detail", args=[things["client"].pk])).content.decode()
    assert reverse("client_note", args=[things["client"].pk]) not in html
    assert reverse("client_edit", args=[things["client"].pk]) not in html
    assert reverse("contact_edit", args=[things["contact"].pk]) not in html
    assert "alice&#x27;s private note" in html or "alice's private note" in html


@pytest.mark.parametrize(("name", "kind"), POSTS.items())
def test_a_member_may_write(client, bob, things, name, kind):
    client.force_login(bob)
    response = client.post(url_of(name, kind, things), FORM)
    assert response.status_code in (200, 302)  # saved, or the form with its errors


@pytest.mark.parametrize(
    ("name", "kind"), [(n, k) for n, k in (PAGES | POSTS).items() if k is not None]
)
def test_another_organisation_gets_404_for_every_id(client, charlie, things, name, kind):
    client.force_login(charlie)
    before = snapshot()
    url = url_of(name, kind, things)
    assert client.get(url).status_code == 404
    assert client.post(url, FORM).status_code == 404
    assert client.post(url, FORM, headers={"HX-Request": "true"}).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("name", ["dashboard", "client_list"])
def test_another_organisation_sees_none_of_the_data(client, charlie, things, name):
    client.force_login(charlie)
    html = client.get(reverse(name)).content.decode()
    for secret in ("ACME", "Martin", "secret-tag", "private note", "240"):
        assert secret not in html, secret


def test_another_organisations_search_finds_nothing(client, charlie, things):
    client.force_login(charlie)
    response = client.get(reverse("client_list"), {"q": "acme"})
    assert response.context["rows"] == []
    assert len(response.context["form"].fields["tag"].choices) == 1  # only "All"


def test_a_contact_cannot_be_moved_to_another_organisations_client(client, charlie, things):
    client.force_login(charlie)
    own = Client.objects.create(organisation=charlie.memberships.get().organisation, name="Own")
    response = client.post(reverse("contact_create", args=[things["client"].pk]), FORM)
    assert response.status_code == 404
    assert not Contact.objects.filter(client=own).exists()


@pytest.mark.parametrize("pk", ["0", "99999999999999999999999"])
def test_ids_that_do_not_exist_are_404(client, alice, things, pk):
    client.force_login(alice)
    for path in (f"/clients/{pk}/", f"/clients/{pk}/edit/", f"/contacts/{pk}/edit/"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/clients/{pk}/note/", FORM).status_code == 404


ANONYMOUS = [("get", n, k) for n, k in PAGES.items()] + [
    ("post", n, k) for n, k in [*POSTS.items(), ("switch_organisation", None)]
]


@pytest.mark.parametrize(("method", "name", "kind"), ANONYMOUS)
def test_anonymous_is_sent_to_login(client, things, method, name, kind):
    before = snapshot()
    response = getattr(client, method)(url_of(name, kind, things), FORM)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert snapshot() == before


def test_notes_and_calls_need_a_post(client, alice, things):
    client.force_login(alice)
    assert client.get(reverse("client_note", args=[things["client"].pk])).status_code == 405
    assert client.get(reverse("client_call", args=[things["client"].pk])).status_code == 405
