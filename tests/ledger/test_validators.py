"""Legal identifiers, bank details and phone numbers: checked, explained, stored compact."""

import pytest
from django.core.exceptions import ValidationError

from relance import validators
from relance.ledger.models import Client, Contact
from relance.organisations.models import Organisation


def problem(func, value, *args):
    with pytest.raises(ValidationError) as info:
        func(value, *args)
    return info.value.code, " ".join(info.value.messages)


@pytest.mark.parametrize(
    ("func", "value", "compact"),
    [
        (validators.normalise_siren, "732 829 320", "732829320"),
        (validators.normalise_siret, "732 829 320 00074", "73282932000074"),
        (validators.normalise_vat, "fr 44 732829320", "FR44732829320"),
        (validators.normalise_vat, "BE 0403.019.261", "BE0403019261"),
        (validators.normalise_vat, "DE136695976", "DE136695976"),
        (
            validators.normalise_iban,
            "FR76 3000 6000 0112 3456 7890 189",
            "FR7630006000011234567890189",
        ),
        (validators.normalise_iban, "gb33bukb20201555555555", "GB33BUKB20201555555555"),
        (validators.normalise_bic, "bnpa fr pp", "BNPAFRPP"),
        (validators.normalise_bic, "BNPAFRPPXXX", "BNPAFRPPXXX"),
    ],
)
def test_good_values_are_stored_compact(func, value, compact):
    assert func(value) == compact


@pytest.mark.parametrize(
    ("func", "value", "code", "words"),
    [
        (validators.normalise_siren, "732829321", "checksum", "SIREN: the check digit is wrong"),
        (validators.normalise_siren, "73282932", "length", "SIREN: wrong number of characters"),
        (validators.normalise_siren, "ABCDEFGHI", "format", "SIREN: invalid format"),
        (validators.normalise_siret, "73282932000075", "checksum", "SIRET: the check digit"),
        (validators.normalise_siret, "7328293200007", "length", "SIRET: wrong number"),
        (validators.normalise_vat, "FR12732829320", "checksum", "VAT number: the check digit"),
        (validators.normalise_vat, "FR4473282932", "length", "VAT number: wrong number"),
        (validators.normalise_vat, "XX44732829320", "component", "unknown country"),
        (validators.normalise_iban, "FR7630006000011234567890188", "checksum", "IBAN: the check"),
        (validators.normalise_iban, "FR76300060000112345678901", "length", "IBAN: wrong number"),
        (validators.normalise_iban, "XX7630006000011234567890189", "component", "IBAN: unknown"),
        (validators.normalise_iban, "FR76 3000 6000 0112 3456 7890 18X", "format", "IBAN: invalid"),
        (validators.normalise_bic, "BNP", "length", "BIC: wrong number of characters"),
        (validators.normalise_bic, "BNPAXXPP", "component", "BIC: unknown country"),
    ],
)
def test_bad_values_are_refused_with_a_message_naming_the_problem(func, value, code, words):
    got_code, message = problem(func, value)
    assert got_code == code
    assert words in message


def test_field_validators_refuse_what_normalisers_refuse():
    for validate, value in [
        (validators.validate_siren, "732829321"),
        (validators.validate_siret, "73282932000075"),
        (validators.validate_vat, "FR12732829320"),
        (validators.validate_iban, "FR7630006000011234567890188"),
        (validators.validate_bic, "BNP"),
        (validators.validate_currency, "BTC"),
    ]:
        with pytest.raises(ValidationError):
            validate(value)
    validators.validate_currency("EUR")


