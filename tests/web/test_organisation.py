from django.urls import reverse

from relance.organisations.models import Organisation

URL = reverse("organisation_settings")


def _data(org: Organisation, **changes: str) -> dict[str, str]:
    data = {
        "legal_name": org.legal_name, "trade_name": "", "legal_form": "SAS",
        "share_capital": "10000", "siren": org.siren, "siret": "", "vat_number": "",
        "rcs_city": "Lyon", "address_line1": "1 rue de la République", "address_line2": "",
        "postcode": "69001", "city": "Lyon", "country": "fr", "email": "compta@example.com",
        "phone": "04 78 00 00 00", "website": "", "iban": "", "bic": "", "currency": "EUR",
        "time_zone": "Europe/Paris", "locale": "fr", "invoice_prefix": "F",
        "credit_note_prefix": "AV", "operation_category": "services",
    }  # fmt: skip
    return data | changes


def test_it_lets_the_owner_change_the_details(client, alice, org):
    client.force_login(alice)
    response = client.post(URL, _data(org, iban="FR76 3000 6000 0112 3456 7890 189"))
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.iban == "FR7630006000011234567890189"
    assert org.country == "FR"
    assert org.phone == "+33478000000"


def test_it_names_a_wrong_siren_and_saves_nothing(client, alice, org):
    client.force_login(alice)
    response = client.post(URL, _data(org, siren="732829321", legal_name="Autre nom"))
    assert response.status_code == 200
    assert "SIREN" in str(response.context["form"].errors["siren"])
    org.refresh_from_db()
    assert org.legal_name == "Atelier Durand SAS"


def test_a_member_reads_but_cannot_change(client, bob, org):
    client.force_login(bob)
    assert client.get(URL).status_code == 200
    assert client.post(URL, _data(org, legal_name="Pirate")).status_code == 403
    org.refresh_from_db()
    assert org.legal_name == "Atelier Durand SAS"


def test_it_shows_only_the_users_own_organisation(client, charlie, org):
    client.force_login(charlie)
    response = client.get(URL)
    assert response.status_code == 200
    assert "Atelier Durand" not in response.content.decode()
