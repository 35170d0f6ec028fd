"""Which client an imported invoice goes to: reference, SIREN, VAT number,
then name; a new client otherwise, with a billing contact for its email."""

from __future__ import annotations

import pytest
from importdata import import_file

from relance.ledger.models import Client, Contact, Invoice

pytestmark = pytest.mark.django_db

HEADER = "Number,Client,Client code,SIREN,Email,Date,Total\n"


def client_of(number: str) -> Client:
    return Invoice.objects.get(number=number).client


def test_an_existing_client_is_found_by_siren_reference_or_name(org, client_acme):
    coded = Client.objects.create(organisation=org, name="Boulangerie Martin", reference="C042")
    data = (
        HEADER
        + "F-1,ACME Industries SA,,552 100 554,,2026-01-15,10.00\n"
        + "F-2,Martin & fils,C042,,,2026-01-15,10.00\n"
        + "F-3,acme  INDUSTRIES,,,,2026-01-15,10.00\n"
    )
    batch = import_file(org, data.encode())
    assert batch.clients_created == 0
    assert [client_of(n) for n in ("F-1", "F-2", "F-3")] == [client_acme, coded, client_acme]


def test_a_name_with_another_siren_is_another_client(org, client_acme):
    data = HEADER + "F-1,ACME Industries,,732829320,,2026-01-15,10.00\n"
    batch = import_file(org, data.encode())
    assert batch.clients_created == 1
    new = client_of("F-1")
    assert new != client_acme and (new.name, new.siren) == ("ACME Industries", "732829320")


def test_rows_of_one_new_client_make_one_client(org):
    data = (
        HEADER
        + "F-1,Durand SA,D1,,compta@durand.example,2026-01-15,10.00\n"
        + "F-2,DURAND S.A.,D1,,compta@durand.example,2026-01-16,10.00\n"
        + "F-3,Durand SA,,,,2026-01-17,10.00\n"
    )
    batch = import_file(org, data.encode())
    assert batch.clients_created == 1
    durand = client_of("F-1")
    assert client_of("F-2") == client_of("F-3") == durand
    assert (durand.name, durand.reference, durand.country) == ("Durand SA", "D1", "FR")
    (contact,) = Contact.objects.filter(client=durand)
    assert (contact.email, contact.role, contact.last_name) == (
        "compta@durand.example",
        "billing",
        "Durand SA",
    )


def test_a_known_contact_email_is_not_added_twice(org, client_acme):
    Contact.objects.create(
        organisation=org, client=client_acme, last_name="Compta", email="AP@acme.example"
    )
    data = HEADER + "F-1,ACME Industries,,552100554,ap@acme.example,2026-01-15,10.00\n"
    import_file(org, data.encode())
    assert Contact.objects.filter(client=client_acme).count() == 1


def test_another_organisations_clients_are_never_used(org, other_org):
    stranger = Client.objects.create(organisation=other_org, name="Durand SA", reference="D1")
    import_file(org, (HEADER + "F-1,Durand SA,D1,,,2026-01-15,10.00\n").encode())
    mine = client_of("F-1")
    assert mine != stranger and mine.organisation == org