@pytest.mark.parametrize(
    ("value", "region", "e164"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("01.23.45.67.89", "FR", "+33123456789"),
        ("+33 6 12 34 56 78", "BE", "+33612345678"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0470 12 34 56", "BE", "+32470123456"),
    ],
)
def test_phone_numbers_are_stored_in_e164(value, region, e164):
    assert validators.normalise_phone(value, region) == e164


@pytest.mark.parametrize("value", ["abc", "06 12", "+33 1 23", "+999 123456789"])
def test_bad_phone_numbers_are_refused(value):
    code, message = problem(validators.normalise_phone, value, "FR")
    assert code == "phone"
    assert "phone number" in message


def test_siren_siret_and_french_vat_must_agree():
    assert validators.check_identifiers_agree("732829320", "73282932000074", "FR44732829320") == {}
    errors = validators.check_identifiers_agree("552100554", "73282932000074", "FR44732829320")
    assert set(errors) == {"siret", "vat_number"}
    assert "SIREN 552100554" in errors["siret"].messages[0]
    assert "does not match the SIREN 552100554" in errors["vat_number"].messages[0]


def test_a_foreign_vat_number_is_not_compared_with_the_siren():
    assert validators.check_identifiers_agree("732829320", "", "BE0403019261") == {}


@pytest.mark.django_db
class TestModelCleaning:
    def test_a_client_stores_compact_identifiers(self, org):
        client = Client(
            organisation=org,
            name="ACME",
            siren="",
            siret="732 829 320 00074",
            vat_number="fr44 732 829 320",
        )
        client.full_clean()
        assert (client.siret, client.vat_number) == ("73282932000074", "FR44732829320")
        assert client.siren == "732829320"  # taken from the SIRET

    def test_a_client_whose_identifiers_disagree_is_refused(self, org):
        client = Client(organisation=org, name="ACME", siren="552 100 554", siret="73282932000074")
        with pytest.raises(ValidationError) as info:
            client.full_clean()
        assert set(info.value.message_dict) == {"siret"}

    def test_a_siret_and_a_french_vat_of_another_company_disagree(self, org):
        client = Client(
            organisation=org, name="ACME", siret="73282932000074", vat_number="FR96552100554"
        )
        with pytest.raises(ValidationError) as info:
            client.full_clean()
        assert set(info.value.message_dict) == {"vat_number"}

    def test_a_client_with_a_bad_identifier_is_refused_and_named(self, org):
        client = Client(organisation=org, name="ACME", siren="732829321")
        with pytest.raises(ValidationError) as info:
            client.full_clean()
        assert "check digit" in info.value.message_dict["siren"][0]

    def test_a_cycle_day_needs_a_cycle(self, org):
        client = Client(organisation=org, name="ACME", cycle_day=10)
        with pytest.raises(ValidationError) as info:
            client.full_clean()
        assert set(info.value.message_dict) == {"cycle_months"}

    def test_an_organisation_stores_compact_identifiers_and_phone(self):
        org = Organisation(
            legal_name="Atelier",
            siren="732 829 320",
            vat_number="FR 44 732829320",
            iban="fr76 3000 6000 0112 3456 7890 189",
            bic="bnpafrpp",
            phone="01 23 45 67 89",
        )
        org.full_clean()
        assert org.siren == "732829320"
        assert org.vat_number == "FR44732829320"
        assert org.iban == "FR7630006000011234567890189"
        assert org.bic == "BNPAFRPP"
        assert org.phone == "+33123456789"

    def test_an_organisation_with_a_bad_phone_is_refused(self):
        org = Organisation(legal_name="Atelier", phone="12")
        with pytest.raises(ValidationError) as info:
            org.full_clean()
        assert set(info.value.message_dict) == {"phone"}

    def test_an_organisation_with_a_vat_of_another_siren_is_refused(self):
        org = Organisation(legal_name="Atelier", siren="732829320", vat_number="FR96552100554")
        with pytest.raises(ValidationError) as info:
            org.full_clean()
        assert set(info.value.message_dict) == {"vat_number"}

    def test_a_contact_phone_is_read_in_the_clients_country(self, org):
        client = Client.objects.create(organisation=org, name="Brussels SA", country="BE")
        contact = Contact(
            organisation=org,
            client=client,
            last_name="Peeters",
            phone="0470 12 34 56",
            preferred_channel="sms",
        )
        contact.full_clean()
        assert contact.phone == "+32470123456"

    def test_a_contact_reached_by_email_needs_an_address(self, client_acme):
        contact = Contact(
            organisation=client_acme.organisation, client=client_acme, last_name="Martin"
        )
        with pytest.raises(ValidationError) as info:
            contact.full_clean()
        assert set(info.value.message_dict) == {"email"}

    def test_a_contact_called_by_phone_needs_a_number(self, client_acme):
        contact = Contact(
            organisation=client_acme.organisation,
            client=client_acme,
            last_name="Martin",
            preferred_channel="phone",
        )
        with pytest.raises(ValidationError) as info:
            contact.full_clean()
        assert set(info.value.message_dict) == {"phone"}

    def test_a_contact_with_a_bad_phone_gets_one_phone_error(self, client_acme):
        contact = Contact(
            organisation=client_acme.organisation,
            client=client_acme,
            last_name="Martin",
            phone="12",
            preferred_channel="sms",
        )
        with pytest.raises(ValidationError) as info:
            contact.full_clean()
        assert info.value.message_dict["phone"] == [
            "This phone number is not valid for its country (check the digits and the prefix)."
        ]
