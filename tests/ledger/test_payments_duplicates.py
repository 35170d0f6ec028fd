"""Duplicate payments: found before a second record is saved (seed 003)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.ledger.models import Client
from relance.ledger.settlement import find_duplicates, record_payment, reverse_payment
from relance.rules.duplicates import Candidate, is_duplicate, normalise_reference

pytestmark = pytest.mark.django_db

D = Decimal
DAY = date(2026, 2, 10)


def credit(client, amount="120.00", reference="VIR 2026/001", day=DAY, payer=""):
    return record_payment(
        client=client,
        amount=D(amount),
        currency="EUR",
        date=day,
        shares=[],
        reference=reference,
        payer_name=payer,
        keep_excess_as_credit=True,
    )


def test_same_client_amount_and_reference_within_30_days(client_acme):
    earlier = credit(client_acme)
    found = find_duplicates(client_acme, D("120.00"), "EUR", "vir-2026-001", date(2026, 3, 12))
    assert found == [earlier]
    assert find_duplicates(client_acme, D("120.00"), "EUR", "VIR 2026/001", date(2026, 3, 13)) == []
    assert find_duplicates(client_acme, D("120.01"), "EUR", "VIR 2026/001", DAY) == []
    assert find_duplicates(client_acme, D("120.00"), "USD", "VIR 2026/001", DAY) == []
    assert find_duplicates(client_acme, D("120.00"), "EUR", "VIR 2026/002", DAY) == []


def test_same_payer_name_under_another_client(org, client_acme):
    other = Client.objects.create(organisation=org, name="ACME (old record)")
    earlier = credit(client_acme, payer="ACME Industries SA")
    found = find_duplicates(
        other, D("120.00"), "EUR", "VIR 2026/001", DAY, payer_name="acme industries s.a."
    )
    assert found == [earlier]
    # The bank matcher may know only the payer and the organisation.
    assert find_duplicates(
        None, D("120.00"), "EUR", "VIR2026001", DAY, payer_name="ACME INDUSTRIES SA",
        organisation_id=org.pk,
    ) == [earlier]  # fmt: skip


def test_without_reference_only_within_a_few_days(client_acme):
    earlier = credit(client_acme, reference="")
    assert find_duplicates(client_acme, D("120.00"), "EUR", "", date(2026, 2, 13)) == [earlier]
    assert find_duplicates(client_acme, D("120.00"), "EUR", "", date(2026, 2, 20)) == []


def test_a_reversed_payment_is_no_duplicate(client_acme):
    earlier = credit(client_acme)
    reverse_payment(earlier, date=DAY, reason="Bounced")
    assert find_duplicates(client_acme, D("120.00"), "EUR", "VIR 2026/001", DAY) == []


def test_other_organisations_are_not_searched(client_acme, other_org):
    credit(client_acme)
    stranger = Client.objects.create(organisation=other_org, name="ACME Industries")
    assert find_duplicates(stranger, D("120.00"), "EUR", "VIR 2026/001", DAY) == []


@given(st.text(max_size=30), st.integers(0, 60))
def test_the_rule_is_symmetric(reference, days):
    a = Candidate("ACME", D("10.00"), "EUR", reference, DAY)
    b = Candidate(
        "Acme", D("10.00"), "EUR", reference.lower(), date.fromordinal(DAY.toordinal() + days)
    )
    assert is_duplicate(a, b) == is_duplicate(b, a)
    assert normalise_reference(reference) == normalise_reference(normalise_reference(reference))
