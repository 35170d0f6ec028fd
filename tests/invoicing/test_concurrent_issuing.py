"""Parallel "Issue" clicks on PostgreSQL, through the whole lawful path
(terms, mentions, number, PDF archived): gapless numbers, each PDF its own."""

from datetime import date

import pytest
from django.db import connection

from racing import race
from relance.invoicing.issuing import issue_invoice
from relance.ledger.models import Invoice, NumberSequence

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under real concurrency need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

JAN_15 = date(2026, 1, 15)


def test_parallel_lawful_issuers_get_gapless_numbers_and_their_own_pdf(acme, net30, draft):
    from relance.einvoice.facturx import extract_xml

    drafts = [draft(acme) for _ in range(8)]
    results, errors = race([lambda d=d: issue_invoice(d, as_of=JAN_15).number for d in drafts])
    assert errors == []
    expected = [f"F2026-{n:05d}" for n in range(1, 9)]
    assert sorted(results) == expected
    assert NumberSequence.objects.get().last_value == 8
    for invoice in Invoice.objects.all():
        with invoice.pdf.open("rb") as handle:
            assert f"<ram:ID>{invoice.number}</ram:ID>".encode() in extract_xml(handle.read())
