"""The web pages issue invoices the lawful way (relance.invoicing.issuing):
the organisation and the client of these tests carry what French law
requires on an invoice, so issuing works unless a test takes a mention away."""

from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture
def org(org):
    org.address_line1 = "12 rue de la Paix"
    org.postcode = "75002"
    org.city = "Paris"
    org.vat_number = "FR44732829320"
    org.share_capital = Decimal("10000")
    org.rcs_city = "Paris"
    org.email = "compta@atelier-durand.fr"
    org.iban = "FR7630006000011234567890189"
    org.bic = "AGRIFRPP"
    org.save()
    return org


@pytest.fixture
def client_acme(client_acme):
    client_acme.address_line1 = "3 quai Rambaud"
    client_acme.postcode = "69002"
    client_acme.city = "Lyon"
    client_acme.save()
    return client_acme
