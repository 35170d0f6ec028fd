"""French first: a new visitor reads French whatever the browser says."""

from django.urls import reverse


def _language(response) -> str:
    return response.headers["Content-Language"]


def test_a_new_visitor_reads_french_even_with_an_english_browser(client_fr, db):
    response = client_fr.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"})
    assert _language(response) == "fr"
    assert '<html lang="fr">' in response.content.decode()


def test_the_organisation_language_applies_to_its_members(client_fr, alice, org):
    org.locale = "en"
    org.save()
    client_fr.force_login(alice)
    assert _language(client_fr.get(reverse("organisation_settings"))) == "en"


def test_the_persons_choice_wins(client_fr, alice):
    client_fr.force_login(alice)
    response = client_fr.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert _language(client_fr.get(reverse("organisation_settings"))) == "en"
    client_fr.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert _language(client_fr.get(reverse("organisation_settings"))) == "fr"
