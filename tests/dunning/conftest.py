"""Clients and invoices for the dunning engine's time-travel tests."""

from datetime import date

import pytest


@pytest.fixture
def chased(org):
    """ACME (B2B, French) with a billing contact who has an email and a mobile."""
    from relance.ledger.models import Client, Contact, ContactRole

    client = Client.objects.create(
        organisation=org,
        name="ACME Industries",
        siren="552100554",
        address_line1="3 quai Rambaud",
        postcode="69002",
        city="Lyon",
        language="fr",
    )
    Contact.objects.create(
        organisation=org,
        client=client,
        first_name="Claire",
        last_name="Martin",
        role=ContactRole.BILLING,
        email="factures@acme.example",
        phone="+33612345678",
    )
    return client


@pytest.fixture
def run_day(org):
    """run_day(date) runs the organisation's daily decision for that local day."""
    from relance.dunning import engine

    def run(day: date, **kwargs):
        org.refresh_from_db()
        return engine.run(org, day, **kwargs)

    return run
