"""An organisation and clients complete enough for lawful French invoices."""

from datetime import date
from decimal import Decimal

import pytest

JAN_15 = date(2026, 1, 15)


@pytest.fixture
def acme(new_acme):
    return new_acme(language="fr")


@pytest.fixture
def consumer(org):
    from relance.ledger.models import Client, ClientKind, Contact, ContactRole

    client = Client.objects.create(
        organisation=org,
        kind=ClientKind.INDIVIDUAL,
        name="Jeanne Petit",
        address_line1="8 rue des Lilas",
        postcode="33000",
        city="Bordeaux",
        language="en",
    )
    Contact.objects.create(
        organisation=org,
        client=client,
        first_name="Jeanne",
        last_name="Petit",
        role=ContactRole.BILLING,
        email="jeanne@example.org",
    )
    return client


@pytest.fixture
def net30(org):
    from relance.invoicing.models import PaymentTermsTemplate

    return PaymentTermsTemplate.objects.create(
        organisation=org, name="30 jours", kind="net", days=30, is_default=True
    )


@pytest.fixture
def draft():
    """draft(client, lines=[(description, qty, price, vat)], **fields) -> a draft invoice."""
    from relance.ledger.issuing import create_draft

    def make(client, lines=None, **fields):
        fields.setdefault("issue_date", JAN_15)
        return create_draft(
            client=client,
            lines=lines or [("Design", Decimal(1), Decimal("1000.00"), Decimal(20))],
            **fields,
        )

    return make
